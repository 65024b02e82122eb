package e2e

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/wgboot/wgboot/image"
	"github.com/wgboot/wgboot/image/imagetest"
)

// allProfiles is what a fleet image carries: every board's profile, and
// the hub's. Each guest picks its own by DMI or device tree.
func allProfiles(t *testing.T) []string {
	d := profilesDir(t)
	return []string{filepath.Join(d, "qemu-amd64.toml"), filepath.Join(d, "qemu-arm64.toml"), filepath.Join(d, "hub.toml")}
}

// startHub boots the hub guest on one end of a fresh link and returns the
// other end for the client. The hub's wgboot hands off to testhub, which
// serves DHCP and DNS on the link (and more, as extra kernel parameters such
// as testhub.ra=PREFIX ask).
func startHub(t *testing.T, arch string, extra ...string) (*image.VM, image.Net) {
	return startHubWith(t, arch, hubConfig{append: extra})
}

// hubConfig varies the hub guest.
type hubConfig struct {
	edit   func(name string, data []byte) []byte // changes the profiles
	zone   string                                // the DNS zone testhub serves; "": hubZone
	append []string                              // more kernel parameters
	files  []image.File                          // more files in the hub's image
}

// hubZone is what the hub's DNS server knows by default: itself.
const hubZone = `hub.wgboot.test A 192.168.50.1
hub.wgboot.test AAAA fd50::1
`

// startHubWith boots a hub guest as startHub does, varied by hc.
func startHubWith(t *testing.T, arch string, hc hubConfig) (*image.VM, image.Net) {
	hubNet, cliNet := link(t)
	hubNet.MAC, cliNet.MAC = "52:54:00:77:00:01", "52:54:00:77:00:02"
	bin, err := os.ReadFile(imagetest.BuildPackage(t, arch, "./image/testhub"))
	if err != nil {
		t.Fatal(err)
	}
	zone := hc.zone
	if zone == "" {
		zone = hubZone
	}
	hub := guest{
		arch:     arch,
		profiles: allProfiles(t),
		edit:     hc.edit,
		files: append([]image.File{
			{Path: "/sbin/testhub", Data: bin, Mode: 0o755},
			{Path: "/etc/testhub/zone", Data: []byte(zone), Mode: 0o644},
		}, hc.files...),
		append: append([]string{"wgboot.board=hub"}, hc.append...),
		nets:   []image.Net{hubNet},
	}.boot(t, "hub")
	return hub, cliNet
}

// startClient boots the client guest of arch, with a root disk, on cliNet;
// edit, if not nil, changes the profiles first.
func startClient(t *testing.T, arch string, cliNet image.Net, edit func(string, []byte) []byte) *image.VM {
	return guest{
		arch:     arch,
		profiles: allProfiles(t),
		edit:     edit,
		disk:     rootDiskWith(t, arch, expectProfile(t, arch, edit)),
		append:   []string{"testroot.ping=10.77.0.1"},
		nets:     []image.Net{cliNet},
	}.boot(t, "client")
}

// expectProfile is the client's profile, edited like the image's, for
// testroot to check the kernel state against after switch_root. It has no
// keys: only the paths of key files.
func expectProfile(t *testing.T, arch string, edit func(string, []byte) []byte) []image.File {
	name := "qemu-" + arch + ".toml"
	data, err := os.ReadFile(filepath.Join(profilesDir(t), name))
	if err != nil {
		t.Fatal(err)
	}
	if edit != nil {
		data = edit(name, data)
	}
	return []image.File{{Path: "/etc/wgboot-expect/profile.toml", Data: data}}
}

// TestE2ETunnel is the whole story on each arch: a hub guest and a client
// guest on a point-to-point Ethernet; the client's wgboot picks its profile
// by board identity, loads the modules, brings up the uplink and the
// tunnel, waits for the handshake, and switch_roots into an ext4 disk whose
// init checks the tunnel is still up and pings the hub through it.
func TestE2ETunnel(t *testing.T) {
	for _, arch := range arches {
		t.Run(arch, func(t *testing.T) {
			t.Parallel()
			hub, cliNet := startHub(t, arch)
			cli := startClient(t, arch, cliNet, nil)

			imagetest.Expect(t, cli, `wgboot: profile .*qemu-`+arch+`\.toml for board`, bootTimeout)
			imagetest.Expect(t, cli, `wgboot: tunnel wg0: verified: public key \S+, 1 peer`, stepTimeout)
			imagetest.Expect(t, cli, `wgboot: tunnel wg0: handshake with 1 peer\(s\) in`, stepTimeout)
			ready := imagetest.Expect(t, cli, `wgboot: READY in`, stepTimeout)
			t.Logf("%s client: %s", arch, ready)
			imagetest.Expect(t, cli, `wgboot: handoff: switch_root to /dev/vda \(ext4\) and exec /sbin/init`, stepTimeout)
			verdict := imagetest.Expect(t, cli, `testroot: (OK|FAIL)`, stepTimeout)
			if !strings.Contains(verdict, "OK tunnel=wg0 up peers=1 handshake=true") || !strings.Contains(verdict, "pings=10/10") ||
				!strings.Contains(verdict, "checked=1") {
				t.Errorf("after switch_root: %s", verdict)
			}
			if err := cli.Wait(stepTimeout); err != nil {
				t.Errorf("client did not power off: %v", err)
			}
			// The hub saw the client's handshake from its own side.
			if _, err := hub.ExpectAny(reHubReady, 10*time.Second); err != nil {
				t.Errorf("hub: %v", err)
			}
			noPanic(t, cli)
			noPanic(t, hub)
		})
	}
}

var reHubReady = regexp.MustCompile(`wgboot: READY in`)

// TestE2EFullTunnel routes everything through the tunnel, as wg-quick's
// AllowedIPs = 0.0.0.0/0 does: the routes go to table 51820 and init adds
// the rules that keep the tunnel's own packets (fwmark 51820) out of it.
// The client still reaches the hub's endpoint on the uplink and pings the
// hub through the tunnel after switch_root.
func TestE2EFullTunnel(t *testing.T) {
	for _, arch := range arches {
		t.Run(arch, func(t *testing.T) {
			t.Parallel()
			_, cliNet := startHub(t, arch)
			full := replace(t,
				`allowed_ips = ["10.77.0.0/24", "fd77::/64"]`, `allowed_ips = ["0.0.0.0/0", "::/0"]`,
				`table = "main"`, `table = 51820`,
				`listen_port = 51820`, "listen_port = 51820\nfwmark = 51820",
			)
			cli := startClient(t, arch, cliNet, func(name string, data []byte) []byte {
				if name != "qemu-"+arch+".toml" {
					return data
				}
				return full(name, data)
			})
			imagetest.Expect(t, cli, `wgboot: tunnel wg0: handshake with 1 peer\(s\) in`, bootTimeout)
			imagetest.Expect(t, cli, `wgboot: READY in`, stepTimeout)
			verdict := imagetest.Expect(t, cli, `testroot: (OK|FAIL)`, stepTimeout)
			if !strings.Contains(verdict, "handshake=true pings=10/10 ready=true checked=1") {
				t.Errorf("after switch_root: %s", verdict)
			}
			noPanic(t, cli)
		})
	}
}

// TestE2EKickIPv6 is the regression test for the handshake gate's panic
// ("As4 called on IPv6 address") on a peer whose first allowed IP is IPv6
// and that has no persistent keepalive: init kicks the handshake with one
// packet to that IPv6 prefix, the handshake completes and the boot is
// READY.
func TestE2EKickIPv6(t *testing.T) {
	for _, arch := range arches {
		t.Run(arch, func(t *testing.T) {
			t.Parallel()
			_, cliNet := startHub(t, arch)
			v6first := replace(t,
				`allowed_ips = ["10.77.0.0/24", "fd77::/64"]`, `allowed_ips = ["fd77::/64", "10.77.0.0/24"]`,
				"persistent_keepalive = 25\n", "",
			)
			cli := startClient(t, arch, cliNet, func(name string, data []byte) []byte {
				if name != "qemu-"+arch+".toml" {
					return data
				}
				return v6first(name, data)
			})
			imagetest.Expect(t, cli, `wgboot: tunnel wg0: handshake with 1 peer\(s\) in`, bootTimeout)
			imagetest.Expect(t, cli, `wgboot: READY in`, stepTimeout)
			verdict := imagetest.Expect(t, cli, `testroot: (OK|FAIL)`, stepTimeout)
			if !strings.Contains(verdict, "handshake=true pings=10/10 ready=true checked=1") {
				t.Errorf("after switch_root: %s", verdict)
			}
			noPanic(t, cli)
		})
	}
}

// TestE2EInitramfsHandoff hands off to a next stage inside the initramfs
// (handoff.root = ""), as some firmware does: wgboot execs testroot in
// place, passing on the kernel's init arguments ("single"), after removing
// /etc/wgboot and every key file any profile of the image names — the
// image carries every board's profile and keys, with relative paths. The
// next stage finds none, and the tunnel up.
func TestE2EInitramfsHandoff(t *testing.T) {
	for _, arch := range arches {
		t.Run(arch, func(t *testing.T) {
			t.Parallel()
			_, cliNet := startHub(t, arch)
			inPlace := replace(t, `root = "/dev/vda"`, `root = ""`, `fstype = "ext4"`+"\n", "", `init = "/sbin/init"`, `init = "/sbin/testroot"`)
			edit := func(name string, data []byte) []byte {
				if name != "qemu-"+arch+".toml" {
					return data
				}
				return inPlace(name, data)
			}
			bin, err := os.ReadFile(imagetest.BuildPackage(t, arch, "./image/testroot"))
			if err != nil {
				t.Fatal(err)
			}
			files := append(expectProfile(t, arch, edit), image.File{Path: "/sbin/testroot", Data: bin, Mode: 0o755})
			cli := guest{
				arch:     arch,
				profiles: allProfiles(t),
				edit:     edit,
				files:    files,
				append:   []string{"testroot.ping=10.77.0.1", "single"},
				nets:     []image.Net{cliNet},
			}.boot(t, "client")
			imagetest.Expect(t, cli, `wgboot: READY in`, bootTimeout)
			imagetest.Expect(t, cli, `wgboot: handoff: exec /sbin/testroot in the initramfs`, stepTimeout)
			verdict := imagetest.Expect(t, cli, `testroot: (OK|FAIL)`, stepTimeout)
			if !strings.Contains(verdict, `pings=10/10 ready=true checked=1 secrets=0 args=["single"]`) {
				t.Errorf("next stage: %s", verdict)
			}
			noPanic(t, cli)
		})
	}
}
