package image

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/u-root/u-root/pkg/cpio"
)

func readRecords(t *testing.T, b []byte) map[string]cpio.Record {
	t.Helper()
	recs, err := cpio.ReadAllRecords(cpio.Newc.Reader(bytes.NewReader(b)))
	if err != nil {
		t.Fatalf("read cpio: %v", err)
	}
	m := make(map[string]cpio.Record)
	for _, r := range recs {
		m[r.Name] = r
	}
	return m
}

func TestBuildContents(t *testing.T) {
	spec := Spec{
		Init: []byte("\x7fELF fake init"),
		Files: []File{
			{Path: "/etc/wgboot/profiles/default.toml", Data: []byte("[board]\n")},
			{Path: "/etc/wgboot/wg0.key", Data: []byte("secret"), Mode: 0o600},
		},
	}
	var buf bytes.Buffer
	if err := Build(spec, &buf); err != nil {
		t.Fatal(err)
	}
	m := readRecords(t, buf.Bytes())
	tests := []struct {
		name string
		mode uint64
	}{
		{".", cpio.S_IFDIR | 0o755},
		{"init", cpio.S_IFREG | 0o755},
		{"dev", cpio.S_IFDIR | 0o755},
		{"dev/console", cpio.S_IFCHR | 0o600},
		{"dev/null", cpio.S_IFCHR | 0o666},
		{"etc", cpio.S_IFDIR | 0o755},
		{"etc/wgboot", cpio.S_IFDIR | 0o755},
		{"etc/wgboot/wg0.key", cpio.S_IFREG | 0o600},
		{"etc/wgboot/profiles/default.toml", cpio.S_IFREG | 0o644},
		{"bin/wgboot", cpio.S_IFLNK | 0o777},
		{"tmp", cpio.S_IFDIR | 0o1777},
	}
	for _, tt := range tests {
		r, ok := m[tt.name]
		if !ok {
			t.Errorf("image has no %q", tt.name)
			continue
		}
		if r.Mode != tt.mode {
			t.Errorf("%q mode = %o, want %o", tt.name, r.Mode, tt.mode)
		}
		if r.MTime != 0 || r.UID != 0 || r.GID != 0 {
			t.Errorf("%q not reproducible: mtime %d uid %d gid %d", tt.name, r.MTime, r.UID, r.GID)
		}
	}
	if c := m["dev/console"]; c.Rmajor != 5 || c.Rminor != 1 {
		t.Errorf("dev/console is %d:%d, want 5:1", c.Rmajor, c.Rminor)
	}
}

func TestBuildRejectsDuplicates(t *testing.T) {
	spec := Spec{Files: []File{{Path: "/a", Data: []byte("1")}, {Path: "/a", Data: []byte("2")}}}
	if err := Build(spec, &bytes.Buffer{}); err == nil {
		t.Fatal("Build with a path added twice succeeded, want error")
	}
}

// TestBuildReproducible builds the same spec twice, compressed as make
// image compresses for each arch, with the real module closure when the
// test kernels are there, and wants the same bytes.
func TestBuildReproducible(t *testing.T) {
	for _, arch := range []string{"amd64", "arm64"} {
		spec := Spec{
			Init:     []byte("\x7fELF fake init"),
			Files:    []File{{Path: "/etc/wgboot/profiles/default.toml", Data: []byte("[board]\n")}},
			Compress: "xz",
		}
		if dir := os.Getenv("WGBOOT_KERNELS"); dir != "" {
			spec.ModulesDir = dir + "/" + arch + "/modules"
			spec.Modules = []string{"wireguard"}
		}
		spec.XZ, _ = XZFor(arch, spec.ModulesDir)
		var a, b bytes.Buffer
		if err := Build(spec, &a); err != nil {
			t.Fatal(err)
		}
		if err := Build(spec, &b); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(a.Bytes(), b.Bytes()) {
			t.Fatalf("%s: two builds of the same spec (xz %+v) differ (%d and %d bytes)", arch, spec.XZ, a.Len(), b.Len())
		}
	}
}

func TestClosure(t *testing.T) {
	idx := map[string]Module{
		"wireguard":           {Name: "wireguard", Path: "w.ko", Depends: []string{"udp_tunnel", "libchacha20poly1305"}},
		"udp_tunnel":          {Name: "udp_tunnel", Path: "u.ko"},
		"libchacha20poly1305": {Name: "libchacha20poly1305", Path: "l.ko", Depends: []string{"libchacha"}},
		"libchacha":           {Name: "libchacha", Path: "c.ko"},
		"loop_a":              {Name: "loop_a", Path: "a.ko", Depends: []string{"loop_b"}},
		"loop_b":              {Name: "loop_b", Path: "b.ko", Depends: []string{"loop_a"}},
		"needs_missing":       {Name: "needs_missing", Path: "n.ko", Depends: []string{"gone"}},
	}
	mods, err := Closure(idx, []string{"wireguard"})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, m := range mods {
		got = append(got, m.Name)
	}
	want := []string{"libchacha", "libchacha20poly1305", "udp_tunnel", "wireguard"}
	if !equal(got, want) {
		t.Errorf("Closure(wireguard) = %v, want %v", got, want)
	}
	dep, err := ModulesDep(idx, mods)
	if err != nil {
		t.Fatal(err)
	}
	wantDep := "c.ko:\nl.ko: c.ko\nu.ko:\nw.ko: u.ko l.ko c.ko\n"
	if string(dep) != wantDep {
		t.Errorf("ModulesDep = %q, want %q", dep, wantDep)
	}
	if _, err := Closure(idx, []string{"loop_a"}); err == nil {
		t.Error("Closure with a cycle succeeded, want error")
	}
	if _, err := Closure(idx, []string{"needs_missing"}); err == nil {
		t.Error("Closure with a missing dependency succeeded, want error")
	}
	if _, err := Closure(idx, []string{"Wire-Guard"}); err == nil {
		t.Error("Closure of an unknown module succeeded, want error")
	}
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestModuleName(t *testing.T) {
	for in, want := range map[string]string{
		"kernel/drivers/net/wireguard/wireguard.ko": "wireguard",
		"chacha-neon.ko.xz":                         "chacha_neon",
		"virtio_net":                                "virtio_net",
		"ip6-udp-tunnel.ko.zst":                     "ip6_udp_tunnel",
	} {
		if got := ModuleName(in); got != want {
			t.Errorf("ModuleName(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestIndexModulesErrors: a modules directory that is not there, not a
// directory or holds no module is named as such, not as a bare lstat error.
func TestIndexModulesErrors(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	empty := filepath.Join(dir, "lib", "modules", "6.1.0")
	if err := os.MkdirAll(empty, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ dir, want string }{
		{filepath.Join(dir, "none", "lib", "modules", "6.1.0"), "does not exist"},
		{".cache/kernels/arm64/modules", "modules directory .cache/kernels/arm64/modules does not exist"},
		{file, "is not a directory"},
		{empty, "holds no kernel modules"},
	} {
		_, err := IndexModules(tt.dir)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("IndexModules(%s) = %v, want an error saying %q", tt.dir, err, tt.want)
		}
	}
}
