package e2e

import (
	"os"
	"path"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/wgboot/wgboot/image"
	"github.com/wgboot/wgboot/image/imagetest"
	"github.com/wgboot/wgboot/internal/wgkey"
)

// ownProfile is the one profile of the arch's board, so that failures are
// about it alone.
func ownProfile(t *testing.T, arch string) []string {
	return []string{filepath.Join(profilesDir(t), "qemu-"+arch+".toml")}
}

// ownPublicKey is the public key of the arch's board's test key.
func ownPublicKey(t *testing.T, arch string) string {
	k, _, err := wgkey.ReadPrivateKeyFile(filepath.Join(profilesDir(t), "keys", "qemu-"+arch+".key"))
	if err != nil {
		t.Fatal(err)
	}
	defer k.Zero()
	return k.PublicKey().String()
}

// modulesWith returns the real module closure as image files, with the
// named module's file dropped (corrupt == nil) or replaced by corrupt.
func modulesWith(victim string, corrupt []byte) func(*testing.T, imagetest.Kernel, []string) []image.File {
	return func(t *testing.T, k imagetest.Kernel, names []string) []image.File {
		idx, err := image.IndexModules(k.Modules)
		if err != nil {
			t.Fatal(err)
		}
		mods, err := image.Closure(idx, names)
		if err != nil {
			t.Fatal(err)
		}
		dep, err := image.ModulesDep(idx, mods)
		if err != nil {
			t.Fatal(err)
		}
		real, err := filepath.EvalSymlinks(k.Modules)
		if err != nil {
			t.Fatal(err)
		}
		base := "/lib/modules/" + filepath.Base(real)
		files := []image.File{{Path: base + "/modules.dep", Data: dep}}
		for _, m := range mods {
			data, err := os.ReadFile(filepath.Join(real, m.Path))
			if err != nil {
				t.Fatal(err)
			}
			if m.Name == victim {
				if corrupt == nil {
					continue
				}
				data = corrupt
			}
			files = append(files, image.File{Path: path.Join(base, m.Path), Data: data})
		}
		return files
	}
}

// fault is one row of the fault matrix: what is broken, and the log lines
// that must follow, in order, ending in the declared policy.
type fault struct {
	name    string
	g       func(t *testing.T, arch string) guest
	expect  []string
	exits   bool // the policy ends the guest (halt, reboot under -no-reboot)
	noMatch string
}

// TestE2EFaults boots each fault on each arch and checks that the boot
// ends in the declared policy with a clear log line — never a kernel panic.
func TestE2EFaults(t *testing.T) {
	faults := []fault{
		{
			name: "module-missing",
			g: func(t *testing.T, arch string) guest {
				return guest{arch: arch, profiles: ownProfile(t, arch), modules: modulesWith("wireguard", nil),
					append: []string{"wgboot.on_failure=halt"}}
			},
			expect: []string{`phase modules failed .*module wireguard.*wireguard\.ko.*no such file`, `policy halt: halting`},
			exits:  true,
		},
		{
			name: "module-corrupt",
			g: func(t *testing.T, arch string) guest {
				return guest{arch: arch, profiles: ownProfile(t, arch), modules: modulesWith("udp_tunnel", []byte("\x7fELF this is not a module")),
					edit: replace(t, `on_failure = "continue"`, `on_failure = "reboot"`)}
			},
			expect: []string{`phase modules failed .*dependency udp_tunnel .*finit_module`, `policy reboot: rebooting`, `rebooting in`},
			exits:  true,
		},
		{
			name: "profile-missing",
			g: func(t *testing.T, arch string) guest {
				return guest{arch: arch}
			},
			// No profile, so the default policy (continue) has nothing to
			// hand off to: reboot.
			expect: []string{`phase profile failed .*no profile`, `policy continue: handing off without the tunnel`, `nothing to hand off to: rebooting`},
			exits:  true,
		},
		{
			name: "profile-invalid",
			g: func(t *testing.T, arch string) guest {
				return guest{arch: arch, profiles: ownProfile(t, arch), edit: replace(t, "[uplink]", "[uplink"), invalid: true,
					append: []string{"wgboot.on_failure=halt"}}
			},
			expect: []string{`profile: .*qemu-` + `\w+\.toml:\d+:\d+: `, `phase profile failed`, `policy halt: halting`},
			exits:  true,
		},
		{
			name: "private-key-malformed",
			g: func(t *testing.T, arch string) guest {
				return guest{arch: arch, profiles: ownProfile(t, arch), invalid: true,
					edit: replace(t, `private_key_file = "keys/qemu-`+arch+`.key"`, `private_key = "bm90LWEta2V5"`,
						`on_failure = "continue"`, `on_failure = "halt"`)}
			},
			expect:  []string{`profile: .*toml:\d+:\d+: tunnel\[0\]\.private_key: `, `policy halt: halting`},
			exits:   true,
			noMatch: `bm90LWEta2V5`,
		},
		{
			name: "interface-name-too-long",
			g: func(t *testing.T, arch string) guest {
				return guest{arch: arch, profiles: ownProfile(t, arch), invalid: true,
					edit: replace(t, `name = "wg0"`, `name = "wg-name-too-long0"`, `on_failure = "continue"`, `on_failure = "halt"`)}
			},
			expect: []string{`profile: .*toml:\d+:\d+: tunnel\[0\]\.name: .*15`, `policy halt: halting`},
			exits:  true,
		},
		{
			// A peer with the tunnel's own public key: the host's check
			// rejects it (mkimage is skipped); the board derives no key
			// of its own, and finds it against the kernel's.
			name: "self-peer",
			g: func(t *testing.T, arch string) guest {
				return guest{arch: arch, profiles: ownProfile(t, arch), invalid: true,
					edit: replace(t, "[handoff]", "[[tunnel.peer]]\npublic_key = \""+ownPublicKey(t, arch)+"\"\nallowed_ips = [\"10.78.0.0/24\"]\n\n[handoff]",
						`on_failure = "continue"`, `on_failure = "halt"`)}
			},
			expect: []string{`tunnel wg0: verified: public key `,
				`phase verify failed .*qemu-\w+\.toml:\d+:\d+: tunnel\[0\]\.peer\[1\]\.public_key: this is the tunnel's own public key`,
				`policy halt: halting`},
			exits: true,
		},
		{
			name: "stale-wg0",
			g: func(t *testing.T, arch string) guest {
				return guest{arch: arch, profiles: ownProfile(t, arch), edit: noHub(t),
					append: []string{"wgboot.test=stale,poweroff"}}
			},
			expect: []string{`test: created a stale wg0`, `tunnel wg0: already present .*deleting it and creating it anew`, `tunnel wg0: verified`, `READY in`},
			exits:  true,
		},
		{
			name: "peer-down",
			g: func(t *testing.T, arch string) guest {
				return guest{arch: arch, profiles: ownProfile(t, arch), disk: rootDisk(t, arch),
					edit: replace(t, `wait_handshake = "20s"`, `wait_handshake = "3s"`)}
			},
			expect: []string{`phase handshake failed .*no handshake with every peer within 3s`, `policy continue: handing off without the tunnel`,
				`handoff: switch_root to /dev/vda`, `testroot: OK tunnel=wg0 up peers=1 handshake=false`},
			exits: true,
		},
		{
			// Nothing answers DHCP: the uplink phase gives up at
			// dhcp_timeout, well inside the deadline, saying why.
			name: "dhcp-silent",
			g: func(t *testing.T, arch string) guest {
				return guest{arch: arch, profiles: ownProfile(t, arch),
					edit: editUplink(t, arch, "dhcp = true\ndhcp_timeout = \"6s\"\n", `on_failure = "continue"`, `on_failure = "halt"`)}
			},
			expect: []string{`dhcp on eth0: DISCOVER unanswered after [345]\.\d+s`,
				`phase uplink failed after 6\.\d+s: dhcp on eth0: no lease within 6s: 2 DHCPDISCOVER unanswered: no DHCPOFFER`,
				`policy halt: halting`},
			exits: true,
		},
		{
			name: "root-device-missing",
			g: func(t *testing.T, arch string) guest {
				return guest{arch: arch, profiles: ownProfile(t, arch), edit: noHub(t)}
			},
			expect: []string{`READY in`, `handoff failed: root device: /dev/vda: no such device after 10`, `nothing to hand off to: rebooting`},
			exits:  true,
		},
		{
			name: "signals-to-pid1",
			g: func(t *testing.T, arch string) guest {
				return guest{arch: arch, profiles: ownProfile(t, arch), edit: noHub(t),
					append: []string{"wgboot.test=signals,poweroff"}}
			},
			// Every catchable signal, SIGQUIT, SIGABRT and SIGSEGV sent
			// with kill among them, which the Go runtime's defaults
			// would make exit: logged, and the boot goes on.
			expect: []string{`signal quit ignored`, `signal aborted ignored`, `signal segmentation fault ignored`,
				`signal terminated during boot: ignored`, `READY in`, `test mode: powering off`},
			exits: true,
		},
		{
			name: "quiet",
			g: func(t *testing.T, arch string) guest {
				return guest{arch: arch, profiles: ownProfile(t, arch), edit: noHub(t),
					append: []string{"quiet", "wgboot.test=poweroff"}}
			},
			// Under the kernel's quiet the console hides wgboot's info
			// lines, but not the outcome.
			expect:  []string{`^wgboot: READY in`},
			exits:   true,
			noMatch: `phase modules: done`,
		},
	}
	for _, arch := range arches {
		for _, f := range faults {
			t.Run(arch+"/"+f.name, func(t *testing.T) {
				t.Parallel()
				vm := f.g(t, arch).boot(t, "guest")
				timeout := bootTimeout
				for _, re := range f.expect {
					if _, err := vm.ExpectAny(regexp.MustCompile(re), timeout); err != nil {
						t.Fatalf("console: %v", err)
					}
					timeout = stepTimeout
				}
				if f.exits {
					// -no-reboot: a reboot ends QEMU as a power-off does.
					if err := vm.Wait(stepTimeout); err != nil {
						t.Errorf("guest did not stop: %v", err)
					}
				}
				noPanic(t, vm)
				if f.noMatch != "" && regexp.MustCompile(f.noMatch).MatchString(vm.Console()) {
					t.Errorf("console shows %q", f.noMatch)
				}
			})
		}
	}
}

// noHub edits a client profile for a boot without the hub: no handshake
// wait, and no switch_root.
func noHub(t *testing.T) func(string, []byte) []byte {
	return replace(t, `wait_handshake = "20s"`, `wait_handshake = "0s"`)
}
