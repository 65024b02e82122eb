package board

import (
	"slices"
	"testing"
)

// Sort orders by file, line, column and path, and keeps diagnostics that
// compare equal in the order they were found (their messages differ).
func TestDiagnosticsSortStable(t *testing.T) {
	d := func(file string, line, col int, path, msg string) Diagnostic {
		return Diagnostic{Pos: Position{File: file, Line: line, Col: col}, Path: path, Msg: msg}
	}
	ds := Diagnostics{
		d("b.toml", 1, 1, "x", "1"),
		d("a.toml", 3, 2, "y", "2"),
		d("a.toml", 3, 2, "y", "3"),
		d("a.toml", 3, 1, "z", "4"),
		d("a.toml", 2, 9, "", "5"),
		d("a.toml", 3, 2, "x", "6"),
		d("a.toml", 3, 2, "y", "7"),
		d("", 0, 0, "", "8"),
		d("b.toml", 1, 1, "x", "9"),
	}
	ds.Sort()
	var got []string
	for _, d := range ds {
		got = append(got, d.Msg)
	}
	if want := []string{"8", "5", "4", "6", "2", "3", "7", "1", "9"}; !slices.Equal(got, want) {
		t.Errorf("sorted messages %v, want %v", got, want)
	}
	var none Diagnostics
	none.Sort()
}
