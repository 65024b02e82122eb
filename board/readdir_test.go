package board

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"testing/fstest"
)

// TestReadDirAsFSReadDir: readDir, which LoadDir uses instead of
// fs.ReadDir to keep a generic sort out of /init, gives fs.ReadDir's
// entries in fs.ReadDir's order, and its errors on os.DirFS, the file
// system /init gives LoadDir (on an fstest.MapFS, an invalid name is
// "invalid argument" rather than MapFS's "file does not exist").
func TestReadDirAsFSReadDir(t *testing.T) {
	dir := t.TempDir()
	for _, n := range []string{"m.toml", "b.toml", "Z.toml", "a", "_x", "10.toml", "9.toml"} {
		if err := os.WriteFile(filepath.Join(dir, n), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Mkdir(filepath.Join(dir, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	systems := map[string]fs.FS{
		"DirFS": os.DirFS(dir),
		"MapFS": fstest.MapFS{"d/q": {}, "d/b": {}, "d/a/x": {}, "d/c": {}, "f": {}},
	}
	for name, fsys := range systems {
		for _, d := range []string{".", "d", "sub", "missing", "f", "m.toml", "../x", "a/"} {
			if name == "MapFS" && !fs.ValidPath(d) {
				continue
			}
			want, wantErr := fs.ReadDir(fsys, d)
			got, gotErr := readDir(fsys, d)
			if fmt.Sprint(gotErr) != fmt.Sprint(wantErr) {
				t.Errorf("%s %q: error %v, want %v", name, d, gotErr, wantErr)
			}
			if names(got) != names(want) {
				t.Errorf("%s %q: %v, want %v", name, d, names(got), names(want))
			}
			for i := range min(len(got), len(want)) {
				if got[i].IsDir() != want[i].IsDir() || !reflect.DeepEqual(got[i].Type(), want[i].Type()) {
					t.Errorf("%s %q: entry %s differs", name, d, got[i].Name())
				}
			}
		}
	}
}

func names(es []fs.DirEntry) string {
	var s []string
	for _, e := range es {
		s = append(s, e.Name())
	}
	return fmt.Sprint(s)
}
