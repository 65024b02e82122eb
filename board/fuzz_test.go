package board

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// FuzzParseProfile checks that Parse and Validate never panic on any
// input, that every diagnostic renders, and that a profile that parses
// without errors survives MarshalSecrets → Parse unchanged.
func FuzzParseProfile(f *testing.F) {
	for _, pattern := range []string{"testdata/valid/*.toml", "testdata/invalid/*.toml", "profiles/*.toml"} {
		files, _ := filepath.Glob(pattern)
		for _, file := range files {
			data, err := os.ReadFile(file)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(data)
		}
	}
	f.Add(hubProfile(3))
	f.Fuzz(func(t *testing.T, data []byte) {
		// The scanner only sees text the toml package accepted, but it
		// must not hang or panic on anything.
		(&source{name: "raw.toml", data: string(data)}).locate(Diagnostics{
			{Path: "tunnel[0].peer[1].allowed_ips[2]"}, {Path: "board.name"}, {Path: "x.\"y\"[3]"},
		})
		p, ds := Parse("fuzz.toml", data)
		for _, d := range ds {
			_ = d.Error()
			if d.Pos.File != "fuzz.toml" || d.Pos.Line < 1 || d.Pos.Col < 1 {
				t.Errorf("diagnostic without a position: %#v", d)
			}
		}
		if p == nil {
			if !ds.HasErrors() {
				t.Fatal("Parse returned no profile and no error")
			}
			return
		}
		for _, d := range p.Validate() {
			_ = d.Error()
			if d.Pos.Line < 1 || d.Pos.Col < 1 {
				t.Errorf("diagnostic without a position: %#v", d)
			}
		}
		p.ApplyOverrides(Overrides{OnFailure: FailHalt})
		if ds.HasErrors() {
			return
		}
		out, err := MarshalSecrets(p)
		if err != nil {
			t.Fatalf("MarshalSecrets: %v", err)
		}
		back, bds := Parse("again.toml", out)
		if back == nil || bds.HasErrors() {
			t.Fatalf("Parse(MarshalSecrets(p)): %v\n%s", bds.Err(), out)
		}
		if !reflect.DeepEqual(stripped(p), stripped(back)) || !sameSecrets(p, back) {
			t.Fatalf("round trip changed the profile:\n%s", out)
		}
	})
}
