package e2e

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/wgboot/wgboot/image"
	"github.com/wgboot/wgboot/image/imagetest"
)

// TestE2EClockNTP is issue 16's clock story against one hub, on the fleet
// disk. Boot 1: the client handshakes with the hub, which keeps the
// initiation's timestamp, and saves its clock at the end. Then the
// client's clock has lost a day (wgboot.test=clockback) at every boot.
// Boot 2, save_clock without NTP: the saved clock sets it forward, and the
// handshake completes within seconds. Boot 3, [clock] ntp by host name
// without the saved clock: the ntp phase looks the name up with the
// hub's DNS server, asks its first address (nobody there) and then its
// second (testhub's NTP server), which sets the clock right before the
// tunnels, and so does the handshake. Boot 4, neither: the hub drops
// every initiation (its kernel log says so, with dynamic debug), and the
// boot fails its handshake wait with the failure in its log.
func TestE2EClockNTP(t *testing.T) {
	for _, arch := range arches {
		t.Run(arch, func(t *testing.T) {
			t.Parallel()
			// time.wgboot.test: an address where nobody answers, then the hub's.
			hub, cliNet := startHubWith(t, arch, hubConfig{
				zone:   hubZone + "time.wgboot.test A 192.168.50.9\ntime.wgboot.test A 192.168.50.1\n",
				append: []string{"wireguard.dyndbg=+p", "loglevel=8"},
			})
			const (
				persist = "[persist]\ndevice = \"LABEL=wgboot\"\nfstype = \"ext4\"\n"
				ntp     = "[clock]\nntp = [\"time.wgboot.test\"]\n"
			)
			own := func(tables string, pairs ...string) func(string, []byte) []byte {
				edit := replace(t, append([]string{"[uplink]", tables + "\n[uplink]", `root = "/dev/vda"`, `root = "PARTLABEL=root"`}, pairs...)...)
				return func(name string, data []byte) []byte {
					if name != "qemu-"+arch+".toml" {
						return data
					}
					return edit(name, data)
				}
			}
			disk := fleetDisk(t, arch, true, nil, expectProfile(t, arch, own(persist)))
			client := func(name string, edit func(string, []byte) []byte, extra ...string) *image.VM {
				return guest{
					arch:     arch,
					profiles: allProfiles(t),
					edit:     edit,
					disk:     disk,
					append:   append([]string{"testroot.ping=10.77.0.1"}, extra...),
					nets:     []image.Net{cliNet},
				}.boot(t, name)
			}
			reHandshake := regexp.MustCompile(`wgboot: tunnel wg0: handshake with 1 peer\(s\) in (\S+)`)
			handshake := func(cli *image.VM, boot string) {
				t.Helper()
				line := imagetest.Expect(t, cli, reHandshake.String(), stepTimeout)
				// Within one REKEY_TIMEOUT retry (5 s) and a margin: the
				// hub's own initiation may cross the client's first one,
				// and WireGuard retries after 5 s. A clock the hub does
				// not accept never completes it.
				if d, err := time.ParseDuration(reHandshake.FindStringSubmatch(line)[1]); err != nil || d > 12*time.Second {
					t.Errorf("%s: handshake in %v (%v), want within seconds", boot, d, err)
				}
				t.Logf("%s %s: %s", arch, boot, line)
				if v := imagetest.Expect(t, cli, `testroot: (OK|FAIL)`, stepTimeout); !strings.Contains(v, "pings=10/10") {
					t.Errorf("%s, after switch_root: %s", boot, v)
				}
				if err := cli.Wait(stepTimeout); err != nil {
					t.Fatalf("%s: client did not power off: %v", boot, err)
				}
				noPanic(t, cli)
			}
			saved := own(persist + "save_clock = true\n")

			cli := client("client-boot1", saved)
			imagetest.Expect(t, cli, `wgboot: clock: no saved clock yet`, bootTimeout)
			handshake(cli, "boot 1")

			cli = client("client-boot2", saved, "wgboot.test=clockback")
			imagetest.Expect(t, cli, `wgboot: test: clock set back a day`, bootTimeout)
			imagetest.Expect(t, cli, `wgboot: clock: \S+, before the saved clock: set to `, stepTimeout)
			handshake(cli, "boot 2 (saved clock)")

			cli = client("client-boot3", own(persist+"\n"+ntp, `interface = "eth0"`, `interface = "eth0"`+"\n"+`dns = ["192.168.50.1"]`), "wgboot.test=clockback")
			imagetest.Expect(t, cli, `wgboot: test: clock set back a day`, bootTimeout)
			imagetest.Expect(t, cli, `wgboot: resolve: time\.wgboot\.test: 192\.168\.50\.9 192\.168\.50\.1 from 192\.168\.50\.1:53`, stepTimeout)
			imagetest.Expect(t, cli, `wgboot: clock: ntp time\.wgboot\.test at 192\.168\.50\.1:123 \(stratum 1.*stepped 2[34]h`, stepTimeout)
			handshake(cli, "boot 3 (NTP)")

			// Boot 4: neither. Another port, as a board behind NAT would
			// have: the hub's own initiations to the endpoint it knew
			// (which a responder without a timestamp of the hub's would
			// accept) reach nobody.
			cli = client("client-boot4", own(persist, `wait_handshake = "20s"`, `wait_handshake = "8s"`, `listen_port = 51820`, `listen_port = 51821`),
				"wgboot.test=clockback")
			imagetest.Expect(t, cli, `wgboot: test: clock set back a day`, bootTimeout)
			imagetest.Expect(t, cli, `wgboot: clock: \S+ \(neither \[clock\] ntp nor \[persist\] save_clock set it\): a peer that accepted a handshake from this board at a later time drops its initiations`, stepTimeout)
			imagetest.Expect(t, cli, `wgboot: .*tunnel wg0: no handshake with every peer within 8s`, stepTimeout)
			if _, err := hub.ExpectAny(regexp.MustCompile(`wireguard: wg0: Invalid handshake initiation from`), 10*time.Second); err != nil {
				t.Errorf("hub: no dropped initiation in its kernel log: %v", err)
			}
			cli.Wait(stepTimeout)
			noPanic(t, cli)
			noPanic(t, hub)
		})
	}
}
