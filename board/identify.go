package board

import (
	"bytes"
	"io"
	"io/fs"
	"slices"
	"strconv"
	"strings"
)

// Files that identify the board, relative to the root of the fs.FS given
// to [Identify].
const (
	dmiDir       = "sys/class/dmi/id/"
	dtCompatible = "proc/device-tree/compatible"
	// The kernel's own path; /proc/device-tree is a symlink to it.
	dtCompatibleSys = "sys/firmware/devicetree/base/compatible"
)

// maxIdentityFile bounds each identity file read.
const maxIdentityFile = 4096

// Identity is what the firmware says the board is: DMI strings on x86,
// the device-tree compatible list on arm64.
type Identity struct {
	Vendor     string   // /sys/class/dmi/id/sys_vendor
	Product    string   // /sys/class/dmi/id/product_name
	Board      string   // /sys/class/dmi/id/board_name
	Compatible []string // /proc/device-tree/compatible, most specific first
}

// Identify reads the board's identity from fsys, the root filesystem with
// /sys and /proc mounted. Missing files leave fields empty: a board has DMI
// or a device tree, rarely both.
func Identify(fsys fs.FS) Identity {
	var id Identity
	id.Vendor = readIdentityFile(fsys, dmiDir+"sys_vendor")
	id.Product = readIdentityFile(fsys, dmiDir+"product_name")
	id.Board = readIdentityFile(fsys, dmiDir+"board_name")
	raw, ok := readRaw(fsys, dtCompatible)
	if !ok {
		raw, _ = readRaw(fsys, dtCompatibleSys)
	}
	for rest := raw; len(rest) > 0; {
		var c []byte
		c, rest, _ = bytes.Cut(rest, []byte{0})
		if s := strings.TrimSpace(string(c)); s != "" {
			id.Compatible = append(id.Compatible, s)
		}
	}
	return id
}

func readRaw(fsys fs.FS, name string) ([]byte, bool) {
	f, err := fsys.Open(name)
	if err != nil {
		return nil, false
	}
	defer f.Close() // read-only; a close error loses nothing
	b, err := io.ReadAll(io.LimitReader(f, maxIdentityFile))
	return b, err == nil
}

func readIdentityFile(fsys fs.FS, name string) string {
	b, _ := readRaw(fsys, name)
	return strings.TrimSpace(string(b))
}

// Names returns the strings a profile's match list is compared with, most
// specific first: "sys_vendor product_name" (as the kernel prints it after
// "DMI:"), product_name, board_name, then each compatible string.
func (id Identity) Names() []string {
	var names []string
	add := func(s string) {
		if s != "" && !slices.Contains(names, s) {
			names = append(names, s)
		}
	}
	if id.Vendor != "" && id.Product != "" {
		add(id.Vendor + " " + id.Product)
	}
	add(id.Product)
	add(id.Board)
	for _, c := range id.Compatible {
		add(c)
	}
	return names
}

// String describes the identity for the boot log.
func (id Identity) String() string {
	var parts []string
	if id.Vendor != "" || id.Product != "" || id.Board != "" {
		parts = append(parts, "dmi vendor="+strconv.Quote(id.Vendor)+" product="+strconv.Quote(id.Product)+" board="+strconv.Quote(id.Board))
	}
	if len(id.Compatible) > 0 {
		q := make([]string, len(id.Compatible))
		for i, c := range id.Compatible {
			q[i] = strconv.Quote(c)
		}
		parts = append(parts, "dt compatible="+strings.Join(q, ","))
	}
	if len(parts) == 0 {
		return "no DMI or device-tree identity"
	}
	return strings.Join(parts, " ")
}

// Select picks the profile for this board and says why, for the boot log.
//
// Order of precedence: a non-empty override (wgboot.board=) picks the
// profile whose board.name or file name (without .toml) equals it; then
// the identity's names are tried most specific first against every
// profile's match list, profiles in the order given; then the profile
// named "default". Select returns nil when nothing fits, and the reason
// then says what was tried.
func Select(profiles []*Profile, id Identity, override string) (*Profile, string) {
	var note string
	if override != "" {
		for _, p := range profiles {
			if p.Board.Name == override || fileStem(p.File()) == override {
				return p, "wgboot.board=" + override + " selects " + describe(p)
			}
		}
		note = "wgboot.board=" + override + " matches no profile; "
	}
	for _, name := range id.Names() {
		for _, p := range profiles {
			for _, m := range p.Board.Match {
				if strings.TrimSpace(m) == name {
					return p, note + describe(p) + " matches " + strconv.Quote(name)
				}
			}
		}
	}
	for _, p := range profiles {
		if p.Board.Name == DefaultBoard {
			return p, note + "no profile matches " + id.String() + "; using the default " + describe(p)
		}
	}
	return nil, note + "no profile matches " + id.String() + " and there is no profile named " + strconv.Quote(DefaultBoard)
}

func describe(p *Profile) string {
	s := "profile " + strconv.Quote(p.Board.Name)
	if f := p.File(); f != "" {
		s += " (" + f + ")"
	}
	return s
}

func fileStem(name string) string {
	if i := strings.LastIndexByte(name, '/'); i >= 0 {
		name = name[i+1:]
	}
	return strings.TrimSuffix(name, ".toml")
}

// Conflicts reports problems between profiles meant for the same image:
// two profiles with the same board name, or one board string matched by
// two profiles (Select would silently take the first).
func Conflicts(profiles []*Profile) Diagnostics {
	var r report
	type owner struct {
		p   *Profile
		idx int
	}
	names := make(map[string]*Profile)
	matches := make(map[string]owner)
	var ds Diagnostics
	for _, p := range profiles {
		r.ds = r.ds[:0]
		if other, dup := names[p.Board.Name]; dup && p.Board.Name != "" {
			r.errorf("board.name", ErrConflict, "%q is also the name of %s", p.Board.Name, describeFile(other))
		} else {
			names[p.Board.Name] = p
		}
		for i, m := range p.Board.Match {
			m = strings.TrimSpace(m)
			if other, dup := matches[m]; dup && other.p != p {
				r.errorf(indexPath("board.match", i), ErrConflict, "%q is also matched by %s; the first in name order wins", m, describeFile(other.p))
				continue
			}
			matches[m] = owner{p, i}
		}
		got := append(Diagnostics(nil), r.ds...)
		p.src.locate(got)
		ds = append(ds, got...)
	}
	ds.Sort()
	return ds
}

func describeFile(p *Profile) string {
	if f := p.File(); f != "" {
		return f
	}
	return "profile " + strconv.Quote(p.Board.Name)
}
