package board

import (
	"errors"
	"io/fs"
	"testing"
	"testing/fstest"
)

func TestLoadDir(t *testing.T) {
	good := []byte("[board]\nname = \"good\"\nmatch = [\"x\"]\n")
	fsys := fstest.MapFS{
		"etc/wgboot/profiles/a-good.toml":   {Data: good},
		"etc/wgboot/profiles/b-broken.toml": {Data: []byte("[board\n")},
		"etc/wgboot/profiles/c-types.toml":  {Data: []byte("[board]\nname = 7\n")},
		"etc/wgboot/profiles/README":        {Data: []byte("not a profile")},
		"etc/wgboot/profiles/keys/x.toml":   {Data: good},
	}
	profiles, ds := LoadDir(fsys, "etc/wgboot/profiles")
	if len(profiles) != 2 || profiles[0].Board.Name != "good" || profiles[1].File() != "etc/wgboot/profiles/c-types.toml" {
		t.Errorf("LoadDir() profiles = %d, want a-good and c-types (a type error does not hide a profile)", len(profiles))
	}
	if len(ds) != 2 || !errors.Is(ds[0], ErrSyntax) || !errors.Is(ds[1], ErrType) {
		t.Errorf("LoadDir() diagnostics = %v, want a syntax error and a type error", ds)
	}
	if _, ds := LoadDir(fsys, "nope"); len(ds) != 1 || !errors.Is(ds[0], ErrRead) || !errors.Is(ds.Err(), ErrRead) {
		t.Errorf("LoadDir(missing) = %v, want ErrRead", ds)
	}
}

func TestLoad(t *testing.T) {
	if p, ds := Load(fstest.MapFS{}, "x.toml"); p != nil || !errors.Is(ds.Err(), ErrRead) || !errors.Is(ds[0], ErrRead) {
		t.Errorf("Load(missing) = %v, %v; want nil, ErrRead", p, ds)
	}
	var fsys fs.FS = fstest.MapFS{"x.toml": {Data: []byte("[board\n")}}
	if p, ds := Load(fsys, "x.toml"); p != nil || !errors.Is(ds.Err(), ErrSyntax) {
		t.Errorf("Load(broken) = %v, %v; want nil, ErrSyntax", p, ds)
	}
}
