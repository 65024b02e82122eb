package board

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// kinds names every Err* value for the "# want:" lines of testdata.
var kinds = map[string]error{
	"ErrRead": ErrRead, "ErrSyntax": ErrSyntax, "ErrUnknownKey": ErrUnknownKey,
	"ErrType": ErrType, "ErrRequired": ErrRequired, "ErrInvalid": ErrInvalid,
	"ErrRange": ErrRange, "ErrKey": ErrKey, "ErrDuplicate": ErrDuplicate,
	"ErrOverlap": ErrOverlap, "ErrHostBits": ErrHostBits, "ErrLoop": ErrLoop,
	"ErrMTU": ErrMTU, "ErrSelfPeer": ErrSelfPeer, "ErrSecret": ErrSecret,
	"ErrKeyFile": ErrKeyFile, "ErrPermissions": ErrPermissions, "ErrConflict": ErrConflict,
}

// want is one expected diagnostic, written in testdata as
// "# want[ warning]: LINE:COL PATH ErrKind".
type want struct {
	sev  Severity
	line int
	col  int
	path string
	kind string
}

func (w want) String() string {
	return fmt.Sprintf("%s %d:%d %s %s", w.sev, w.line, w.col, w.path, w.kind)
}

func parseWants(t *testing.T, data []byte) []want {
	t.Helper()
	var ws []want
	for i, l := range strings.Split(string(data), "\n") {
		var sev Severity
		switch {
		case strings.HasPrefix(l, "# want: "):
			sev, l = SeverityError, strings.TrimPrefix(l, "# want: ")
		case strings.HasPrefix(l, "# want warning: "):
			sev, l = SeverityWarning, strings.TrimPrefix(l, "# want warning: ")
		default:
			continue
		}
		f := strings.Fields(l)
		if len(f) != 3 {
			t.Fatalf("line %d: want line %q: need LINE:COL PATH KIND", i+1, l)
		}
		ls, cs, _ := strings.Cut(f[0], ":")
		line, err1 := strconv.Atoi(ls)
		col, err2 := strconv.Atoi(cs)
		if err1 != nil || err2 != nil {
			t.Fatalf("line %d: bad position %q", i+1, f[0])
		}
		if _, ok := kinds[f[2]]; !ok {
			t.Fatalf("line %d: unknown kind %q", i+1, f[2])
		}
		path := f[1]
		if path == "-" {
			path = ""
		}
		ws = append(ws, want{sev, line, col, path, f[2]})
	}
	return ws
}

// loadTestdata runs the whole pipeline as `check` does.
func loadTestdata(t *testing.T, file string) (*Profile, Diagnostics) {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	p, ds := Parse(file, data)
	if p == nil {
		return nil, ds
	}
	ds = append(ds, p.ReadKeys(KeySource{Dir: os.DirFS(filepath.Dir(file))})...)
	ds = append(ds, p.Validate()...)
	ds.Sort()
	return p, ds
}

func matchWants(t *testing.T, file string, ws []want, ds Diagnostics) {
	t.Helper()
	var got []want
	for _, d := range ds {
		if errors.Is(d, ErrPermissions) {
			continue // git does not keep file modes
		}
		if d.Pos.File != file {
			t.Errorf("diagnostic %q: file = %q, want %q", d, d.Pos.File, file)
		}
		kind := "?"
		for name, k := range kinds {
			if errors.Is(d, k) {
				kind = name
			}
		}
		got = append(got, want{d.Severity, d.Pos.Line, d.Pos.Col, d.Path, kind})
	}
	for _, w := range ws {
		if !slices.Contains(got, w) {
			t.Errorf("missing diagnostic %v", w)
		}
	}
	for i, g := range got {
		if !slices.Contains(ws, g) {
			t.Errorf("unexpected diagnostic %v: %v", g, ds[i])
		}
	}
	if t.Failed() {
		for _, d := range ds {
			t.Logf("got: %v", d)
		}
	}
}

func TestTestdataValid(t *testing.T) {
	files, err := filepath.Glob("testdata/valid/*.toml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no testdata: %v", err)
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			p, ds := loadTestdata(t, file)
			if p == nil || ds.HasErrors() {
				t.Errorf("valid profile has errors: %v", ds.Err())
			}
			matchWants(t, file, parseWants(t, data), ds)
		})
	}
}

func TestTestdataInvalid(t *testing.T) {
	files, err := filepath.Glob("testdata/invalid/*.toml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no testdata: %v", err)
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			ws := parseWants(t, data)
			if !slices.ContainsFunc(ws, func(w want) bool { return w.sev == SeverityError }) {
				t.Fatalf("%s states no expected error", file)
			}
			_, ds := loadTestdata(t, file)
			if !ds.HasErrors() {
				t.Errorf("invalid profile has no errors")
			}
			matchWants(t, file, ws, ds)
		})
	}
}

// TestProfiles checks the example profiles shipped with the image.
func TestProfiles(t *testing.T) {
	files, err := filepath.Glob("profiles/*.toml")
	if err != nil || len(files) < 5 {
		t.Fatalf("want at least 5 example profiles, got %d (%v)", len(files), err)
	}
	var all []*Profile
	for _, file := range files {
		p, ds := loadTestdata(t, file)
		if ds.HasErrors() {
			t.Errorf("%s: %v", file, ds.Err())
		}
		for _, d := range ds {
			if !errors.Is(d, ErrPermissions) && !errors.Is(d, ErrKeyFile) {
				t.Errorf("%s: unexpected warning: %v", file, d)
			}
		}
		if p != nil {
			all = append(all, p)
		}
	}
	if ds := Conflicts(all); len(ds) > 0 {
		t.Errorf("example profiles conflict: %v", ds)
	}
}
