package main

import "testing"

func TestNamePkg(t *testing.T) {
	for _, c := range []struct{ sym, pkg string }{
		{"github.com/wgboot/wgboot/netsetup/wg.(*setBuilder).next", "github.com/wgboot/wgboot/netsetup/wg"},
		{"runtime.mallocgc", "runtime"},
		{"main.(*boot).main.func1", "main"},
		{"slices.pdqsortCmpFunc[go.shape.struct { net/netip.ip net/netip.Addr }]", "slices"},
		{"type:*github.com/BurntSushi/toml.Decoder", "github.com/BurntSushi/toml"},
		{"type:[]map[string]*net/netip.Prefix", "net/netip"},
		{"type:map[[4]uint8]os.File", "os"},
		{"type:.eq.[8]internal/cpu.option", "internal/cpu"},
		{"go:itab.*reflect.rtype,reflect.Type", "reflect"},
		{"type:struct { a int }", "(anonymous types)"},
		{"go:string.\"fatal error: \"", ""},
		{"gclocals·g5+hNtRBP6YXNjfog7aZjQ==", ""},
		{"type:.namedata.*unix.Stat_t.", ""},
		{"aeshashbody", "(assembly)"},
	} {
		if got := namePkg(c.sym); got != c.pkg {
			t.Errorf("namePkg(%q) = %q, want %q", c.sym, got, c.pkg)
		}
	}
}

func TestDepsPkg(t *testing.T) {
	g := readDeps([]byte("# github.com/wgboot/wgboot/init\n" +
		"fmt.Errorf -> go:string.\"%!(NOVERB)\"\n" +
		"type:*os.File <UsedInIface> -> go:string.\"x\"\n" +
		"go:info.fmt.pp -> go:string.\"y\"\n"))
	if got := g.pkg(`go:string."%!(NOVERB)"`); got != "fmt" {
		t.Errorf("string used by fmt.Errorf: %q", got)
	}
	if got := g.pkg(`go:string."x"`); got != "os" {
		t.Errorf("string used by type:*os.File: %q", got)
	}
	if got := g.pkg(`go:string."y"`); got != "(unattributed)" {
		t.Errorf("string used only by DWARF: %q", got)
	}
}
