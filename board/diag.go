package board

import (
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// Kinds of problems. Every [Diagnostic] unwraps to one of them, so callers
// and tests branch with errors.Is.
var (
	ErrRead        = errors.New("cannot read")
	ErrSyntax      = errors.New("syntax error")
	ErrUnknownKey  = errors.New("unknown key")
	ErrType        = errors.New("wrong type")
	ErrRequired    = errors.New("required")
	ErrInvalid     = errors.New("invalid value")
	ErrRange       = errors.New("out of range")
	ErrKey         = errors.New("invalid key")
	ErrDuplicate   = errors.New("duplicate")
	ErrOverlap     = errors.New("overlapping prefixes")
	ErrHostBits    = errors.New("host bits set")
	ErrLoop        = errors.New("routing loop")
	ErrMTU         = errors.New("mtu too small")
	ErrSelfPeer    = errors.New("own public key listed as a peer")
	ErrSecret      = errors.New("secret in the profile")
	ErrKeyFile     = errors.New("key file")
	ErrPermissions = errors.New("key file permissions")
	ErrConflict    = errors.New("conflicting profiles")
)

// Severity says whether a problem makes a profile unusable.
type Severity uint8

// Severities, most severe first.
const (
	SeverityError   Severity = iota // the profile must not be used
	SeverityWarning                 // the profile works but is probably not what was meant
)

// String returns "error" or "warning".
func (s Severity) String() string {
	if s == SeverityWarning {
		return "warning"
	}
	return "error"
}

// Position is a place in a profile file. Line and Col start at 1; Col
// counts bytes. A zero Line means the position within the file is unknown.
type Position struct {
	File string
	Line int
	Col  int
}

// String returns "file:line:col", or just "file" when the line is unknown,
// or "line:col" when the file is.
func (p Position) String() string {
	if p.Line <= 0 {
		return p.File
	}
	lc := strconv.Itoa(p.Line) + ":" + strconv.Itoa(p.Col)
	if p.File == "" {
		return lc
	}
	return p.File + ":" + lc
}

// Diagnostic is one problem found in a profile. Messages never contain key
// material.
type Diagnostic struct {
	Pos      Position
	Path     string // field path, e.g. tunnel[0].peer[2].allowed_ips[1]; "" for the whole file
	Severity Severity
	Kind     error  // one of the Err* kinds of this package
	Msg      string // what is wrong, in words
}

// Error formats the problem as "file:line:col: path: [warning: ]message".
func (d Diagnostic) Error() string {
	var b strings.Builder
	if s := d.Pos.String(); s != "" {
		b.WriteString(s)
		b.WriteString(": ")
	}
	if d.Path != "" {
		b.WriteString(d.Path)
		b.WriteString(": ")
	}
	if d.Severity == SeverityWarning {
		b.WriteString("warning: ")
	}
	b.WriteString(d.Msg)
	return b.String()
}

// Unwrap returns the kind of problem.
func (d Diagnostic) Unwrap() error { return d.Kind }

// Diagnostics is every problem found in one or more profiles.
type Diagnostics []Diagnostic

// HasErrors reports whether any diagnostic is an error, not a warning.
func (ds Diagnostics) HasErrors() bool {
	for _, d := range ds {
		if d.Severity == SeverityError {
			return true
		}
	}
	return false
}

// Err returns the errors among ds joined into one error, or nil when there
// are only warnings.
func (ds Diagnostics) Err() error {
	var errs []error
	for _, d := range ds {
		if d.Severity == SeverityError {
			errs = append(errs, d)
		}
	}
	return errors.Join(errs...)
}

// Sort orders ds by file, position, then path, so output is stable:
// diagnostics that compare equal keep their order.
//
// sort.Slice, whose code /init has anyway, of the indices with the index
// as the last key, rather than slices.SortStableFunc, whose merge sort
// /init would carry a copy of for Diagnostic alone (docs/size.md).
func (ds Diagnostics) Sort() {
	idx := make([]int, len(ds))
	for i := range idx {
		idx[i] = i
	}
	sort.Slice(idx, func(i, j int) bool {
		a, b := &ds[idx[i]], &ds[idx[j]]
		if c := strings.Compare(a.Pos.File, b.Pos.File); c != 0 {
			return c < 0
		}
		if a.Pos.Line != b.Pos.Line {
			return a.Pos.Line < b.Pos.Line
		}
		if a.Pos.Col != b.Pos.Col {
			return a.Pos.Col < b.Pos.Col
		}
		if c := strings.Compare(a.Path, b.Path); c != 0 {
			return c < 0
		}
		return idx[i] < idx[j]
	})
	sorted := make(Diagnostics, len(ds))
	for i, k := range idx {
		sorted[i] = ds[k]
	}
	copy(ds, sorted)
}

// report collects diagnostics for one profile; positions are filled in
// afterwards by [source.locate], so the happy path never scans for them.
type report struct {
	ds Diagnostics
}

func (r *report) add(sev Severity, path string, kind error, format string, args ...any) {
	r.ds = append(r.ds, Diagnostic{
		Path:     path,
		Severity: sev,
		Kind:     kind,
		Msg:      fmt.Sprintf(format, args...),
	})
}

func (r *report) errorf(path string, kind error, format string, args ...any) {
	r.add(SeverityError, path, kind, format, args...)
}

func (r *report) warnf(path string, kind error, format string, args ...any) {
	r.add(SeverityWarning, path, kind, format, args...)
}
