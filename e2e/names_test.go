package e2e

import (
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/wgboot/wgboot/image"
	"github.com/wgboot/wgboot/image/imagetest"
)

// namesZone is the hub's DNS zone for the endpoint name tests: the hub
// under two names, the second a CNAME of the first, and a name without
// addresses whose answers over UDP are truncated (so asked again over
// TCP, where they are NODATA).
const namesZone = hubZone + `hub2.wgboot.test CNAME hub.wgboot.test
empty.wgboot.test TC
`

// testKey is the public key of a test key file of board/profiles/keys.
func testKey(t *testing.T, name string) string {
	return publicKeyOf(t, filepath.Join(profilesDir(t), "keys", name))
}

// hostByte is the last byte of each client's tunnel addresses.
var hostByte = map[string]int{"amd64": 2, "arm64": 3}

// secondHubTunnel is wg1 on the hub: a second identity (hub2.key) on port
// 51821, with both clients as peers.
func secondHubTunnel(t *testing.T) string {
	s := `
[[tunnel]]
name = "wg1"
private_key_file = "keys/hub2.key"
listen_port = 51821
address = ["10.78.0.1/24"]
table = "main"
`
	for _, arch := range arches {
		s += fmt.Sprintf(`
[[tunnel.peer]]
public_key = %q
preshared_key_file = "keys/qemu-%s-hub.psk"
allowed_ips = ["10.78.0.%d/32"]
`, testKey(t, "qemu-"+arch+".key"), arch, hostByte[arch])
	}
	return s
}

// secondClientTunnel is the client's wg1 to the hub's, reached by the
// hub's second name.
func secondClientTunnel(t *testing.T, arch string) string {
	return fmt.Sprintf(`
[[tunnel]]
name = "wg1"
private_key_file = "keys/qemu-%[1]s.key"
listen_port = 51822
address = ["10.78.0.%[2]d/24"]
table = "main"

[[tunnel.peer]]
public_key = %[3]q
preshared_key_file = "keys/qemu-%[1]s-hub.psk"
endpoint = "hub2.wgboot.test:51821"
allowed_ips = ["10.78.0.0/24"]
persistent_keepalive = 25
`, arch, hostByte[arch], testKey(t, "hub2.key"))
}

// onlyClient applies edit to the client profile of arch alone.
func onlyClient(arch string, edit func(string, []byte) []byte) func(string, []byte) []byte {
	return func(name string, data []byte) []byte {
		if name != "qemu-"+arch+".toml" {
			return data
		}
		return edit(name, data)
	}
}

// withDNS gives the client's uplink the hub as its name server.
func withDNS(t *testing.T) func(string, []byte) []byte {
	return replace(t, `carrier_timeout = "10s"`, `carrier_timeout = "10s"`+"\n"+`dns = ["192.168.50.1"]`)
}

// chain applies edits in turn.
func chain(edits ...func(string, []byte) []byte) func(string, []byte) []byte {
	return func(name string, data []byte) []byte {
		for _, e := range edits {
			data = e(name, data)
		}
		return data
	}
}

// appendText adds text at the end of a profile.
func appendText(text string) func(string, []byte) []byte {
	return func(_ string, data []byte) []byte { return append(append([]byte(nil), data...), text...) }
}

// startNamesHub boots the hub with its second tunnel and the names zone,
// and waits until its DNS server answers (or, with dns "off" or "silent",
// says it will not): a client that asked before would find no server and
// end its lookups, and that is a fault row of its own.
func startNamesHub(t *testing.T, arch, dns string) (*image.VM, image.Net) {
	hc := hubConfig{
		zone: namesZone,
		edit: func(name string, data []byte) []byte {
			if name != "hub.toml" {
				return data
			}
			return appendText(secondHubTunnel(t))(name, data)
		},
	}
	ready := map[string]string{"": `testhub: dns: serving`, "off": `testhub: dns: off`, "silent": `testhub: dns: silent`}[dns]
	if dns != "" {
		hc.append = []string{"testhub.dns=" + dns}
	}
	hub, cliNet := startHubWith(t, arch, hc)
	imagetest.Expect(t, hub, ready, bootTimeout)
	return hub, cliNet
}

// startNamesClient boots the client of arch with a root disk on cliNet,
// its profile edited, pinging pings after switch_root.
func startNamesClient(t *testing.T, arch string, cliNet image.Net, edit func(string, []byte) []byte, pings string) *image.VM {
	edit = onlyClient(arch, edit)
	return guest{
		arch:     arch,
		profiles: allProfiles(t),
		edit:     edit,
		disk:     rootDiskWith(t, arch, expectProfile(t, arch, edit)),
		append:   []string{"testroot.ping=" + pings},
		nets:     []image.Net{cliNet},
	}.boot(t, "client")
}

// TestE2ENames is the story of a board that reaches its hub by name, as a
// router would: the client's uplink gets its address and name server by
// DHCP (dhcp = true), its profile names the hub (hub.wgboot.test) and a
// second tunnel, wg1, to the hub's second port by its second name (a
// CNAME); the hub serves DHCP and the names on its uplink. wgboot resolves
// both through the lease's DNS server, brings up both tunnels, completes
// both handshakes and switch_roots; testroot finds the endpoints the state
// file names in the kernel, the lease on the uplink, and pings the hub
// through each tunnel.
func TestE2ENames(t *testing.T) {
	for _, arch := range arches {
		t.Run(arch, func(t *testing.T) {
			t.Parallel()
			hub, cliNet := startNamesHub(t, arch, "")
			cli := startNamesClient(t, arch, cliNet, chain(
				replace(t, `endpoint = "192.168.50.1:51820"`, `endpoint = "hub.wgboot.test:51820"`),
				editUplink(t, arch, "dhcp = true\naddress = [\"$1\"]\n"),
				appendText(secondClientTunnel(t, arch)),
			), "10.77.0.1,10.78.0.1")

			imagetest.Expect(t, cli, `wgboot: uplink eth0: dhcp: lease 192\.168\.50\.102/24 from 192\.168\.50\.1 `, bootTimeout)
			imagetest.Expect(t, cli, `wgboot: name servers: 192\.168\.50\.1\s*$`, stepTimeout)
			imagetest.Expect(t, cli, `wgboot: resolve: hub\.wgboot\.test: 192\.168\.50\.1 fd50::1 from 192\.168\.50\.1:53 in `, bootTimeout)
			imagetest.Expect(t, cli, `wgboot: resolve: hub2\.wgboot\.test: 192\.168\.50\.1 fd50::1 via CNAME hub\.wgboot\.test\. from 192\.168\.50\.1:53`, stepTimeout)
			imagetest.Expect(t, cli, `wgboot: tunnel wg0: peer \S+: endpoint hub\.wgboot\.test:51820 \(192\.168\.50\.1:51820\), then hub\.wgboot\.test:51820 \(\[fd50::1\]:51820\)`, stepTimeout)
			imagetest.Expect(t, cli, `wgboot: tunnel wg1: peer \S+: endpoint hub2\.wgboot\.test:51821 \(192\.168\.50\.1:51821\)`, stepTimeout)
			imagetest.Expect(t, cli, `wgboot: tunnel wg0: handshake with 1 peer\(s\) in`, stepTimeout)
			imagetest.Expect(t, cli, `wgboot: tunnel wg1: handshake with 1 peer\(s\) in`, stepTimeout)
			ready := imagetest.Expect(t, cli, `wgboot: READY in`, stepTimeout)
			t.Logf("%s client: %s", arch, ready)
			if !strings.Contains(ready, " resolve=") {
				t.Errorf("no resolve phase in %q", ready)
			}
			imagetest.Expect(t, cli, `wgboot: handoff: switch_root to /dev/vda`, stepTimeout)
			imagetest.Expect(t, cli, `testroot: endpoint wg0 \S+ 192\.168\.50\.1:51820 from hub\.wgboot\.test:51820 tried \[\]`, stepTimeout)
			imagetest.Expect(t, cli, `testroot: endpoint wg1 \S+ 192\.168\.50\.1:51821 from hub2\.wgboot\.test:51821 tried \[\]`, stepTimeout)
			verdict := imagetest.Expect(t, cli, `testroot: (OK|FAIL)`, stepTimeout)
			if !strings.Contains(verdict, "OK tunnel=wg0 up peers=1 handshake=true pings=20/20 ready=true checked=2") ||
				!strings.Contains(verdict, "endpoints=2 lease=192.168.50.102/24") {
				t.Errorf("after switch_root: %s", verdict)
			}
			if err := cli.Wait(stepTimeout); err != nil {
				t.Errorf("client did not power off: %v", err)
			}
			// The hub's server answered the client's queries.
			re := `testhub: dns: udp 192\.168\.50\.102:\d+ A hub2\.wgboot\.test\. → NOERROR \[CNAME hub\.wgboot\.test\. 192\.168\.50\.1\]`
			if _, err := hub.ExpectAny(regexp.MustCompile(re), stepTimeout); err != nil {
				t.Errorf("hub: %v", err)
			}
			noPanic(t, cli)
			noPanic(t, hub)
		})
	}
}

// TestE2ENameFaults are the fault matrix's rows for endpoints by name, each
// ending in the declared policy with a clear log line.
func TestE2ENameFaults(t *testing.T) {
	type row struct {
		name   string
		dns    string // testhub.dns=
		edit   func(t *testing.T) func(string, []byte) []byte
		expect []string
		exits  bool
	}
	rows := []row{
		{
			// The DNS server is down (nothing listens on the hub's
			// port 53: ICMP port unreachable), and the peer has an
			// address among its fallbacks: the tunnel comes up
			// through it.
			name: "dns-down-fallback",
			dns:  "off",
			edit: func(t *testing.T) func(string, []byte) []byte {
				return chain(withDNS(t), replace(t, `endpoint = "192.168.50.1:51820"`,
					`endpoint = "hub.wgboot.test:51820"`+"\n"+`fallback_endpoints = ["192.168.50.1:51820"]`))
			},
			expect: []string{
				`resolve: hub\.wgboot\.test: 192\.168\.50\.1:53: .*(connection refused|no answer)`,
				`tunnel wg0: peer \S+: endpoint 192\.168\.50\.1:51820\s*$`,
				`tunnel wg0: handshake with 1 peer\(s\) in`,
				`READY in`,
				`testroot: endpoint wg0 \S+ 192\.168\.50\.1:51820 from 192\.168\.50\.1:51820 tried \[\]`,
				`testroot: OK .* pings=10/10 ready=true`,
			},
			exits: true,
		},
		{
			// The first endpoint is dead (no host has its address):
			// after endpoint_timeout the gate switches to the next,
			// the hub by name, and the handshake completes.
			name: "first-endpoint-dead",
			edit: func(t *testing.T) func(string, []byte) []byte {
				return chain(withDNS(t), replace(t, `endpoint = "192.168.50.1:51820"`,
					`endpoint = "192.168.50.9:51820"`+"\n"+`fallback_endpoints = ["hub.wgboot.test:51820"]`+"\n"+`endpoint_timeout = "5s"`))
			},
			expect: []string{
				`tunnel wg0: peer \S+: endpoint 192\.168\.50\.9:51820, then hub\.wgboot\.test:51820 \(192\.168\.50\.1:51820\)`,
				`tunnel wg0: peer \S+: no handshake through 192\.168\.50\.9:51820 within 5s; trying hub\.wgboot\.test:51820 \(192\.168\.50\.1:51820\)`,
				`tunnel wg0: handshake with 1 peer\(s\) in`,
				`READY in`,
				`testroot: endpoint wg0 \S+ 192\.168\.50\.1:51820 from hub\.wgboot\.test:51820 tried \[192\.168\.50\.9:51820 192\.168\.50\.1:51820\]`,
				`testroot: OK .* pings=10/10 ready=true`,
			},
			exits: true,
		},
		{
			// The only endpoint's name does not exist: the resolve
			// phase fails naming the host, and the policy (halt here)
			// follows.
			name: "nxdomain",
			edit: func(t *testing.T) func(string, []byte) []byte {
				return chain(withDNS(t), replace(t, `endpoint = "192.168.50.1:51820"`, `endpoint = "nothere.wgboot.test:51820"`,
					`on_failure = "continue"`, `on_failure = "halt"`))
			},
			expect: []string{
				`resolve: nothere\.wgboot\.test: no such host \(NXDOMAIN\) from 192\.168\.50\.1:53`,
				`phase resolve failed .*tunnel wg0: peer \S+: no address for any endpoint: nothere\.wgboot\.test: no such host \(NXDOMAIN\)`,
				`policy halt: halting`,
			},
			exits: true,
		},
		{
			// The DNS server is up but answers nothing (no ICMP
			// error either): each round waits longer (1, 2, 4 s),
			// then the phase fails naming the host, the server and
			// the wait, and the policy (continue: hand off without
			// the tunnel) follows.
			name: "dns-silent",
			dns:  "silent",
			edit: func(t *testing.T) func(string, []byte) []byte {
				return chain(withDNS(t), replace(t, `endpoint = "192.168.50.1:51820"`, `endpoint = "hub.wgboot.test:51820"`))
			},
			expect: []string{
				`resolve: hub\.wgboot\.test: 192\.168\.50\.1:53: no answer within 4s`,
				`phase resolve failed after [7-9]\.\d+s: tunnel wg0: peer \S+: no address for any endpoint: hub\.wgboot\.test: 192\.168\.50\.1:53: no answer within 4s`,
				`policy continue: handing off without the tunnel`,
				`handoff: switch_root to /dev/vda`,
			},
			exits: true,
		},
		{
			// The name exists without addresses (NODATA, after a
			// truncated answer over UDP and a retry over TCP): a
			// warning naming the host, and the peer's fallback
			// address brings the tunnel up.
			name: "nodata-fallback",
			edit: func(t *testing.T) func(string, []byte) []byte {
				return chain(withDNS(t), replace(t, `endpoint = "192.168.50.1:51820"`,
					`endpoint = "empty.wgboot.test:51820"`+"\n"+`fallback_endpoints = ["192.168.50.1:51820"]`))
			},
			expect: []string{
				`resolve: empty\.wgboot\.test: no A or AAAA records from 192\.168\.50\.1:53`,
				`tunnel wg0: peer \S+: endpoint 192\.168\.50\.1:51820\s*$`,
				`tunnel wg0: handshake with 1 peer\(s\) in`,
				`READY in`,
				`testroot: OK .* pings=10/10 ready=true`,
			},
			exits: true,
		},
	}
	for _, arch := range arches {
		for _, r := range rows {
			t.Run(arch+"/"+r.name, func(t *testing.T) {
				t.Parallel()
				hub, cliNet := startNamesHub(t, arch, r.dns)
				cli := startNamesClient(t, arch, cliNet, r.edit(t), "10.77.0.1")
				timeout := bootTimeout
				for _, re := range r.expect {
					if _, err := cli.ExpectAny(regexp.MustCompile(re), timeout); err != nil {
						t.Fatalf("console: %v", err)
					}
					timeout = stepTimeout
				}
				if r.exits {
					if err := cli.Wait(stepTimeout); err != nil {
						t.Errorf("client did not stop: %v", err)
					}
				}
				noPanic(t, cli)
				noPanic(t, hub)
			})
		}
	}
}
