package e2e

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/wgboot/wgboot/image"
	"github.com/wgboot/wgboot/image/imagetest"
)

// The remote rescue (issue 14): on_failure = "remote" on a rescue image
// whose root disk lacks its /sbin/init (a failed update; the good one is
// at /sbin/init.good). The host key goes to the config partition.

// remoteEdit is the fleet disk's profile with the remote policy: the
// image's key (which the hub knows), the host key's partition, the root by
// its GPT name, and [rescue] with timeout.
func remoteEdit(t *testing.T, arch, timeout string, more ...string) func(string, []byte) []byte {
	edit := replace(t, append([]string{
		"[uplink]", "[persist]\ndevice = \"LABEL=wgboot\"\nfstype = \"ext4\"\n\n[uplink]",
		`root = "/dev/vda"`, `root = "PARTLABEL=root"`,
		`on_failure = "continue"`, `on_failure = "remote"`,
		`deadline = "60s"`, "deadline = \"60s\"\n\n[rescue]\nauthorized_keys_file = \"/etc/wgboot/rescue/authorized_keys\"\ntimeout = \"" + timeout + "\"",
	}, more...)...)
	return func(name string, data []byte) []byte {
		if name != "qemu-"+arch+".toml" {
			return data
		}
		return edit(name, data)
	}
}

// remoteDisk is the fleet disk with an empty config partition and a root
// whose init is missing: testroot is at /sbin/init.good.
func remoteDisk(t *testing.T, arch string, expect []image.File) string {
	t.Helper()
	bin, err := os.ReadFile(imagetest.BuildPackage(t, arch, "./image/testroot"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	persist := filepath.Join(dir, "persist.ext4")
	if err := (image.FileSystem{Type: "ext4", Label: "wgboot", SizeMB: 16}).Write(persist); err != nil {
		t.Fatal(err)
	}
	var files []image.File
	for _, f := range image.RootFiles(bin, expect) {
		if f.Path == "/sbin/init" {
			f.Path = "/sbin/init.good"
		}
		files = append(files, f)
	}
	root := filepath.Join(dir, "root.ext4")
	if err := (image.FileSystem{Type: "ext4", Label: "root", SizeMB: 48, Files: files}).Write(root); err != nil {
		t.Fatal(err)
	}
	disk := filepath.Join(dir, "disk.img")
	parts := []image.Partition{
		{Name: "wgboot", UUID: persistPartUUID, Image: persist},
		{Name: "root", UUID: rootPartUUID, Image: root},
	}
	if err := image.WriteGPTDisk(disk, parts); err != nil {
		t.Fatal(err)
	}
	return disk
}

// sshKey makes an ed25519 key: its OpenSSH private key file and its
// authorized_keys line.
func sshKey(t *testing.T, comment string) (private []byte, authorized string) {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	block, err := ssh.MarshalPrivateKey(priv, comment)
	if err != nil {
		t.Fatal(err)
	}
	spub, err := ssh.NewPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(block), strings.TrimSpace(string(ssh.MarshalAuthorizedKey(spub))) + " " + comment + "\n"
}

// remoteClient boots the client of arch with the remote policy.
func remoteClient(t *testing.T, arch, timeout, authorized string, disk string, nets []image.Net, more ...string) *image.VM {
	edit := remoteEdit(t, arch, timeout, more...)
	files := append(rescueFiles(t, arch), image.File{Path: "/etc/wgboot/rescue/authorized_keys", Data: []byte(authorized), Mode: 0o644})
	return guest{arch: arch, profiles: ownProfile(t, arch), edit: edit, files: files, disk: disk, nets: nets,
		append: []string{"testroot.persist=/dev/vda1"}, rescue: true}.boot(t, "client")
}

var reRemoteReady = regexp.MustCompile(`wgboot: remote rescue: ssh root@(\S+) or (\S+) \(host key (SHA256:\S+)\); (\S+) without a login reboots`)

// TestE2ERemote is the operator's story on each arch. repair: the client's
// handoff fails (no /sbin/init), its policy starts the SSH server on the
// tunnel's addresses; the hub's testrescue finds the port closed on the
// uplink address, is refused with a key not in authorized_keys, a
// password and keyboard-interactive, logs in with the operator's key,
// reads `wgboot state`, runs `wgboot retry` before repairing anything: the
// handoff fails again, the board says so and starts the server again, and
// a new session logs in (same host key) and reads the failed retry in
// `wgboot state`; it repairs the root disk and runs `wgboot retry`: the
// client switch_roots and testroot reports OK. The host key was made on
// the config partition (0600, with a .pub) and is the one the hub saw.
// idle: no hub, nobody logs in, and the 20 s timeout reboots the client;
// its 10 s watchdog, fed by PID 1 meanwhile, does not. reboot: the
// operator logs in and runs `reboot`: PID 1 ends the rescue, its server
// and the session, and the kernel restarts. default: the default /init
// (without the rescue tag) has no remote rescue and takes
// remote_fallback ("halt") though its tunnel is up. fallback: the
// uplink fails, no tunnel comes up, and remote_fallback ("halt") follows.
func TestE2ERemote(t *testing.T) {
	for _, arch := range arches {
		t.Run(arch, func(t *testing.T) {
			t.Parallel()
			t.Run("repair", func(t *testing.T) {
				t.Parallel()
				testRemoteRepair(t, arch)
			})
			t.Run("reboot", func(t *testing.T) {
				t.Parallel()
				testRemoteReboot(t, arch)
			})
			t.Run("fallback", func(t *testing.T) {
				t.Parallel()
				// No tunnel: the uplink phase fails, and a rescue
				// nobody can reach gives way to remote_fallback.
				_, authorized := sshKey(t, "operator@hub")
				cli := remoteClient(t, arch, "20s", authorized, remoteDisk(t, arch, nil), nil,
					`interface = "eth0"`, `interface = "eth7"`,
					`on_failure = "remote"`, "on_failure = \"remote\"\nremote_fallback = \"halt\"")
				imagetest.Expect(t, cli, `wgboot: .*phase uplink failed`, bootTimeout)
				imagetest.Expect(t, cli, `wgboot: remote rescue: no tunnel came up: nobody could reach the board; remote_fallback halt: halting`, stepTimeout)
				if err := cli.Wait(stepTimeout); err != nil {
					t.Errorf("client did not halt: %v", err)
				}
				if strings.Contains(cli.Console(), "wgboot-remote started") {
					t.Error("the SSH server was started without a tunnel")
				}
				noPanic(t, cli)
			})
			t.Run("default", func(t *testing.T) {
				t.Parallel()
				// The default /init (no rescue tag) in an image with
				// the rescue tools: the tunnel comes up, but this
				// /init has no remote rescue and takes remote_fallback.
				_, authorized := sshKey(t, "operator@hub")
				edit := remoteEdit(t, arch, "20s", `wait_handshake = "20s"`, `wait_handshake = "0s"`,
					`on_failure = "remote"`, "on_failure = \"remote\"\nremote_fallback = \"halt\"")
				files := append(rescueFiles(t, arch), image.File{Path: "/etc/wgboot/rescue/authorized_keys", Data: []byte(authorized), Mode: 0o644})
				cli := guest{arch: arch, profiles: ownProfile(t, arch), edit: edit, files: files, disk: remoteDisk(t, arch, nil),
					append: []string{"testroot.persist=/dev/vda1"}}.boot(t, "client")
				imagetest.Expect(t, cli, `wgboot: handoff failed: init /sbin/init not found on PARTLABEL=root`, bootTimeout)
				imagetest.Expect(t, cli, `wgboot: remote rescue: this image has no remote rescue: .*; remote_fallback halt: halting`, stepTimeout)
				if err := cli.Wait(stepTimeout); err != nil {
					t.Errorf("client did not halt: %v", err)
				}
				if strings.Contains(cli.Console(), "wgboot-remote started") {
					t.Error("the default /init started the SSH server")
				}
				noPanic(t, cli)
			})
			t.Run("idle", func(t *testing.T) {
				t.Parallel()
				_, authorized := sshKey(t, "operator@hub")
				disk := remoteDisk(t, arch, nil)
				start := time.Now()
				// The board's watchdog (softdog, 10 s; see withWatchdog)
				// would reset the board 10 s into the rescue unless
				// PID 1 fed it.
				cli := remoteClient(t, arch, "20s", authorized, disk, nil,
					`wait_handshake = "20s"`, `wait_handshake = "0s"`,
					`modules = ["wireguard", "virtio_pci", "virtio_net", "virtio_blk"]`,
					`modules = ["wireguard", "virtio_pci", "virtio_net", "virtio_blk", "softdog"]`+"\n"+
						`watchdog = "/dev/watchdog0"`+"\n"+`watchdog_timeout = "10s"`)
				imagetest.Expect(t, cli, `wgboot: handoff failed: init /sbin/init not found on PARTLABEL=root`, bootTimeout)
				imagetest.Expect(t, cli, `wgboot: remote rescue: watchdog /dev/watchdog0 fed while the rescue runs`, stepTimeout)
				imagetest.Expect(t, cli, reRemoteReady.String(), stepTimeout)
				ready := time.Now()
				imagetest.Expect(t, cli, `wgboot: remote rescue: no login within 20s: rebooting`, stepTimeout)
				if reSoftdogFired.MatchString(cli.Console()) {
					t.Error("the watchdog reset the board during the rescue")
				}
				if err := cli.Wait(stepTimeout); err != nil {
					t.Errorf("client did not reboot: %v", err)
				}
				t.Logf("%s: boot to rescue %v, rescue to reboot %v", arch, ready.Sub(start).Round(time.Second), time.Since(ready).Round(time.Second))
				if strings.Contains(cli.Console(), "logged in") {
					t.Error("somebody logged in")
				}
				noPanic(t, cli)
			})
		})
	}
}

func testRemoteRepair(t *testing.T, arch string) {
	operator, authorized := sshKey(t, "operator@hub")
	stranger, _ := sshKey(t, "stranger@hub")
	bin, err := os.ReadFile(imagetest.BuildPackage(t, arch, "./image/testrescue"))
	if err != nil {
		t.Fatal(err)
	}
	// The client's tunnel and uplink addresses (qemu-ARCH.toml).
	addrs := map[string][2]string{"amd64": {"10.77.0.2", "192.168.50.2"}, "arm64": {"10.77.0.3", "192.168.50.3"}}[arch]
	target, uplink := addrs[0], addrs[1]
	hubEdit := func(name string, data []byte) []byte {
		if name != "hub.toml" {
			return data
		}
		return replace(t, `init = "/sbin/testhub"`, `init = "/sbin/testrescue"`)(name, data)
	}
	hub, cliNet := startHubWith(t, arch, hubConfig{
		edit:   hubEdit,
		append: []string{"testrescue.mode=repair", "testrescue.target=" + target, "testrescue.uplink=" + uplink},
		files: []image.File{
			{Path: "/sbin/testrescue", Data: bin, Mode: 0o755},
			{Path: "/etc/testrescue/operator", Data: operator, Mode: 0o600},
			{Path: "/etc/testrescue/stranger", Data: stranger, Mode: 0o600},
		},
	})
	edit := remoteEdit(t, arch, "3m")
	disk := remoteDisk(t, arch, expectProfile(t, arch, edit))
	cli := remoteClient(t, arch, "3m", authorized, disk, []image.Net{cliNet})

	imagetest.Expect(t, cli, `wgboot: handoff failed: init /sbin/init not found on PARTLABEL=root`, bootTimeout)
	line := imagetest.Expect(t, cli, reRemoteReady.String(), stepTimeout)
	m := reRemoteReady.FindStringSubmatch(line)
	if m[1] != target+":22" {
		t.Errorf("listens on %s, want the tunnel's %s:22", m[1], target)
	}
	fp := m[3]
	for _, re := range []string{
		`testrescue: port open on ` + regexp.QuoteMeta(target),
		`testrescue: uplink .* refused: .*connection refused`,
		`testrescue: stranger's key refused`,
		`testrescue: password refused`,
		`testrescue: keyboard-interactive refused`,
		`testrescue: logged in as root, host key ` + regexp.QuoteMeta(fp),
		`testrescue: state tells the failure`,
		`testrescue: logged in again after the failed retry; state tells it`,
		`testrescue: \|     "retries": 1`,
		`testrescue: \|   "rescue": \{`,
		`testrescue: \|     "host_key": "` + regexp.QuoteMeta(fp) + `",`,
		`testrescue: \| repaired`,
		`testrescue: DONE`,
	} {
		if _, err := hub.ExpectAny(regexp.MustCompile(re), 3*time.Minute); err != nil {
			t.Fatalf("hub: %v", err)
		}
	}
	for _, re := range []string{
		`wgboot: remote: \S+: publickey authentication for "root" refused: key SHA256:\S+ is not in`,
		`wgboot: remote: root@10\.77\.0\.1:\d+: logged in with key SHA256:\S+ operator@hub`,
		`wgboot: remote: root@10\.77\.0\.1:\d+: session \d+: command wgboot`,
		`wgboot: remote rescue: retry: the handoff runs again`,
		`wgboot: remote rescue: handoff failed: init /sbin/init not found on PARTLABEL=root: .*; starting the SSH server again`,
		`wgboot: handoff: switch_root to PARTLABEL=root \(/dev/vda2, ext4\)`,
	} {
		if _, err := cli.ExpectAny(regexp.MustCompile(re), stepTimeout); err != nil {
			t.Fatalf("client: %v", err)
		}
	}
	verdict := imagetest.Expect(t, cli, `testroot: (OK|FAIL)`, stepTimeout)
	con := cli.Console()
	for what, want := range map[string]int{"wgboot-remote started": 2, "remote rescue: retry: the handoff runs again": 2, "logged in with key": 2} {
		if n := strings.Count(con, what); n < want {
			t.Errorf("client: %q %d times, want %d (a retry that fails, then one that hands off)", what, n, want)
		}
	}
	if !strings.Contains(verdict, "OK tunnel=wg0 up") || !strings.Contains(verdict, "ready=true") {
		t.Errorf("after the retry: %s", verdict)
	}
	if err := cli.Wait(stepTimeout); err != nil {
		t.Errorf("client did not power off: %v", err)
	}
	noPanic(t, cli)
	noPanic(t, hub)

	key, mode := persistFile(t, disk, "/wgboot/ssh_host_ed25519_key")
	if mode != 0o600 {
		t.Errorf("host key mode %#o, want 0600", mode)
	}
	signer, err := ssh.ParsePrivateKey(key)
	if err != nil {
		t.Fatalf("host key: %v", err)
	}
	if got := ssh.FingerprintSHA256(signer.PublicKey()); got != fp {
		t.Errorf("host key file %s, console %s", got, fp)
	}
	pub, _ := persistFile(t, disk, "/wgboot/ssh_host_ed25519_key.pub")
	if k, _, _, _, err := ssh.ParseAuthorizedKey(pub); err != nil || ssh.FingerprintSHA256(k) != fp {
		t.Errorf(".pub %q: %v", pub, err)
	}
	if strings.Contains(cli.Console(), "OPENSSH PRIVATE KEY") {
		t.Error("the console shows a private key")
	}
}

// testRemoteReboot: the operator's `reboot` through SSH. The rescue
// image's reboot asks PID 1 (SIGTERM), which stops the SSH server, ending
// the session, logs it and reboots (under -no-reboot, QEMU ends).
func testRemoteReboot(t *testing.T, arch string) {
	operator, authorized := sshKey(t, "operator@hub")
	bin, err := os.ReadFile(imagetest.BuildPackage(t, arch, "./image/testrescue"))
	if err != nil {
		t.Fatal(err)
	}
	target := map[string]string{"amd64": "10.77.0.2", "arm64": "10.77.0.3"}[arch]
	hub, cliNet := startHubWith(t, arch, hubConfig{
		edit: func(name string, data []byte) []byte {
			if name != "hub.toml" {
				return data
			}
			return replace(t, `init = "/sbin/testhub"`, `init = "/sbin/testrescue"`)(name, data)
		},
		append: []string{"testrescue.mode=reboot", "testrescue.target=" + target},
		files: []image.File{
			{Path: "/sbin/testrescue", Data: bin, Mode: 0o755},
			{Path: "/etc/testrescue/operator", Data: operator, Mode: 0o600},
			{Path: "/etc/testrescue/stranger", Data: operator, Mode: 0o600},
		},
	})
	cli := remoteClient(t, arch, "3m", authorized, remoteDisk(t, arch, nil), []image.Net{cliNet})
	imagetest.Expect(t, cli, reRemoteReady.String(), bootTimeout)
	for _, re := range []string{
		`wgboot: remote: root@10\.77\.0\.1:\d+: logged in with key SHA256:\S+ operator@hub`,
		`wgboot: remote: root@10\.77\.0\.1:\d+: session \d+: command reboot`,
		`wgboot: remote rescue: signal terminated \(reboot\) with a session open: the session ends: rebooting`,
		`reboot: Restarting system`,
	} {
		if _, err := cli.ExpectAny(regexp.MustCompile(re), 2*time.Minute); err != nil {
			t.Fatalf("client: %v", err)
		}
	}
	if err := cli.Wait(stepTimeout); err != nil {
		t.Errorf("client did not reboot: %v", err)
	}
	for _, re := range []string{`testrescue: \$ reboot`, `testrescue: DONE`} {
		if _, err := hub.ExpectAny(regexp.MustCompile(re), stepTimeout); err != nil {
			t.Errorf("hub: %v", err)
		}
	}
	noPanic(t, cli)
	noPanic(t, hub)
}
