package e2e

import (
	"strings"
	"testing"

	"github.com/wgboot/wgboot/image"
	"github.com/wgboot/wgboot/image/imagetest"
)

// TestE2EUplinkByMAC: a client with two NICs, the first on a link nobody
// answers and the second on the hub's, whose profile gives the uplink by
// the second NIC's mac instead of interface = "eth0". wgboot finds eth1 by
// its address, and the tunnel comes up over it.
func TestE2EUplinkByMAC(t *testing.T) {
	const mac = "52:54:00:12:34:56"
	for _, arch := range arches {
		t.Run(arch, func(t *testing.T) {
			t.Parallel()
			hub, cliNet := startHub(t, arch)
			dead, _ := link(t)
			dead.MAC = "52:54:00:aa:00:01"
			cliNet.MAC = mac
			byMAC := replace(t, `interface = "eth0"`, `mac = "`+mac+`"`)
			edit := func(name string, data []byte) []byte {
				if name != "qemu-"+arch+".toml" {
					return data
				}
				return byMAC(name, data)
			}
			cli := guest{
				arch:     arch,
				profiles: allProfiles(t),
				edit:     edit,
				disk:     rootDiskWith(t, arch, expectProfile(t, arch, edit)),
				append:   []string{"testroot.ping=10.77.0.1"},
				nets:     []image.Net{dead, cliNet},
			}.boot(t, "client")

			imagetest.Expect(t, cli, `wgboot: uplink: eth1 has the address `+mac, bootTimeout)
			imagetest.Expect(t, cli, `wgboot: uplink eth1: address 192\.168\.50\.\d+/24`, stepTimeout)
			imagetest.Expect(t, cli, `wgboot: tunnel wg0: handshake with 1 peer\(s\) in`, stepTimeout)
			verdict := imagetest.Expect(t, cli, `testroot: (OK|FAIL)`, stepTimeout)
			if !strings.Contains(verdict, "OK tunnel=wg0 up peers=1 handshake=true") || !strings.Contains(verdict, "pings=10/10") {
				t.Errorf("after switch_root: %s", verdict)
			}
			if err := cli.Wait(stepTimeout); err != nil {
				t.Errorf("client did not power off: %v", err)
			}
			noPanic(t, cli)
			noPanic(t, hub)
		})
	}
}
