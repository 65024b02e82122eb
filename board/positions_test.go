package board

import (
	"strings"
	"testing"
)

func TestLocate(t *testing.T) {
	src := `# comment with [brackets] and "quotes"
board.name = "x"   # dotted key at the top
[uplink]
"interface" = 'eth0'
address = [
  # a comment inside an array, with a ] in it
  "192.0.2.2/24",
  """192.0.2.3/24""",
]
[[tunnel]]
name = """
multi-line with [[tunnel]] and "quotes" inside
"""
[[tunnel.peer]]
public_key = "k1"
[[tunnel.peer]]
allowed_ips = [ "10.0.0.0/8" , '10.1.0.0/16' ]
[[tunnel]]
peer = [ { public_key = "a" }, {endpoint="b", allowed_ips=["c", "d"]} ]
[handoff]
deadline = 1979-05-27 07:32:00
init = "/sbin/init"
`
	tests := []struct {
		path      string
		line, col int
	}{
		{"board.name", 2, 14},
		{"uplink", 3, 1},
		{"uplink.interface", 4, 15},
		{"uplink.address", 5, 11},
		{"uplink.address[0]", 7, 3},
		{"uplink.address[1]", 8, 3},
		{"tunnel", 10, 1},
		{"tunnel[0]", 10, 1},
		{"tunnel[0].name", 11, 8},
		{"tunnel[0].peer[0].public_key", 15, 14},
		{"tunnel[0].peer[1]", 16, 1},
		{"tunnel[0].peer[1].allowed_ips[1]", 17, 32},
		{"tunnel[1]", 18, 1},
		{"tunnel[1].peer[0].public_key", 19, 25},
		{"tunnel[1].peer[1]", 19, 32},
		{"tunnel[1].peer[1].endpoint", 19, 42},
		{"tunnel[1].peer[1].allowed_ips[1]", 19, 65},
		{"handoff.init", 22, 8},
		// Missing keys fall back to their table, unknown tables to 1:1.
		{"tunnel[1].name", 18, 1},
		{"nothing.here", 1, 1},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			ds := Diagnostics{{Path: tt.path, Kind: ErrInvalid}}
			(&source{name: "f.toml", data: src}).locate(ds)
			if got := ds[0].Pos; got.Line != tt.line || got.Col != tt.col || got.File != "f.toml" {
				t.Errorf("locate(%s) = %v, want f.toml:%d:%d", tt.path, got, tt.line, tt.col)
			}
		})
	}
	// All at once, and with a quoted path that turns off pruning: the
	// scanner stops early or skips tables only when that changes nothing.
	for _, extra := range []string{"", `tunnel[0]."x.y"`} {
		var ds Diagnostics
		want := make(map[string]Position)
		for _, tt := range tests {
			ds = append(ds, Diagnostic{Path: tt.path, Kind: ErrInvalid})
			want[tt.path] = Position{"f.toml", tt.line, tt.col}
		}
		if extra != "" {
			ds = append(ds, Diagnostic{Path: extra, Kind: ErrInvalid})
			want[extra] = Position{"f.toml", 10, 1}
		}
		(&source{name: "f.toml", data: src}).locate(ds)
		for _, d := range ds {
			if d.Pos != want[d.Path] {
				t.Errorf("locate(all%s) %s at %v, want %v", extra, d.Path, d.Pos, want[d.Path])
			}
		}
	}
}

// TestLocate_unknownKey checks that an unknown key points at the key and
// a bad value at the value.
func TestLocate_unknownKey(t *testing.T) {
	src := "[uplink]\n  interface = 7\n"
	ds := Diagnostics{{Path: "uplink.interface", Kind: ErrUnknownKey}, {Path: "uplink.interface", Kind: ErrType}}
	(&source{name: "f", data: src}).locate(ds)
	if ds[0].Pos.Col != 3 || ds[1].Pos.Col != 15 {
		t.Errorf("columns = %d, %d; want 3 (key) and 15 (value)", ds[0].Pos.Col, ds[1].Pos.Col)
	}
}

func TestFieldPath(t *testing.T) {
	root := fieldPath{}
	tun := root.child("tunnel")
	t0 := tun.elem(0)
	peer := t0.child("peer")
	p2 := peer.elem(2)
	ips := p2.child("allowed_ips")
	e1 := ips.elem(1)
	odd := t0.child("a key")
	if got, want := e1.String(), "tunnel[0].peer[2].allowed_ips[1]"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
	if got, want := odd.String(), `tunnel[0]."a key"`; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
	for p, want := range map[string]string{
		"tunnel[0].peer[2].allowed_ips[1]": "tunnel[0].peer[2].allowed_ips",
		"tunnel[0].peer":                   "tunnel[0]",
		"tunnel[0]":                        "tunnel",
		"tunnel":                           "",
	} {
		if got := parentPath(p); got != want {
			t.Errorf("parentPath(%q) = %q, want %q", p, got, want)
		}
	}
}

func TestSuggest(t *testing.T) {
	for k, want := range map[string]string{
		"AllowedIPs":   "allowed_ips",
		"endpiont":     "endpoint",
		"public-key":   "public_key",
		"xyzzy":        "",
		"preshared_ke": "preshared_key",
		"persistent":   "",
		"PresharedKey": "preshared_key",
	} {
		if got := suggest(k, strings.Fields(peerKeys)); got != want {
			t.Errorf("suggest(%q) = %q, want %q", k, got, want)
		}
	}
}
