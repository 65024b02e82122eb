package image

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestDictSize(t *testing.T) {
	for _, tt := range []struct{ n, want int }{
		{0, 4 << 10},
		{4 << 10, 4 << 10},
		{4<<10 + 1, 6 << 10},
		{6<<10 + 1, 8 << 10},
		{4030380, 4 << 20}, // the arm64 default image of 2026-12-07
		{4504552, 6 << 20}, // the amd64 one
		{6<<20 + 1, 8 << 20},
		{48<<20 + 1, 64 << 20},
		{1 << 30, 64 << 20},
	} {
		if got := dictSize(tt.n); got != tt.want {
			t.Errorf("dictSize(%d) = %d, want %d", tt.n, got, tt.want)
		}
	}
}

func TestXZArgs(t *testing.T) {
	for _, tt := range []struct {
		x    XZ
		want []string
		err  string
	}{
		{XZ{}, []string{"--lzma2=preset=9e,dict=4194304"}, ""},
		{XZ{BCJ: "x86"}, []string{"--x86", "--lzma2=preset=9e,dict=4194304"}, ""},
		{XZ{LZMA2: "lc=2,lp=2,pb=2"}, []string{"--lzma2=preset=9e,dict=4194304,lc=2,lp=2,pb=2"}, ""},
		{XZ{BCJ: "delta"}, nil, "unknown xz BCJ filter"},
		{XZ{BCJ: "x86 --lzma1"}, nil, "unknown xz BCJ filter"},
		{XZ{LZMA2: "dict=64MiB"}, nil, `option "dict=64MiB"`},
		{XZ{LZMA2: "lc=2,preset=0"}, nil, `option "preset=0"`},
	} {
		got, err := tt.x.args(4 << 20)
		switch {
		case tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)):
			t.Errorf("%+v.args() error = %v, want one with %q", tt.x, err, tt.err)
		case tt.err == "" && (err != nil || !slices.Equal(got, tt.want)):
			t.Errorf("%+v.args() = %q, %v; want %q", tt.x, got, err, tt.want)
		}
	}
}

// kernelTree lays out a kernel as scripts/kernels.sh unpacks it: root/ with
// lib/modules/<version> and boot/config-<version>, and a modules link.
func kernelTree(t *testing.T, config string) string {
	t.Helper()
	dir := t.TempDir()
	const ver = "6.1.0-test"
	mods := filepath.Join(dir, "root", "lib", "modules", ver)
	if err := os.MkdirAll(mods, 0o755); err != nil {
		t.Fatal(err)
	}
	if config != "" {
		boot := filepath.Join(dir, "root", "boot")
		if err := os.MkdirAll(boot, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(boot, "config-"+ver), []byte(config), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	link := filepath.Join(dir, "modules")
	if err := os.Symlink(filepath.Join("root", "lib", "modules", ver), link); err != nil {
		t.Fatal(err)
	}
	return link
}

func TestXZFor(t *testing.T) {
	x86 := "CONFIG_XZ_DEC=y\nCONFIG_XZ_DEC_X86=y\n# CONFIG_XZ_DEC_ARM is not set\n"
	a64 := "CONFIG_XZ_DEC=y\nCONFIG_XZ_DEC_ARM64=y\n"
	none := "CONFIG_XZ_DEC=y\n# CONFIG_XZ_DEC_X86 is not set\n"
	for _, tt := range []struct {
		name, arch, config string
		want               XZ
	}{
		{"amd64, x86 decoder", "amd64", x86, XZ{BCJ: "x86"}},
		{"amd64, no x86 decoder", "amd64", none, XZ{}},
		{"amd64, no config: on by default", "amd64", "", XZ{BCJ: "x86"}},
		{"arm64 on 6.1: no arm64 decoder", "arm64", x86 + "# CONFIG_XZ_DEC_ARMTHUMB is not set\n", XZ{LZMA2: "lc=2,lp=2,pb=2"}},
		{"arm64 with the arm64 decoder", "arm64", a64, XZ{BCJ: "arm64", LZMA2: "lc=2,lp=2,pb=2"}},
		{"arm64, no config", "arm64", "", XZ{LZMA2: "lc=2,lp=2,pb=2"}},
		{"unknown arch", "riscv64", a64, XZ{}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, why := XZFor(tt.arch, kernelTree(t, tt.config))
			if got != tt.want {
				t.Errorf("XZFor(%s) = %+v (%s), want %+v", tt.arch, got, why, tt.want)
			}
		})
	}
	t.Run("build tree .config", func(t *testing.T) {
		mods := t.TempDir()
		if err := os.MkdirAll(filepath.Join(mods, "build"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(mods, "build", ".config"), []byte(none), 0o644); err != nil {
			t.Fatal(err)
		}
		if got, why := XZFor("amd64", mods); got.BCJ != "" {
			t.Errorf("XZFor(amd64) with CONFIG_XZ_DEC_X86 not set in build/.config = %+v (%s), want no BCJ", got, why)
		}
	})
	// The test kernels: amd64's config enables the x86 decoder, arm64's
	// (Linux 6.1) has no arm64 decoder.
	if dir := os.Getenv("WGBOOT_KERNELS"); dir != "" {
		for arch, bcj := range map[string]string{"amd64": "x86", "arm64": ""} {
			if got, why := XZFor(arch, filepath.Join(dir, arch, "modules")); got.BCJ != bcj {
				t.Errorf("XZFor(%s, test kernel) = %+v (%s), want BCJ %q", arch, got, why, bcj)
			}
		}
	}
}

// TestXZRoundTrip: every filter image.Build may use gives back the cpio
// (xz itself decodes it; that the kernel does is the QEMU tests' part),
// with a CRC32 check and the dictionary the header names no larger than
// needed.
func TestXZRoundTrip(t *testing.T) {
	raw := bytes.Repeat([]byte("wgboot \x7fELF \xe8\x00\x00\x00\x00 \x94\x00\x00\x00 "), 20000)
	for _, x := range []XZ{{}, {BCJ: "x86"}, {BCJ: "arm64", LZMA2: "lc=2,lp=2,pb=2"}, {LZMA2: "lc=2,lp=2,pb=2"}} {
		var comp bytes.Buffer
		if err := compress("xz", x, raw, &comp); err != nil {
			t.Fatalf("%+v: %v", x, err)
		}
		cmd := exec.Command("xz", "-dc")
		cmd.Stdin = bytes.NewReader(comp.Bytes())
		out, err := cmd.Output()
		if err != nil || !bytes.Equal(out, raw) {
			t.Errorf("%+v: xz -dc gives %d bytes, %v; want the %d bytes back", x, len(out), err, len(raw))
		}
		f := filepath.Join(t.TempDir(), "x.xz")
		if err := os.WriteFile(f, comp.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		list, err := exec.Command("xz", "--robot", "-lvv", f).Output()
		if err != nil {
			t.Fatal(err)
		}
		dict := fmt.Sprintf("dict=%dKiB", dictSize(len(raw))>>10)
		for _, want := range []string{"\tCRC32\t", dict} {
			if !strings.Contains(string(list), want) {
				t.Errorf("%+v: xz -lvv has no %q:\n%s", x, want, list)
			}
		}
		if x.BCJ != "" && !strings.Contains(string(list), "--"+x.BCJ) {
			t.Errorf("%+v: xz -lvv shows no --%s filter:\n%s", x, x.BCJ, list)
		}
	}
}
