package board

import (
	"slices"
	"strings"
	"testing"
	"testing/fstest"
)

func TestIdentify(t *testing.T) {
	tests := []struct {
		name string
		fsys fstest.MapFS
		want Identity
	}{
		{
			name: "x86 with DMI",
			fsys: fstest.MapFS{
				"sys/class/dmi/id/sys_vendor":   {Data: []byte("QEMU\n")},
				"sys/class/dmi/id/product_name": {Data: []byte("Standard PC (i440FX + PIIX, 1996)\n")},
				"sys/class/dmi/id/board_name":   {Data: []byte("  \n")},
			},
			want: Identity{Vendor: "QEMU", Product: "Standard PC (i440FX + PIIX, 1996)"},
		},
		{
			name: "arm64 with a device tree",
			fsys: fstest.MapFS{
				"proc/device-tree/compatible": {Data: []byte("friendlyarm,nanopi-r4s\x00rockchip,rk3399\x00")},
			},
			want: Identity{Compatible: []string{"friendlyarm,nanopi-r4s", "rockchip,rk3399"}},
		},
		{
			name: "device tree without /proc",
			fsys: fstest.MapFS{
				"sys/firmware/devicetree/base/compatible": {Data: []byte("linux,dummy-virt\x00")},
			},
			want: Identity{Compatible: []string{"linux,dummy-virt"}},
		},
		{name: "nothing", fsys: fstest.MapFS{}, want: Identity{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Identify(tt.fsys)
			if got.Vendor != tt.want.Vendor || got.Product != tt.want.Product || got.Board != tt.want.Board || !slices.Equal(got.Compatible, tt.want.Compatible) {
				t.Errorf("Identify() = %#v, want %#v", got, tt.want)
			}
		})
	}
}

func TestIdentity_Names(t *testing.T) {
	id := Identity{Vendor: "PC Engines", Product: "apu2", Board: "apu2", Compatible: []string{"a,b"}}
	want := []string{"PC Engines apu2", "apu2", "a,b"}
	if got := id.Names(); !slices.Equal(got, want) {
		t.Errorf("Names() = %q, want %q", got, want)
	}
}

func profileNamed(name, file string, match ...string) *Profile {
	return &Profile{Board: Board{Name: name, Match: match}, src: &source{name: file}}
}

func TestSelect(t *testing.T) {
	apu := profileNamed("apu2", "profiles/apu2.toml", "PC Engines apu2", "apu2")
	r4s := profileNamed("nanopi-r4s", "profiles/nanopi-r4s.toml", "friendlyarm,nanopi-r4s")
	soc := profileNamed("rk3399", "profiles/rk3399.toml", "rockchip,rk3399")
	def := profileNamed("default", "profiles/default.toml")
	hub := profileNamed("hub", "profiles/hub.toml")
	all := []*Profile{apu, soc, r4s, def, hub}

	r4sID := Identity{Compatible: []string{"friendlyarm,nanopi-r4s", "rockchip,rk3399"}}
	tests := []struct {
		name     string
		profiles []*Profile
		id       Identity
		override string
		want     *Profile
		reason   string // substring
	}{
		{"DMI product name", all, Identity{Vendor: "PC Engines", Product: "apu2"}, "", apu, `matches "PC Engines apu2"`},
		{"most specific compatible wins over profile order", all, r4sID, "", r4s, `"friendlyarm,nanopi-r4s"`},
		{"less specific compatible", all, Identity{Compatible: []string{"friendlyarm,nanopi-r4c", "rockchip,rk3399"}}, "", soc, "rk3399"},
		{"no match falls back to default", all, Identity{Product: "unknown"}, "", def, "default"},
		{"override by board name", all, r4sID, "hub", hub, "wgboot.board=hub"},
		{"override by file name", all, r4sID, "apu2", apu, "wgboot.board=apu2"},
		{"unknown override falls back to matching", all, r4sID, "nope", r4s, "wgboot.board=nope matches no profile"},
		{"nothing at all", []*Profile{apu}, Identity{}, "", nil, "no DMI or device-tree identity"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, reason := Select(tt.profiles, tt.id, tt.override)
			if got != tt.want {
				t.Errorf("Select() = %s, want %s (reason %q)", got.File(), tt.want.File(), reason)
			}
			if !strings.Contains(reason, tt.reason) {
				t.Errorf("Select() reason = %q, want it to contain %q", reason, tt.reason)
			}
		})
	}
}

func TestConflicts(t *testing.T) {
	a, _ := Parse("a.toml", []byte("[board]\nname = \"a\"\nmatch = [\"x\", \"y\"]\n"))
	b, _ := Parse("b.toml", []byte("[board]\nname = \"a\"\nmatch = [\"z\", \"y\"]\n"))
	ds := Conflicts([]*Profile{a, b})
	if len(ds) != 2 {
		t.Fatalf("Conflicts() = %v, want 2 diagnostics", ds)
	}
	for _, d := range ds {
		if d.Pos.File != "b.toml" || d.Kind != ErrConflict {
			t.Errorf("diagnostic %v: want a conflict in b.toml", d)
		}
	}
	if ds[0].Path != "board.name" || ds[0].Pos.Line != 2 || ds[1].Path != "board.match[1]" || ds[1].Pos.Line != 3 {
		t.Errorf("Conflicts() = %v, want board.name on line 2 and board.match[1] on line 3", ds)
	}
}
