package board

import (
	"sort"
	"strings"
)

// source is the text a profile was parsed from. It is kept so that
// positions can be found for problems reported after parsing.
type source struct {
	name string
	data string
	// bad holds the paths that had parse errors (see badPaths); Validate
	// does not report them again.
	bad map[string]bool
}

// locate fills in the position of every diagnostic in ds that has none,
// then sorts ds. Positions come from one scan of the source, done only when
// there is something to report.
func (s *source) locate(ds Diagnostics) {
	if s == nil || len(ds) == 0 {
		ds.Sort()
		return
	}
	want := make(map[string]struct{})
	prune := true
	for _, d := range ds {
		if d.Pos.Line != 0 {
			continue
		}
		// parentPath may skip an ancestor of a path with quoted keys.
		prune = prune && !strings.Contains(d.Path, `"`)
		want[d.Path+valueSuffix] = struct{}{}
		for p := d.Path; p != ""; p = parentPath(p) {
			want[p] = struct{}{}
		}
	}
	var found map[string]int
	end := 0 // lines are needed up to here
	if len(want) > 0 {
		sc := scanner{data: s.data, want: want, prune: prune, found: make(map[string]int, len(want)), arrays: make(map[string]arrayCount)}
		sc.run()
		found = sc.found
		for _, off := range found {
			end = max(end, off)
		}
	}
	lines := lineStarts(s.data[:end])
	for i := range ds {
		d := &ds[i]
		d.Pos.File = s.name
		if d.Pos.Line != 0 {
			continue
		}
		d.Pos.Line, d.Pos.Col = 1, 1
		// A problem with a value points at the value; an unknown key, or
		// a missing one (found through its table), at the key.
		if off, ok := found[d.Path+valueSuffix]; ok && d.Kind != ErrUnknownKey {
			d.Pos.Line, d.Pos.Col = lineCol(lines, off)
			continue
		}
		for p := d.Path; p != ""; p = parentPath(p) {
			if off, ok := found[p]; ok {
				d.Pos.Line, d.Pos.Col = lineCol(lines, off)
				break
			}
		}
	}
	ds.Sort()
}

// lineStarts returns the byte offset at which each line begins.
func lineStarts(data string) []int {
	starts := []int{0}
	for i := 0; ; {
		j := strings.IndexByte(data[i:], '\n')
		if j < 0 {
			return starts
		}
		i += j + 1
		starts = append(starts, i)
	}
}

// lineCol converts a byte offset to a 1-based line and byte column.
func lineCol(starts []int, off int) (line, col int) {
	i := sort.Search(len(starts), func(i int) bool { return starts[i] > off }) - 1
	if i < 0 {
		i = 0
	}
	return i + 1, off - starts[i] + 1
}

// valueSuffix marks, in the scanner's maps, the position of a key's value
// rather than of the key itself. It cannot occur in a rendered path.
const valueSuffix = "\x00="

// maxScanDepth bounds the recursion into nested arrays and inline tables;
// deeper values are skipped without recording positions.
const maxScanDepth = 32

// scanner walks TOML text that the toml package has already accepted and
// records the byte offset of every key, table header and array element
// whose field path is wanted. It is deliberately forgiving: on text it does
// not understand it moves on, so it can produce a wrong position but never
// fail, hang or panic. It stops once everything wanted is found.
//
// want holds every ancestor of a wanted path, so nothing under an unwanted
// path is wanted: the scanner builds no paths there, and with prune set
// skips even the headers of unwanted tables.
type scanner struct {
	data   string
	i      int
	want   map[string]struct{}
	prune  bool
	found  map[string]int
	arrays map[string]arrayCount // [[x]] headers seen per indexed path
	keys   []string              // scratch for key
}

// arrayCount counts the [[x]] headers of one array of tables.
type arrayCount struct {
	n    int
	last string // the indexed path of the last one, x[n-1]
}

// deadTable is the table path returned for headers of unwanted tables.
const deadTable = "\x00"

func (s *scanner) run() {
	table := ""
	for s.i < len(s.data) && len(s.found) < len(s.want) {
		s.skipSpaceNL()
		if s.i >= len(s.data) {
			return
		}
		start := s.i
		if s.data[s.i] == '[' {
			table = s.header()
		} else {
			_, live := s.want[table]
			live = live || table == ""
			if keys, ok := s.key(live); ok {
				p := ""
				if live {
					p = joinKeys(table, keys)
					s.record(p, start)
				}
				s.skipSpace()
				if s.at('=') {
					s.i++
				}
				s.skipSpace()
				if live {
					s.record(p+valueSuffix, s.i)
				}
				s.value(p, 0)
			}
		}
		if s.i == start {
			s.i++ // not understood; move on
		}
	}
}

func (s *scanner) at(c byte) bool { return s.i < len(s.data) && s.data[s.i] == c }

func (s *scanner) record(p string, off int) {
	if _, ok := s.want[p]; !ok {
		return
	}
	if _, ok := s.found[p]; !ok {
		s.found[p] = off
	}
}

// skipSpace skips blanks on the current line.
func (s *scanner) skipSpace() {
	for s.i < len(s.data) && (s.data[s.i] == ' ' || s.data[s.i] == '\t') {
		s.i++
	}
}

// skipSpaceNL skips blanks, newlines and comments.
func (s *scanner) skipSpaceNL() {
	for s.i < len(s.data) {
		switch s.data[s.i] {
		case ' ', '\t', '\r', '\n':
			s.i++
		case '#':
			for s.i < len(s.data) && s.data[s.i] != '\n' {
				s.i++
			}
		default:
			return
		}
	}
}

// header reads "[a.b]" or "[[a.b]]" and returns the indexed table path,
// or deadTable when nothing under it is wanted.
func (s *scanner) header() string {
	start := s.i
	s.i++
	array := s.at('[')
	if array {
		s.i++
	}
	keys, _ := s.key(true)
	s.skipSpace()
	for n := 0; n < 2 && s.at(']'); n++ {
		s.i++
	}
	p := ""
	for j, k := range keys {
		p = joinPath(p, k)
		if _, ok := s.want[p]; !ok && s.prune {
			return deadTable
		}
		c, ok := s.arrays[p]
		if j == len(keys)-1 && array {
			s.record(p, start) // the array as a whole: its first header
			c = arrayCount{c.n + 1, indexPath(p, c.n)}
			s.arrays[p] = c
			ok = true
		}
		if ok {
			p = c.last
		}
	}
	s.record(p, start)
	return p
}

// key reads a possibly dotted key and returns its parts, quoted as
// fieldPath.String quotes them, when build is set. ok reports whether
// there was a key. The parts are valid until the next call.
func (s *scanner) key(build bool) (keys []string, ok bool) {
	s.keys = s.keys[:0]
	for {
		s.skipSpace()
		if s.i >= len(s.data) {
			return s.keys, ok
		}
		switch c := s.data[s.i]; {
		case c == '"' || c == '\'':
			k := s.quotedKey(c)
			if build {
				s.keys = append(s.keys, quoteKey(k))
			}
		case isBareKeyByte(c):
			start := s.i
			for s.i < len(s.data) && isBareKeyByte(s.data[s.i]) {
				s.i++
			}
			if build {
				s.keys = append(s.keys, s.data[start:s.i])
			}
		default:
			return s.keys, ok
		}
		ok = true
		s.skipSpace()
		if !s.at('.') {
			return s.keys, ok
		}
		s.i++
	}
}

// quotedKey reads a one-line quoted key and returns its raw contents.
func (s *scanner) quotedKey(q byte) string {
	s.i++
	start := s.i
	for s.i < len(s.data) {
		c := s.data[s.i]
		switch {
		case c == '\\' && q == '"':
			s.i += 2
			continue
		case c == q:
			k := s.data[start:s.i]
			s.i++
			return k
		case c == '\n':
			return s.data[start:s.i]
		}
		s.i++
	}
	k := s.data[start:min(s.i, len(s.data))]
	s.i = len(s.data)
	return k
}

// value skips one value, recording the elements of arrays and the keys of
// inline tables under p.
//
// An empty p means nothing under this value is wanted.
func (s *scanner) value(p string, depth int) {
	if s.i >= len(s.data) {
		return
	}
	if c := s.data[s.i]; (depth >= maxScanDepth || p == "") && (c == '[' || c == '{') {
		s.skipNested()
		return
	}
	switch c := s.data[s.i]; c {
	case '"', '\'':
		s.skipString(c)
	case '[':
		s.i++
		idx := 0
		for s.i < len(s.data) {
			s.skipSpaceNL()
			if s.i >= len(s.data) {
				return
			}
			switch s.data[s.i] {
			case ']':
				s.i++
				return
			case ',':
				s.i++
				idx++
				continue
			}
			before := s.i
			ep := indexPath(p, idx)
			s.record(ep, s.i)
			s.value(ep, depth+1)
			if s.i == before {
				s.i++
			}
		}
	case '{':
		s.i++
		for s.i < len(s.data) {
			s.skipSpace()
			if s.i >= len(s.data) {
				return
			}
			switch s.data[s.i] {
			case '}':
				s.i++
				return
			case ',':
				s.i++
				continue
			}
			start := s.i
			keys, ok := s.key(true)
			if !ok {
				s.i++
				continue
			}
			kp := joinKeys(p, keys)
			s.record(kp, start)
			s.skipSpace()
			if s.at('=') {
				s.i++
			}
			s.skipSpace()
			s.record(kp+valueSuffix, s.i)
			s.value(kp, depth+1)
		}
	default:
		s.skipBare()
	}
}

// skipBare skips a number, boolean or date-time. A date and a time may be
// separated by one space.
func (s *scanner) skipBare() {
	start := s.i
	for s.i < len(s.data) {
		switch s.data[s.i] {
		case ',', ']', '}', '#', '\n', '\r', '\t':
			return
		case ' ':
			if s.i-start == 10 && s.data[start+4] == '-' && s.i+1 < len(s.data) && s.data[s.i+1] >= '0' && s.data[s.i+1] <= '9' {
				s.i++
				continue
			}
			return
		}
		s.i++
	}
}

// skipString skips a basic, literal or multi-line string starting at s.i.
func (s *scanner) skipString(q byte) {
	multi := s.i+2 < len(s.data) && s.data[s.i+1] == q && s.data[s.i+2] == q
	if multi {
		s.i += 3
	} else {
		s.i++
	}
	for s.i < len(s.data) {
		c := s.data[s.i]
		switch {
		case c == '\\' && q == '"':
			s.i += 2
			continue
		case c == '\n' && !multi:
			return
		case c == q && !multi:
			s.i++
			return
		case c == q && s.i+2 < len(s.data) && s.data[s.i+1] == q && s.data[s.i+2] == q:
			s.i += 3
			// Up to two more quotes belong to the string's content.
			for n := 0; n < 2 && s.at(q); n++ {
				s.i++
			}
			return
		}
		s.i++
	}
	if s.i > len(s.data) {
		s.i = len(s.data)
	}
}

// skipNested skips one value without recursion, counting brackets.
func (s *scanner) skipNested() {
	depth := 0
	for s.i < len(s.data) {
		switch c := s.data[s.i]; c {
		case '[', '{':
			depth++
		case ']', '}':
			depth--
		case '"', '\'':
			s.skipString(c)
			if depth <= 0 {
				return
			}
			continue
		case '#':
			s.skipSpaceNL()
			continue
		case ',', '\n':
			if depth <= 0 {
				return
			}
		}
		s.i++
		if depth <= 0 {
			return
		}
	}
}

// joinKeys appends dotted key parts to a rendered path.
func joinKeys(base string, keys []string) string {
	for _, k := range keys {
		base = joinPath(base, k)
	}
	return base
}
