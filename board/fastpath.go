package board

import (
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// fastParse decodes the plain TOML that profiles are written in straight
// into a Profile, several times faster than toml.Decode and the generic
// tree, for hubs with 10,000 peers. Values go through the decoder's
// ...Key methods, so they are converted and checked as on the slow path.
// fastParse reports false for anything outside the subset below and for
// any problem at all, without saying what: Parse then starts over with the
// toml package, which reads all of TOML and reports every problem.
// FuzzFastPath checks that whatever fastParse accepts, the slow path
// decodes to the same profile.
//
// The subset, line by line (LF or CRLF), with spaces and tabs anywhere
// between tokens:
//
//   - blank lines and # comments, also after a header or a value;
//   - the headers [board], [uplink] and [handoff], each once, [[tunnel]],
//     and [[tunnel.peer]] after a [[tunnel]];
//   - key = value in those tables, with a bare key (A-Z a-z 0-9 _ -) new
//     to its table; not peer = ... in a tunnel;
//   - values: "basic strings" with the escapes \b \t \n \f \r \" \\
//     \uXXXX and \UXXXXXXXX, 'literal strings', decimal integers without
//     underscores or leading zeros, and arrays of these that may span
//     lines and hold comments and a trailing comma.
//
// Not in the subset, so read by the toml package: keys outside these
// tables, multi-line strings, other escapes, inline tables, dotted or
// quoted keys, nested arrays, booleans (no key takes one), floats, dates
// and times, hex, octal, binary and 1_000 integers, a byte order mark,
// invalid UTF-8 and control characters.
func fastParse(data string) (*Profile, bool) {
	if !utf8.ValidString(data) {
		return nil, false
	}
	p := fastParser{s: data, prof: newProfile()}
	if !p.run() || len(p.d.r.ds) > 0 {
		return nil, false
	}
	return p.prof, true
}

// fastParser is the state of fastParse. Strings in the profile are
// substrings of s, as with toml.Decode.
type fastParser struct {
	s      string
	i      int
	prof   *Profile
	d      decoder
	table  string   // the table that key = value lines go into: "", board, uplink, handoff, tunnel or peer
	tables []string // the single-bracket tables seen
	keys   []string // the keys seen in the current table
}

func (p *fastParser) run() bool {
	for len(p.d.r.ds) == 0 {
		p.skipBlanks()
		if p.i >= len(p.s) {
			return true
		}
		switch p.s[p.i] {
		case '\n', '\r', '#':
		case '[':
			if !p.header() {
				return false
			}
		default:
			if !p.keyValue() {
				return false
			}
		}
		if !p.endOfLine() {
			return false
		}
	}
	return false
}

func (p *fastParser) at(c byte) bool { return p.i < len(p.s) && p.s[p.i] == c }

func (p *fastParser) skipBlanks() {
	for p.i < len(p.s) && (p.s[p.i] == ' ' || p.s[p.i] == '\t') {
		p.i++
	}
}

// endOfLine reads blanks, an optional comment and a line break or the end.
func (p *fastParser) endOfLine() bool {
	p.skipBlanks()
	if p.at('#') && !p.comment() {
		return false
	}
	return p.newline()
}

// newline reads LF, CRLF or the end of the input.
func (p *fastParser) newline() bool {
	switch {
	case p.i >= len(p.s):
		return true
	case p.s[p.i] == '\n':
		p.i++
		return true
	case p.s[p.i] == '\r' && p.i+1 < len(p.s) && p.s[p.i+1] == '\n':
		p.i += 2
		return true
	}
	return false
}

// comment reads a comment up to its line break.
func (p *fastParser) comment() bool {
	for p.i++; p.i < len(p.s); p.i++ {
		switch c := p.s[p.i]; {
		case c == '\n' || c == '\r':
			return true
		case isControl(c):
			return false
		}
	}
	return true
}

// isControl reports the bytes TOML allows in no string or comment.
func isControl(c byte) bool { return c < ' ' && c != '\t' || c == 0x7f }

func (p *fastParser) bareKey() string {
	start := p.i
	for p.i < len(p.s) && isBareKeyByte(p.s[p.i]) {
		p.i++
	}
	return p.s[start:p.i]
}

// header reads one of the headers of the subset and starts its table.
func (p *fastParser) header() bool {
	p.i++
	array := p.at('[')
	if array {
		p.i++
	}
	p.skipBlanks()
	k, sub := p.bareKey(), ""
	p.skipBlanks()
	if p.at('.') {
		p.i++
		p.skipBlanks()
		if sub = p.bareKey(); sub == "" {
			return false
		}
		p.skipBlanks()
	}
	if !p.at(']') {
		return false
	}
	p.i++
	if array {
		if !p.at(']') {
			return false
		}
		p.i++
	}
	switch {
	case !array && sub == "" && (k == "board" || k == "uplink" || k == "handoff"):
		if slices.Contains(p.tables, k) {
			return false
		}
		p.tables = append(p.tables, k)
	case array && k == "tunnel" && sub == "":
		p.prof.Tunnels = append(p.prof.Tunnels, newTunnel())
	case array && k == "tunnel" && sub == "peer" && len(p.prof.Tunnels) > 0:
		t := &p.prof.Tunnels[len(p.prof.Tunnels)-1]
		if t.Peers == nil {
			t.Peers = make([]Peer, 0, p.countPeers())
		}
		t.Peers = append(t.Peers, Peer{})
		k = sub
	default:
		return false
	}
	p.table = k
	p.keys = p.keys[:0]
	return true
}

// countPeers estimates the number of peers of the current tunnel, to
// allocate them at once.
func (p *fastParser) countPeers() int {
	rest := p.s[p.i:]
	if end := strings.Index(rest, "[[tunnel]]"); end >= 0 {
		rest = rest[:end]
	}
	return 1 + strings.Count(rest, "[[tunnel.peer]]")
}

// keyValue reads key = value and decodes it into the current table.
func (p *fastParser) keyValue() bool {
	k := p.bareKey()
	if k == "" || p.table == "" || p.table == "tunnel" && k == "peer" || slices.Contains(p.keys, k) {
		return false
	}
	p.keys = append(p.keys, k)
	p.skipBlanks()
	if !p.at('=') {
		return false
	}
	p.i++
	p.skipBlanks()
	v, ok := p.value(false)
	if !ok {
		return false
	}
	var root fieldPath
	at := root.child(p.table)
	kp := at.child(k)
	switch p.table {
	case "board":
		p.d.boardKey(k, v, &kp, &p.prof.Board)
	case "uplink":
		p.d.uplinkKey(k, v, &kp, &p.prof.Uplink)
	case "handoff":
		p.d.handoffKey(k, v, &kp, &p.prof.Handoff)
	default:
		tunnels := root.child("tunnel")
		i := len(p.prof.Tunnels) - 1
		tp := tunnels.elem(i)
		t := &p.prof.Tunnels[i]
		if p.table == "tunnel" {
			kp = tp.child(k)
			p.d.tunnelKey(k, v, &kp, t)
			break
		}
		peers := tp.child("peer")
		pp := peers.elem(len(t.Peers) - 1)
		kp = pp.child(k)
		p.d.peerKey(k, v, &kp, &t.Peers[len(t.Peers)-1])
	}
	return true
}

// value reads one value; the caller checks what follows it.
func (p *fastParser) value(inArray bool) (any, bool) {
	if p.i >= len(p.s) {
		return nil, false
	}
	switch c := p.s[p.i]; {
	case c == '"':
		return p.basicString()
	case c == '\'':
		return p.literalString()
	case c == '[' && !inArray:
		return p.array()
	case c == '+' || c == '-' || c >= '0' && c <= '9':
		return p.integer()
	}
	return nil, false
}

func (p *fastParser) integer() (any, bool) {
	start := p.i
	if p.s[p.i] == '+' || p.s[p.i] == '-' {
		p.i++
	}
	digits := p.i
	for p.i < len(p.s) && p.s[p.i] >= '0' && p.s[p.i] <= '9' {
		p.i++
	}
	if p.i == digits || p.s[digits] == '0' && p.i-digits > 1 {
		return nil, false
	}
	n, err := strconv.ParseInt(p.s[start:p.i], 10, 64)
	return n, err == nil
}

func (p *fastParser) basicString() (any, bool) {
	p.i++
	start, escaped := p.i, false
	for p.i < len(p.s) {
		switch c := p.s[p.i]; {
		case c == '"':
			s := p.s[start:p.i]
			p.i++
			if s == "" && p.at('"') {
				return nil, false // """multi-line"""
			}
			if escaped {
				return unescape(s)
			}
			return s, true
		case c == '\\':
			escaped = true
			p.i++ // unescape checks what follows
		case isControl(c):
			return nil, false
		}
		p.i++
	}
	return nil, false
}

// unescape replaces the escapes of the subset in the body of a basic
// string.
func unescape(s string) (any, bool) {
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' {
			b.WriteByte(s[i])
			continue
		}
		if i++; i >= len(s) {
			return nil, false
		}
		n := 0
		switch s[i] {
		case 'b':
			b.WriteByte('\b')
		case 't':
			b.WriteByte('\t')
		case 'n':
			b.WriteByte('\n')
		case 'f':
			b.WriteByte('\f')
		case 'r':
			b.WriteByte('\r')
		case '"', '\\':
			b.WriteByte(s[i])
		case 'u':
			n = 4
		case 'U':
			n = 8
		default:
			return nil, false
		}
		if n == 0 {
			continue
		}
		hex := s[i+1 : min(i+1+n, len(s))]
		if len(hex) < n || strings.Trim(hex, "0123456789abcdefABCDEF") != "" {
			return nil, false
		}
		r, _ := strconv.ParseUint(hex, 16, 32)
		if !utf8.ValidRune(rune(r)) {
			return nil, false
		}
		b.WriteRune(rune(r))
		i += n
	}
	return b.String(), true
}

func (p *fastParser) literalString() (any, bool) {
	p.i++
	start := p.i
	for ; p.i < len(p.s); p.i++ {
		switch c := p.s[p.i]; {
		case c == '\'':
			s := p.s[start:p.i]
			p.i++
			if s == "" && p.at('\'') {
				return nil, false // '''multi-line'''
			}
			return s, true
		case isControl(c):
			return nil, false
		}
	}
	return nil, false
}

// array reads an array of strings and integers.
func (p *fastParser) array() (any, bool) {
	p.i++
	a := make([]any, 0, 2) // toml.Decode's empty arrays are not nil either
	for {
		if !p.skipArraySpace() {
			return nil, false
		}
		if p.at(']') {
			p.i++
			return a, true
		}
		v, ok := p.value(true)
		if !ok || !p.skipArraySpace() {
			return nil, false
		}
		a = append(a, v)
		switch {
		case p.at(','):
			p.i++
		case p.at(']'):
			p.i++
			return a, true
		default:
			return nil, false
		}
	}
}

// skipArraySpace skips blanks, line breaks and comments inside an array.
func (p *fastParser) skipArraySpace() bool {
	for {
		p.skipBlanks()
		switch {
		case p.i >= len(p.s):
			return false
		case p.s[p.i] == '#':
			if !p.comment() {
				return false
			}
		case p.s[p.i] == '\n' || p.s[p.i] == '\r':
			if !p.newline() {
				return false
			}
		default:
			return true
		}
	}
}
