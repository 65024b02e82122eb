package e2e

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/wgboot/wgboot/image"
	"github.com/wgboot/wgboot/image/imagetest"
)

// TestE2EClockNTP is issue 16's clock story against one hub. Boot 1: the
// client handshakes with the hub, which keeps the initiation's timestamp.
// Boot 2: the client's clock has lost a day (wgboot.test=clockback); with
// [clock] ntp on the hub (testhub's NTP server) the ntp phase sets it right
// before the tunnels, and the handshake completes within seconds. Boot 3:
// the same clock without NTP: the hub drops every initiation (its kernel
// log says so, with dynamic debug), and the boot fails its handshake wait
// with the failure in its log.
func TestE2EClockNTP(t *testing.T) {
	for _, arch := range arches {
		t.Run(arch, func(t *testing.T) {
			t.Parallel()
			hub, cliNet := startHub(t, arch, "wireguard.dyndbg=+p", "loglevel=8")
			own := func(pairs ...string) func(string, []byte) []byte {
				edit := replace(t, pairs...)
				return func(name string, data []byte) []byte {
					if name != "qemu-"+arch+".toml" {
						return data
					}
					return edit(name, data)
				}
			}
			withNTP := own("[uplink]", "[clock]\nntp = [\"192.168.50.1\"]\n\n[uplink]")
			client := func(name string, edit func(string, []byte) []byte, extra ...string) *image.VM {
				return guest{
					arch:     arch,
					profiles: allProfiles(t),
					edit:     edit,
					disk:     rootDiskWith(t, arch, expectProfile(t, arch, edit)),
					append:   append([]string{"testroot.ping=10.77.0.1"}, extra...),
					nets:     []image.Net{cliNet},
				}.boot(t, name)
			}
			reHandshake := regexp.MustCompile(`wgboot: tunnel wg0: handshake with 1 peer\(s\) in (\S+)`)

			cli := client("client-boot1", withNTP)
			imagetest.Expect(t, cli, `wgboot: clock: ntp 192\.168\.50\.1:123 \(stratum 1`, bootTimeout)
			imagetest.Expect(t, cli, reHandshake.String(), stepTimeout)
			if v := imagetest.Expect(t, cli, `testroot: (OK|FAIL)`, stepTimeout); !strings.Contains(v, "pings=10/10") {
				t.Errorf("boot 1, after switch_root: %s", v)
			}
			if err := cli.Wait(stepTimeout); err != nil {
				t.Fatalf("boot 1: client did not power off: %v", err)
			}

			cli = client("client-boot2", withNTP, "wgboot.test=clockback")
			imagetest.Expect(t, cli, `wgboot: test: clock set back a day`, bootTimeout)
			imagetest.Expect(t, cli, `wgboot: clock: ntp 192\.168\.50\.1:123 \(stratum 1.*stepped 2[34]h`, stepTimeout)
			line := imagetest.Expect(t, cli, reHandshake.String(), stepTimeout)
			if d, err := time.ParseDuration(reHandshake.FindStringSubmatch(line)[1]); err != nil || d > 5*time.Second {
				t.Errorf("boot 2: handshake in %v (%v), want within seconds", d, err)
			}
			t.Logf("%s boot 2: %s", arch, line)
			if v := imagetest.Expect(t, cli, `testroot: (OK|FAIL)`, stepTimeout); !strings.Contains(v, "pings=10/10") {
				t.Errorf("boot 2, after switch_root: %s", v)
			}
			if err := cli.Wait(stepTimeout); err != nil {
				t.Fatalf("boot 2: client did not power off: %v", err)
			}

			// Boot 3: no NTP, no saved clock. Another port, as a board
			// behind NAT would have: the hub's own initiations to the
			// endpoint it knew from boot 2 (which a responder without a
			// timestamp of the hub's would accept) reach nobody.
			noNTP := own(`wait_handshake = "20s"`, `wait_handshake = "8s"`, `listen_port = 51820`, `listen_port = 51821`)
			cli = client("client-boot3", noNTP, "wgboot.test=clockback")
			imagetest.Expect(t, cli, `wgboot: test: clock set back a day`, bootTimeout)
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
