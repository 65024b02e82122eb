// Package imagetest boots wgboot images under QEMU from Go tests: it builds
// /init for the guest, finds the test kernels, writes images and starts
// guests whose console is kept in the test's output directory.
//
// Kernels come from WGBOOT_KERNELS (default: the repository's
// .cache/kernels, filled by `make kernels`). When WGBOOT_E2E=required, a
// missing kernel or QEMU fails the test instead of skipping it.
package imagetest

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wgboot/wgboot/image"
)

// Kernel is a guest kernel and its modules tree.
type Kernel struct {
	Arch    string
	Image   string // vmlinuz / Image
	Modules string // /lib/modules/<version>
}

// Root returns the module's root directory.
func Root(t testing.TB) string {
	t.Helper()
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		t.Fatalf("go env GOMOD: %v", err)
	}
	return filepath.Dir(strings.TrimSpace(string(out)))
}

// skip skips t, or fails it when the end-to-end tests are required.
func skip(t testing.TB, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if os.Getenv("WGBOOT_E2E") == "required" {
		t.Fatalf("WGBOOT_E2E=required but %s", msg)
	}
	t.Skip(msg)
}

// FindKernel returns the test kernel for arch, or skips.
func FindKernel(t testing.TB, arch string) Kernel {
	t.Helper()
	if testing.Short() {
		t.Skip("QEMU boot test skipped in -short mode")
	}
	a, ok := image.Arches[arch]
	if !ok {
		t.Fatalf("unknown arch %q", arch)
	}
	if _, err := exec.LookPath(a.QEMU); err != nil {
		skip(t, "%s not installed (scripts/deps.sh installs it)", a.QEMU)
	}
	dir := os.Getenv("WGBOOT_KERNELS")
	if dir == "" {
		dir = filepath.Join(Root(t), ".cache", "kernels")
	}
	k := Kernel{Arch: arch, Image: filepath.Join(dir, arch, "vmlinuz"), Modules: filepath.Join(dir, arch, "modules")}
	if _, err := os.Stat(k.Image); err != nil {
		skip(t, "no %s kernel at %s: run `make kernels`", arch, k.Image)
	}
	return k
}

var (
	buildMu sync.Mutex
	built   = map[string]string{}
)

// BuildInit builds /init for arch once per test process and returns its
// path. It is built as make build builds it: with image.InitBuildFlags and
// through image.InitToolexec (no line tables), so that the tests boot what
// ships.
func BuildInit(t testing.TB, arch string) string {
	t.Helper()
	return build(t, arch, "./init", "init", initFlags(t, image.InitBuildFlags())) // as make build
}

var (
	toolexecOnce sync.Once
	toolexec     string
	toolexecErr  error
)

// initFlags returns flags and the -toolexec flag of /init's build.
func initFlags(t testing.TB, flags []string) []string {
	t.Helper()
	root := Root(t)
	toolexecOnce.Do(func() { toolexec, toolexecErr = image.InitToolexec(root) })
	if toolexecErr != nil {
		t.Fatal(toolexecErr)
	}
	return append(flags, toolexec)
}

// BuildRescueInit builds a rescue image's /init for arch, with the remote
// rescue (image.RescueTag), once per test process and returns its path.
func BuildRescueInit(t testing.TB, arch string) string {
	t.Helper()
	return build(t, arch, "./init", "init-rescue", initFlags(t, image.RescueInitBuildFlags())) // as make image RESCUE=1
}

// BuildPackage builds a main package of this module for the guest once per
// test process, static, and returns the binary's path.
func BuildPackage(t testing.TB, arch, pkg string) string {
	t.Helper()
	if pkg == "./init" {
		return BuildInit(t, arch)
	}
	return build(t, arch, pkg, filepath.Base(pkg), nil)
}

// build builds pkg for arch with flags into out/test/ARCH/name, once per
// test process.
func build(t testing.TB, arch, pkg, name string, flags []string) string {
	t.Helper()
	buildMu.Lock()
	defer buildMu.Unlock()
	key := arch + " " + pkg + " " + name
	if p, ok := built[key]; ok {
		return p
	}
	root := Root(t)
	out := filepath.Join(root, "out", "test", arch, name)
	args := append([]string{"build", "-trimpath", "-ldflags=-s -w", "-o", out}, flags...)
	cmd := exec.Command("go", append(args, pkg)...)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+arch, "GOAMD64=v1")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build %s for %s: %v\n%s", pkg, arch, err, b)
	}
	built[key] = out
	return out
}

// BuildImage writes an image for spec into the test's temp dir.
func BuildImage(t testing.TB, spec image.Spec) string {
	t.Helper()
	var buf bytes.Buffer
	if err := image.Build(spec, &buf); err != nil {
		t.Fatalf("build image: %v", err)
	}
	p := filepath.Join(t.TempDir(), "initramfs.cpio")
	if spec.Compress == "xz" {
		p += ".xz"
	}
	if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// Boot starts a guest. Its console goes to the test log directory
// (WGBOOT_CONSOLE_DIR, else a temp dir) and, on failure, its tail to the
// test log. The guest is killed when the test ends.
func Boot(t testing.TB, name string, c image.Config) *image.VM {
	t.Helper()
	dir := os.Getenv("WGBOOT_CONSOLE_DIR")
	if dir == "" {
		dir = t.TempDir()
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	logPath := filepath.Join(dir, sanitize(t.Name()+"-"+name)+".log")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	vm, err := image.Start(ctx, c, logPath)
	if err != nil {
		cancel()
		t.Fatalf("boot %s: %v", name, err)
	}
	t.Cleanup(func() {
		vm.Kill()
		cancel()
		if t.Failed() {
			t.Logf("console of %s (%s), last lines:\n%s", name, logPath, vm.Tail(40))
		}
	})
	return vm
}

func sanitize(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '/' || r == ' ' {
			return '_'
		}
		return r
	}, s)
}

// Expect waits for re on vm's console and fails the test if it does not come.
func Expect(t testing.TB, vm *image.VM, re string, timeout time.Duration) string {
	t.Helper()
	line, err := vm.Expect(regexp.MustCompile(re), timeout)
	if err != nil {
		t.Fatalf("console: %v", err)
	}
	return line
}

// FreeUDPPorts returns n distinct UDP ports on 127.0.0.1 that were free a
// moment ago, for QEMU socket netdevs.
func FreeUDPPorts(t testing.TB, n int) []int {
	t.Helper()
	var ports []int
	var conns []net.PacketConn
	for range n {
		c, err := net.ListenPacket("udp4", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
		ports = append(ports, c.LocalAddr().(*net.UDPAddr).Port)
	}
	for _, c := range conns {
		c.Close()
	}
	return ports
}

// GuestTest describes a Go test binary to run inside a guest.
type GuestTest struct {
	Arch    string
	Package string   // import path or ./dir of the package under test
	Run     string   // -test.run pattern
	Modules []string // loaded before the test runs
	Disks   []string // raw disk images, attached as virtio-blk in order (vda, vdb…)
	Timeout time.Duration
	Icount  bool // guest time counts instructions (image.Config.Icount)
}

// RunGuestTest cross-compiles the package's tests for the guest (`go test
// -c`), boots them under testinit with the test kernel, and fails t unless
// the tests pass inside the guest. The guest's output goes to t's log.
func RunGuestTest(t *testing.T, g GuestTest) {
	t.Helper()
	k := FindKernel(t, g.Arch)
	root := Root(t)
	testBin := filepath.Join(t.TempDir(), "pkg.test")
	cmd := exec.Command("go", "test", "-c", "-o", testBin, g.Package)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+g.Arch, "GOAMD64=v1")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go test -c %s for %s: %v\n%s", g.Package, g.Arch, err, b)
	}
	testData, err := os.ReadFile(testBin)
	if err != nil {
		t.Fatal(err)
	}
	initBin, err := os.ReadFile(BuildPackage(t, g.Arch, "./image/testinit"))
	if err != nil {
		t.Fatal(err)
	}
	initrd := BuildImage(t, image.Spec{
		Init:       initBin,
		ModulesDir: k.Modules,
		Modules:    g.Modules,
		Files:      []image.File{{Path: "/tests/pkg.test", Data: testData, Mode: 0o755}},
		Compress:   "none",
	})
	timeout := g.Timeout
	if timeout == 0 {
		timeout = 5 * time.Minute
	}
	vm := Boot(t, "guest", image.Config{
		Arch: g.Arch, Kernel: k.Image, Initrd: initrd, MemoryMB: 1024, Disks: g.Disks, Icount: g.Icount,
		Append: []string{
			"testinit.modules=" + strings.Join(g.Modules, ","),
			"testinit.run=/tests/pkg.test",
			`testinit.args="-test.v -test.count=1 -test.run=` + g.Run + `"`,
		},
	})
	line, err := vm.Expect(regexp.MustCompile(`^testinit: exit \d+`), timeout)
	t.Logf("guest output:\n%s", vm.Console())
	if err != nil {
		t.Fatalf("guest test: %v", err)
	}
	if line != "testinit: exit 0" {
		t.Fatalf("guest tests failed: %s", line)
	}
	if !strings.Contains(vm.Console(), "--- PASS") {
		t.Fatalf("guest ran no passing test (pattern %q)", g.Run)
	}
}
