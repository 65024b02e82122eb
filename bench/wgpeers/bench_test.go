// Package wgpeers benchmarks configuring many WireGuard peers inside one
// QEMU guest: wgboot's netsetup/wg against Debian's `wg setconf` and
// wgctrl-go. It is a separate module so that wgctrl-go never enters the
// main go.mod. Run it with run.sh, which fetches wg(8) and its libraries.
package wgpeers

import (
	"debug/elf"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/wgboot/wgboot/image"
	"github.com/wgboot/wgboot/image/imagetest"
)

// TestBenchPeers boots one guest with wg(8), its shared libraries, the
// wireguard module and cmd/wgbench, and prints wgbench's table. It is a
// benchmark, not a timed test: it fails only if a tool fails.
//
//	WGBOOT_BENCH=1 WGBENCH_ROOT=<unpacked debs> WGBOOT_KERNELS=<kernels> [WGBENCH_ARCH=amd64] [WGBENCH_ARGS=-runs=3] [WGBENCH_ICOUNT=1]
//
// With WGBENCH_ICOUNT=1 the guest runs under QEMU's -icount
// shift=0,sleep=off: its clock, which wgbench reads, advances 1 ns per
// instruction, so the table is in instruction time. wgbench is built with
// /init's compiler flags (image/initflags.txt), so that the wgboot columns
// run board and netsetup/wg as /init's build compiles them (and wgctrl-go
// without inlining); with WGBENCH_INITFLAGS=0, with the default flags.
func TestBenchPeers(t *testing.T) {
	if os.Getenv("WGBOOT_BENCH") == "" {
		t.Skip("benchmark: run bench/wgpeers/run.sh")
	}
	arch := cmpOr(os.Getenv("WGBENCH_ARCH"), "amd64")
	debRoot := os.Getenv("WGBENCH_ROOT")
	k := imagetest.FindKernel(t, arch)

	var flags []string
	if os.Getenv("WGBENCH_INITFLAGS") != "0" {
		flags = image.InitBuildFlags()
	}
	bench := build(t, arch, "./cmd/wgbench", flags...)
	testinit := build(t, arch, "github.com/wgboot/wgboot/image/testinit")
	files := []image.File{{Path: "/bench/wgbench", Data: read(t, bench), Mode: 0o755}}
	files = append(files, elfClosure(t, debRoot, "/usr/bin/wg")...)

	initrd := imagetest.BuildImage(t, image.Spec{
		Init: read(t, testinit), ModulesDir: k.Modules, Modules: []string{"wireguard"},
		Files: files, Compress: "none",
	})
	args := cmpOr(os.Getenv("WGBENCH_ARGS"), "-runs=3")
	icount := os.Getenv("WGBENCH_ICOUNT") == "1"
	guest := "QEMU TCG, 1 vCPU"
	if icount {
		guest = "QEMU -icount shift=0,sleep=off, 1 vCPU: instruction time, 1 ms = 10⁶ instructions"
	}
	vm := imagetest.Boot(t, "bench", image.Config{
		Arch: arch, Kernel: k.Image, Initrd: initrd, MemoryMB: 2048, Icount: icount,
		Append: []string{"testinit.modules=wireguard", "testinit.run=/bench/wgbench", `testinit.args="` + args + `"`},
	})
	line, err := vm.Expect(regexp.MustCompile(`^testinit: exit \d+`), 90*time.Minute)
	console := vm.Console()
	if err != nil || line != "testinit: exit 0" {
		t.Fatalf("wgbench: %v %s\n%s", err, line, console)
	}
	_, rest, _ := strings.Cut(console, "wgbench: table begin")
	table, _, _ := strings.Cut(rest, "wgbench: table end")
	var lines []string
	for _, l := range strings.Split(console, "\n") {
		if strings.HasPrefix(l, "wgbench: N=") || strings.HasPrefix(l, "wgbench: wireguard-tools") {
			lines = append(lines, l)
		}
	}
	report := "# wgpeers, " + arch + " guest (" + guest + ")\n\n" + strings.TrimSpace(table) + "\n\nRuns:\n\n" + strings.Join(lines, "\n") + "\n"
	t.Log("\n" + report)
	if out := os.Getenv("WGBENCH_OUT"); out != "" {
		if err := os.WriteFile(out, []byte(report), 0o644); err != nil {
			t.Error(err)
		}
	}
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func read(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// build builds a static guest binary.
func build(t *testing.T, arch, pkg string, flags ...string) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), filepath.Base(pkg))
	cmd := exec.Command("go", append(append([]string{"build", "-trimpath", "-o", out}, flags...), pkg)...)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+arch, "GOAMD64=v1", "GOFLAGS=-mod=mod")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build %s: %v\n%s", pkg, err, b)
	}
	return out
}

// elfClosure returns the binary at path inside root (unpacked .debs) with
// its ELF interpreter and the NEEDED libraries, recursively, found in the
// usual library directories. Symlinks are kept as symlinks.
func elfClosure(t *testing.T, root, path string) []image.File {
	t.Helper()
	if root == "" {
		t.Fatal("WGBENCH_ROOT is not set: run bench/wgpeers/run.sh")
	}
	var files []image.File
	seen := map[string]bool{}
	var add func(p string)
	add = func(p string) {
		if seen[p] {
			return
		}
		seen[p] = true
		host := filepath.Join(root, p)
		if target, err := os.Readlink(host); err == nil {
			files = append(files, image.File{Path: p, Target: target})
			if !filepath.IsAbs(target) {
				target = filepath.Join(filepath.Dir(p), target)
			}
			add(target)
			return
		}
		f, err := elf.Open(host)
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		defer f.Close()
		files = append(files, image.File{Path: p, Data: read(t, host), Mode: 0o755})
		for _, prog := range f.Progs {
			if prog.Type == elf.PT_INTERP {
				b := make([]byte, prog.Filesz)
				if _, err := prog.ReadAt(b, 0); err != nil {
					t.Fatal(err)
				}
				add(strings.TrimRight(string(b), "\x00"))
			}
		}
		libs, err := f.ImportedLibraries()
		if err != nil {
			t.Fatal(err)
		}
		for _, lib := range libs {
			found := false
			for _, dir := range []string{"/lib/x86_64-linux-gnu", "/lib/aarch64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/usr/lib/aarch64-linux-gnu", "/lib", "/usr/lib"} {
				if _, err := os.Lstat(filepath.Join(root, dir, lib)); err == nil {
					add(filepath.Join(dir, lib))
					found = true
					break
				}
			}
			if !found {
				t.Fatalf("%s needs %s, not found under %s", p, lib, root)
			}
		}
	}
	add(path)
	return files
}
