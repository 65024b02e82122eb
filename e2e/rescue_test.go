package e2e

import (
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/wgboot/wgboot/image"
	"github.com/wgboot/wgboot/image/imagetest"
	"github.com/wgboot/wgboot/internal/wgkey"
)

// rescueFiles returns the u-root rescue layer for arch (built by the tools
// module on first use, then cached under out/rescue-cache).
func rescueFiles(t *testing.T, arch string) []image.File {
	t.Helper()
	start := time.Now()
	r := image.RescueFor(imagetest.Root(t))
	files, err := r.Files(arch)
	if err != nil {
		t.Fatalf("rescue layer: %v", err)
	}
	t.Logf("%s rescue layer ready in %v", arch, time.Since(start).Round(time.Millisecond))
	return files
}

// publicKeyOf derives the public key of a key file without printing the
// private key anywhere.
func publicKeyOf(t *testing.T, file string) string {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	k, err := wgkey.ParsePrivateKey(strings.TrimSpace(string(data)))
	if err != nil {
		t.Fatalf("%s: %v", filepath.Base(file), err)
	}
	return k.PublicKey().String()
}

// shellFails is the arch's own profile with a hub that never answers: the
// handshake gate fails after 3 s and the policy is a shell.
func shellFails(t *testing.T) func(string, []byte) []byte {
	return replace(t, `wait_handshake = "20s"`, `wait_handshake = "3s"`, `on_failure = "continue"`, `on_failure = "shell"`)
}

// TestE2ERescue boots a rescue image (wgboot + u-root's tools) whose tunnel
// fails on purpose with on_failure = "shell", and uses the shell over the
// serial console as a person at the board would: `wgboot show`, `ip link`,
// `wgboot state`, and ^C on a running command. A minimal image with the
// same failure says clearly that it has no shell.
func TestE2ERescue(t *testing.T) {
	for _, arch := range arches {
		t.Run(arch, func(t *testing.T) {
			t.Parallel()
			t.Run("shell", func(t *testing.T) {
				t.Parallel()
				testRescueShell(t, arch)
			})
			t.Run("no-shell", func(t *testing.T) {
				t.Parallel()
				vm := guest{arch: arch, profiles: ownProfile(t, arch), edit: shellFails(t)}.boot(t, "guest")
				imagetest.Expect(t, vm, `wgboot: .*phase handshake failed`, bootTimeout)
				imagetest.Expect(t, vm, `wgboot: policy shell: starting a shell on the console`, stepTimeout)
				imagetest.Expect(t, vm, `wgboot: shell: this image has no shell \(none of /bin/sh, .*\); rebuild it with RESCUE=1`, stepTimeout)
				noPanic(t, vm)
			})
		})
	}
}

func testRescueShell(t *testing.T, arch string) {
	files := append(rescueFiles(t, arch), memscanFiles(t, arch)...)
	pub := publicKeyOf(t, filepath.Join(profilesDir(t), "keys", "qemu-"+arch+".key"))
	vm := guest{arch: arch, profiles: ownProfile(t, arch), edit: shellFails(t), files: files}.boot(t, "guest")

	imagetest.Expect(t, vm, `wgboot: .*phase handshake failed .*no handshake with every peer within 3s`, bootTimeout)
	imagetest.Expect(t, vm, `wgboot: policy shell: starting a shell on the console`, stepTimeout)
	imagetest.Expect(t, vm, "^wgboot rescue shell: `wgboot show` shows the WireGuard tunnels", stepTimeout)

	// Type until the shell answers: what is typed before it reads the
	// terminal may be lost. The answer, not the echo, has the sum.
	waitShell(t, vm, "ready", 90*time.Second)

	type step struct {
		cmd    string
		expect []string
	}
	steps := []step{
		{"wgboot show", []string{
			`^interface: wg0$`,
			`^  public key: ` + regexp.QuoteMeta(pub) + `$`,
			`^  private key: \(hidden\)$`,
			`^  listening port: 51820$`,
			`^peer: xkSiuuwzFSr9eB4uyyHVhGU4hlPxfL8VN1fLD/W8J2c=$`,
			`^  preshared key: \(hidden\)$`,
			`^  endpoint: 192\.168\.50\.1:51820$`,
			`^  allowed ips: 10\.77\.0\.0/24, fd77::/64$`,
			`^  latest handshake: \(none\)$`,
		}},
		{"dmesg", []string{`^<\d+>\[ *[\d.]+\] wgboot: policy shell: starting a shell on the console$`}},
		{"ip link", []string{`^\d+: lo: <`, `^\d+: eth0: <.*UP`, `^\d+: wg0: <.*> mtu 1420`}},
		// The device prints the state file as written (indented JSON):
		// /init has no JSON decoder.
		{"wgboot state", []string{
			`^      "name": "wg0",$`,
			`^      "public_key": "` + regexp.QuoteMeta(pub) + `",$`,
			`^  "failure": ".*no handshake with every peer within 3s.*",$`,
			`^  "policy": "shell",$`,
		}},
		{"wgboot check x.toml", []string{`^wgboot: unknown command "check"$`}},
		// No key is left anywhere in PID 1's memory after the bring-up
		// — heap, stacks, freed memory — in any form (raw, hex, base64).
		{"/test/memscan /test/needles", []string{`^memscan: pid 1: \d+ regions, \d+ bytes, 2 needles, hits=0$`}},
	}
	for _, s := range steps {
		mark := consoleLines(vm)
		if err := vm.Send(s.cmd + "\n"); err != nil {
			t.Fatal(err)
		}
		for _, re := range s.expect {
			if _, err := expectFrom(vm, mark, regexp.MustCompile(re), 30*time.Second); err != nil {
				t.Fatalf("%s: %v", s.cmd, err)
			}
		}
	}

	// ^C stops the command in the foreground, not PID 1 and not the
	// console: the shell (or its restart) answers afterwards.
	if err := vm.Send("sleep 600\n"); err != nil {
		t.Fatal(err)
	}
	time.Sleep(2 * time.Second)
	if err := vm.Send("\x03"); err != nil {
		t.Fatal(err)
	}
	waitShell(t, vm, "after-ctrl-c", time.Minute)

	beforeSignals := vm.Console()

	// Ctrl-alt-del is a signal to init (CAD off), not a hard reboot.
	mark := consoleLines(vm)
	if err := vm.Send("cat /proc/sys/kernel/ctrl-alt-del\n"); err != nil {
		t.Fatal(err)
	}
	if _, err := expectFrom(vm, mark, regexp.MustCompile(`^0$`), 30*time.Second); err != nil {
		t.Errorf("ctrl-alt-del: %v", err)
	}

	// A busybox-init habit: signals to PID 1 from the shell. Those the Go
	// runtime would exit on (QUIT, ABRT, SEGV, ILL, TRAP, BUS, FPE, SYS,
	// STKFLT, HUP) are logged; init and the shell live on. So are those
	// that a booting init leaves to the runtime (ALRM, PWR):
	// a parked init asks for every signal.
	if err := vm.Send("kill -3 1; kill -6 1; kill -11 1; kill -4 1; kill -5 1; kill -7 1; kill -8 1; kill -31 1; kill -16 1; kill -1 1; kill -14 1; kill -30 1\n"); err != nil {
		t.Fatal(err)
	}
	waitShell(t, vm, "after-signals", time.Minute)
	for _, re := range []string{`wgboot: signal quit ignored`, `wgboot: signal segmentation fault ignored`, `wgboot: signal bad system call ignored`,
		`wgboot: signal alarm clock ignored`, `wgboot: signal power failure ignored`} {
		if _, err := vm.ExpectAny(regexp.MustCompile(re), 30*time.Second); err != nil {
			t.Errorf("after kill: %v", err)
		}
	}

	// SIGTERM to a parked init (the shell counts) reboots: under
	// -no-reboot, QEMU ends.
	if err := vm.Send("kill -15 1\n"); err != nil {
		t.Fatal(err)
	}
	if _, err := vm.ExpectAny(regexp.MustCompile(`wgboot: signal terminated: rebooting`), stepTimeout); err != nil {
		t.Error(err)
	}
	if err := vm.Wait(stepTimeout); err != nil {
		t.Errorf("reboot on SIGTERM: %v", err)
	}

	con := vm.Console()
	// ^C went to the shell's foreground command only: the shell did not
	// die of it (init would log its restart) and init got no signal.
	for _, bad := range []string{"wgboot: shell exited", "wgboot: signal "} {
		if strings.Contains(beforeSignals, bad) {
			t.Errorf("console shows %q before any signal was sent", bad)
		}
	}
	for _, bad := range []string{"private_key", "PrivateKey"} {
		if strings.Contains(con, bad) {
			t.Errorf("console shows %q", bad)
		}
	}
	noPanic(t, vm)
}

// memscanFiles puts image/memscan into the image with the raw bytes of the
// arch's private and preshared keys (test keys) as its needles.
func memscanFiles(t *testing.T, arch string) []image.File {
	t.Helper()
	bin, err := os.ReadFile(imagetest.BuildPackage(t, arch, "./image/memscan"))
	if err != nil {
		t.Fatal(err)
	}
	var needles strings.Builder
	for _, name := range []string{"qemu-" + arch + ".key", "qemu-" + arch + "-hub.psk"} {
		data, err := os.ReadFile(filepath.Join(profilesDir(t), "keys", name))
		if err != nil {
			t.Fatal(err)
		}
		raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(data)))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		needles.WriteString(hex.EncodeToString(raw) + "\n")
	}
	return []image.File{
		{Path: "/test/memscan", Data: bin, Mode: 0o755},
		{Path: "/test/needles", Data: []byte(needles.String()), Mode: 0o600},
	}
}

// waitShell types `echo WORD-$((6*7))` until WORD-42 comes back.
func waitShell(t *testing.T, vm *image.VM, word string, timeout time.Duration) {
	t.Helper()
	re := regexp.MustCompile(`(^|[^$(])` + word + `-42`)
	deadline := time.Now().Add(timeout)
	for {
		mark := consoleLines(vm)
		if err := vm.Send("echo " + word + "-$((6*7))\n"); err != nil {
			t.Fatal(err)
		}
		if _, err := expectFrom(vm, mark, re, 3*time.Second); err == nil {
			return
		} else if time.Now().After(deadline) {
			t.Fatalf("the shell does not answer: %v", err)
		}
	}
}

// consoleLines is how many lines the console has printed so far.
func consoleLines(vm *image.VM) int {
	return len(splitConsole(vm.Console()))
}

func splitConsole(con string) []string {
	if con == "" {
		return nil
	}
	return strings.Split(con, "\n")
}

// expectFrom waits until a console line after the first mark lines
// matches re: the answer to what was just typed, not an earlier one.
func expectFrom(vm *image.VM, mark int, re *regexp.Regexp, timeout time.Duration) (string, error) {
	deadline := time.Now().Add(timeout)
	for {
		lines := splitConsole(vm.Console())
		for _, l := range lines[min(mark, len(lines)):] {
			// What is typed ahead is echoed at once, so the prompt
			// can come before the output, on its first line.
			for strings.HasPrefix(l, "$ ") {
				l = l[2:]
			}
			if re.MatchString(l) {
				return l, nil
			}
		}
		if time.Now().After(deadline) {
			return "", fmt.Errorf("no %q on the console after %v", re, timeout)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
