package board

import (
	"net/netip"
	"slices"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"
)

// scanner is board's own TOML reader, beside the toml package, which stays
// the parser of record. One walk over the text serves three purposes:
//
//   - scanFast, in fastParse: decode the plain TOML that profiles are
//     written in straight into a Profile. Strict: anything outside the
//     subset below, and any problem at all, stops the walk, and Parse
//     starts over with the toml package, which reads all of TOML and
//     reports every problem. FuzzFastPath checks that whatever the fast
//     path accepts, the toml package decodes to the same profile. Parse
//     and Validate of 10,000 peers take 112 million instructions this way
//     against 1,033 million through the toml package (amd64; arm64: 108
//     against 893; bench/scripts/parsecost.sh): 0.9 s of a board's CPU,
//     as much as the kernel spends on the peers.
//   - scanLocate, in source.locate: find the byte offset of every key,
//     table header and array element whose field path is wanted, since
//     the toml package does not export positions.
//   - scanSecrets, in readSecrets: find the inline keys, so that the text
//     the toml package copies holds none.
//
// The last two read all of TOML and are forgiving: on text they do not
// understand they move on, so they can produce a wrong position but never
// fail, hang or panic. They see only text the toml package accepted, except
// in the fuzz tests.
//
// The subset of scanFast, line by line (LF or CRLF), with spaces and tabs
// anywhere between tokens:
//
//   - blank lines and # comments, also after a header or a value;
//   - the headers [board], [persist], [uplink] and [handoff], each once, [[tunnel]],
//     and [[tunnel.peer]] after a [[tunnel]];
//   - key = value in those tables, with a bare key (A-Z a-z 0-9 _ -) new
//     to its table; not peer = ... in a tunnel;
//   - values: "basic strings" with the escapes \b \t \n \f \r \" \\
//     \uXXXX and \UXXXXXXXX, 'literal strings', decimal integers without
//     underscores or leading zeros, true and false, and arrays of these
//     that may span lines and hold comments and a trailing comma.
//
// Not in the subset: keys outside these tables, multi-line strings, other
// escapes, inline tables, dotted or quoted keys, nested arrays, floats,
// dates and times, hex, octal, binary and 1_000 integers, a byte order
// mark, invalid UTF-8 and control characters.
type scanner struct {
	s    string
	i    int
	mode scanMode
	ok   bool     // scanFast: still inside the subset
	keys []string // scratch for key

	// scanFast
	prof   *Profile
	d      decoder
	table  string   // the table that key = value lines go into: "", board, persist, uplink, handoff, tunnel or peer
	tables []string // the single-bracket tables seen
	seen   []string // the keys seen in the current table
	pool   []Peer   // the peers of all tunnels (see peerPool)
	used   int      // how many peers the tunnels before the last one have

	// scanLocate: want holds every ancestor of a wanted path, so nothing
	// under an unwanted path is wanted: the scanner builds no paths there,
	// and with prune set skips even the headers of unwanted tables.
	want   map[string]struct{}
	prune  bool
	found  map[string]int
	arrays map[string]arrayCount // [[x]] headers seen per indexed path

	// scanSecrets
	secrets []secretSpan
}

type scanMode uint8

const (
	scanFast scanMode = iota
	scanLocate
	scanSecrets
)

// arrayCount counts the [[x]] headers of one array of tables.
type arrayCount struct {
	n    int
	last string // the indexed path of the last one, x[n-1]
}

// secretSpan is where the text of an inline key is: s[start:end] is the
// body of a one-line string.
type secretSpan struct {
	path       string
	start, end int
	escaped    bool // the body holds escapes
}

// deadTable is the table path returned for headers of unwanted tables.
const deadTable = "\x00"

// valueSuffix marks, in the scanner's maps, the position of a key's value
// rather than of the key itself. It cannot occur in a rendered path.
const valueSuffix = "\x00="

// maxScanDepth bounds the recursion into nested arrays and inline tables;
// deeper values are skipped without recording positions.
const maxScanDepth = 32

// fastParse reads data with scanFast (see scanner) and reports false for
// anything outside the subset and for any problem at all, without saying
// what. Whatever key material it decoded before giving up is zeroed.
func fastParse(data string) (*Profile, bool) {
	if !utf8.ValidString(data) {
		return nil, false
	}
	s := scanner{s: data, mode: scanFast, ok: true, prof: newProfile()}
	s.run()
	if !s.ok || len(s.d.r.ds) > 0 {
		s.prof.zeroKeys()
		return nil, false
	}
	return s.prof, true
}

func (s *scanner) run() {
	table := "" // the current table's path, outside scanFast
	for s.ok {
		if s.mode == scanLocate && len(s.found) >= len(s.want) {
			return
		}
		s.skipSpaceNL()
		if s.i >= len(s.s) {
			return
		}
		start := s.i
		if s.s[s.i] == '[' {
			table = s.header()
		} else {
			s.keyValue(table)
		}
		if s.mode == scanFast {
			s.endOfLine()
		} else if s.i == start {
			s.i++ // not understood; move on
		}
	}
}

// fail leaves the subset; it is a no-op for the forgiving modes.
func (s *scanner) fail() {
	if s.mode == scanFast {
		s.ok = false
	}
}

func (s *scanner) at(c byte) bool { return s.i < len(s.s) && s.s[s.i] == c }

// skipBlanks skips spaces and tabs.
func (s *scanner) skipBlanks() {
	i, text := s.i, s.s
	for i < len(text) && (text[i] == ' ' || text[i] == '\t') {
		i++
	}
	s.i = i
}

// skipSpaceNL skips blanks, line breaks and comments. For scanFast a line
// break is LF or CRLF and a comment holds no control character.
func (s *scanner) skipSpaceNL() {
	for s.ok && s.i < len(s.s) {
		switch s.s[s.i] {
		case ' ', '\t', '\n':
			s.i++
		case '\r':
			if s.mode == scanFast && !hasPrefix(s.s[s.i:], "\r\n") {
				s.fail()
				return
			}
			s.i++
		case '#':
			s.comment()
		default:
			return
		}
	}
}

// comment skips a comment up to its line break.
func (s *scanner) comment() {
	for s.i++; s.i < len(s.s); s.i++ {
		switch c := s.s[s.i]; {
		case c == '\n' || c == '\r':
			return
		case isControl(c):
			s.fail()
		}
	}
}

// endOfLine reads, for scanFast, blanks, an optional comment and a line
// break or the end.
func (s *scanner) endOfLine() {
	s.skipBlanks()
	if s.at('#') {
		s.comment()
	}
	switch {
	case s.i >= len(s.s):
	case s.s[s.i] == '\n':
		s.i++
	case hasPrefix(s.s[s.i:], "\r\n"):
		s.i += 2
	default:
		s.fail()
	}
}

// isControl reports the bytes TOML allows in no string or comment.
func isControl(c byte) bool { return c < ' ' && c != '\t' || c == 0x7f }

// key reads a possibly dotted key and returns its parts; quoted parts are
// quoted as fieldPath.String quotes them, when build is set. bare says that
// there was a key, every part is bare and no dot dangles. The parts are
// valid until the next call.
func (s *scanner) key(build bool) (keys []string, bare bool) {
	s.keys = s.keys[:0]
	bare = true
	for n := 0; ; n++ {
		s.skipBlanks()
		if s.i >= len(s.s) {
			return s.keys, false // no key, or a dot at the end
		}
		switch c := s.s[s.i]; {
		case c == '"' || c == '\'':
			bare = false
			k := s.quotedKey(c)
			if build {
				s.keys = append(s.keys, quoteKey(k))
			}
		case isBareKeyByte(c):
			start, i, text := s.i, s.i, s.s
			for i < len(text) && bareKeyBytes[text[i]] {
				i++
			}
			s.i = i
			if build {
				s.keys = append(s.keys, text[start:i])
			}
		default:
			return s.keys, false // no key, or a dot without a key after it
		}
		s.skipBlanks()
		if !s.at('.') {
			return s.keys, bare
		}
		s.i++
	}
}

// quotedKey reads a one-line quoted key and returns its raw contents.
func (s *scanner) quotedKey(q byte) string {
	s.i++
	start := s.i
	for s.i < len(s.s) {
		c := s.s[s.i]
		switch {
		case c == '\\' && q == '"':
			s.i += 2
			continue
		case c == q:
			k := s.s[start:s.i]
			s.i++
			return k
		case c == '\n':
			return s.s[start:s.i]
		}
		s.i++
	}
	k := s.s[start:min(s.i, len(s.s))]
	s.i = len(s.s)
	return k
}

// header reads "[a.b]" or "[[a.b]]". scanFast starts the table, if it is
// one of the subset's; the other modes return the indexed table path, or
// deadTable when nothing under it is wanted.
func (s *scanner) header() string {
	start := s.i
	s.i++
	array := s.at('[')
	if array {
		s.i++
	}
	keys, bare := s.key(true)
	s.skipBlanks()
	if s.mode == scanFast {
		if !bare || len(keys) > 2 || !s.at(']') || array && !hasPrefix(s.s[s.i:], "]]") {
			s.fail()
			return ""
		}
		s.i++
		if array {
			s.i++
		}
		s.startTable(keys, array)
		return ""
	}
	for n := 0; n < 2 && s.at(']'); n++ {
		s.i++
	}
	p := ""
	for j, k := range keys {
		p = joinPath(p, k)
		if !s.wanted(p) && s.prune {
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

// startTable starts a table of the subset for scanFast.
func (s *scanner) startTable(keys []string, array bool) {
	k, sub := keys[0], ""
	if len(keys) == 2 {
		sub = keys[1]
	}
	switch {
	case !array && sub == "" && (k == "board" || k == "persist" || k == "clock" || k == "uplink" || k == "handoff" || k == "rescue"):
		if slices.Contains(s.tables, k) {
			s.fail()
			return
		}
		s.tables = append(s.tables, k)
	case array && k == "tunnel" && sub == "":
		if n := len(s.prof.Tunnels); n > 0 {
			// The last tunnel's peers are complete: the next ones go
			// after them in the pool, and an append to them must not
			// reach those.
			t := &s.prof.Tunnels[n-1]
			t.Peers = t.Peers[:len(t.Peers):len(t.Peers)]
			s.used += len(t.Peers)
		}
		s.prof.Tunnels = append(s.prof.Tunnels, newTunnel())
	case array && k == "tunnel" && sub == "peer" && len(s.prof.Tunnels) > 0:
		t := &s.prof.Tunnels[len(s.prof.Tunnels)-1]
		if t.Peers == nil {
			t.Peers = s.peerPool()
		}
		t.Peers = append(t.Peers, newPeer())
		k = sub
	default:
		s.fail()
		return
	}
	s.table = k
	s.seen = s.seen[:0]
}

// peerPool returns an empty slice for the peers of a new tunnel, with room
// for the peers still to come. Peers follow their tunnel and only the last
// tunnel takes peers, so the tunnels share one array: counting
// [[tunnel.peer]] once in the whole text sizes it (an estimate: other
// spellings are not counted, so the array may still grow, and the text in
// a comment is, but no more peers than the text has room for).
func (s *scanner) peerPool() []Peer {
	if s.pool == nil {
		s.pool = make([]Peer, 0, strings.Count(s.s, "[[tunnel.peer]]"))
	}
	if s.used > cap(s.pool) {
		return nil
	}
	return s.pool[s.used:s.used]
}

// wanted reports whether something under path p is wanted.
func (s *scanner) wanted(p string) bool {
	if s.mode == scanSecrets {
		return true
	}
	_, ok := s.want[p]
	return ok
}

func (s *scanner) record(p string, off int) {
	if s.mode != scanLocate {
		return
	}
	if _, ok := s.want[p]; !ok {
		return
	}
	if _, ok := s.found[p]; !ok {
		s.found[p] = off
	}
}

// keyValue reads key = value in table (the table's path, for the
// forgiving modes).
func (s *scanner) keyValue(table string) {
	if s.mode == scanFast {
		s.fastKeyValue()
		return
	}
	start := s.i
	live := table == "" || s.wanted(table)
	keys, _ := s.key(live)
	if len(keys) == 0 && s.i == start {
		return
	}
	if !live {
		table = deadTable
	}
	s.rest(table, keys, start, 0)
}

// rest reads " = value" of the key keys at offset start in the table with
// path table (deadTable when nothing under it is wanted), for the
// forgiving modes.
func (s *scanner) rest(table string, keys []string, start int, depth int) {
	p := ""
	secret := len(keys) > 0 && isSecretKey(keys[len(keys)-1])
	if table != deadTable && s.mode == scanLocate {
		p = joinKeys(table, keys)
		s.record(p, start)
	}
	s.skipBlanks()
	if s.at('=') {
		s.i++
	}
	s.skipBlanks()
	if table != deadTable && s.mode == scanSecrets && (secret || s.at('{') || s.at('[')) {
		// Paths only where a key can be: scanning 10,000 peers
		// builds none.
		p = joinKeys(table, keys)
	}
	if p != "" {
		s.record(p+valueSuffix, s.i)
	}
	if s.mode == scanSecrets && p != "" && secret && (s.at('"') || s.at('\'')) {
		body, escaped, ok := s.str(s.s[s.i])
		if ok && redactable(body, escaped) {
			end := s.i - 1
			s.secrets = append(s.secrets, secretSpan{path: p, start: end - len(body), end: end, escaped: escaped})
		}
		return
	}
	s.value(p, depth)
}

// isSecretKey reports the keys that hold inline key material.
func isSecretKey(k string) bool { return k == "private_key" || k == "preshared_key" }

// redactable reports whether the body of a one-line string can be
// replaced by as many '*' without changing what else the toml package
// reads: it is not empty, it is UTF-8 and its escapes, if any, are valid.
func redactable(body string, escaped bool) bool {
	if body == "" || !utf8.ValidString(body) {
		return false
	}
	if escaped {
		v, ok := unescape(body)
		if s, _ := v.(string); ok {
			wipeString(s)
		}
		return ok
	}
	return true
}

// fastKeyValue reads key = value for scanFast and decodes it into the
// current table.
func (s *scanner) fastKeyValue() {
	keys, bare := s.key(true)
	if !bare || len(keys) != 1 {
		s.fail()
		return
	}
	k := keys[0]
	if s.table == "" || s.table == "tunnel" && k == "peer" || slices.Contains(s.seen, k) {
		s.fail()
		return
	}
	s.seen = append(s.seen, k)
	s.skipBlanks()
	if !s.at('=') {
		s.fail()
		return
	}
	s.i++
	s.skipBlanks()
	if s.table == "peer" && s.fastPeerKey(k) {
		return
	}
	v, ok := s.value("", 0)
	if !ok {
		s.fail()
		return
	}
	var root fieldPath
	at := root.child(s.table)
	kp := at.child(k)
	switch s.table {
	case "board":
		s.d.boardKey(k, v, &kp, &s.prof.Board)
	case "persist":
		s.d.persistKey(k, v, &kp, &s.prof.Persist)
	case "clock":
		s.d.clockKey(k, v, &kp, &s.prof.Clock)
	case "uplink":
		s.d.uplinkKey(k, v, &kp, &s.prof.Uplink)
	case "handoff":
		s.d.handoffKey(k, v, &kp, &s.prof.Handoff)
	case "rescue":
		s.d.rescueKey(k, v, &kp, &s.prof.Rescue)
	default:
		tunnels := root.child("tunnel")
		i := len(s.prof.Tunnels) - 1
		tp := tunnels.elem(i)
		t := &s.prof.Tunnels[i]
		if s.table == "tunnel" {
			kp = tp.child(k)
			s.d.tunnelKey(k, v, &kp, t)
			break
		}
		peers := tp.child("peer")
		pp := peers.elem(len(t.Peers) - 1)
		kp = pp.child(k)
		s.d.peerKey(k, v, &kp, &t.Peers[len(t.Peers)-1])
	}
	if str, ok := v.(string); ok && isSecretKey(k) && !within(s.s, str) {
		wipeString(str) // unescaped into a string of its own
	}
}

// fastPeerKey reads and decodes the value of a peer's public_key, endpoint
// or allowed_ips when it is what a hub's profile has for each of thousands
// of peers: a string, or an array of strings, without escapes. It reports
// false, with the position back at the value, for anything else (another
// key, another type, an escape, a prefix in error), which value and peerKey
// then read and report as always. Reading the strings here keeps them
// unboxed: no allocation for each string or array.
func (s *scanner) fastPeerKey(k string) bool {
	if k != "public_key" && k != "endpoint" && k != "allowed_ips" {
		return false
	}
	var root fieldPath
	tunnels := root.child("tunnel")
	tp := tunnels.elem(len(s.prof.Tunnels) - 1)
	t := &s.prof.Tunnels[len(s.prof.Tunnels)-1]
	peers := tp.child("peer")
	pp := peers.elem(len(t.Peers) - 1)
	kp := pp.child(k)
	p := &t.Peers[len(t.Peers)-1]
	start := s.i
	if k == "allowed_ips" {
		return s.fastPrefixes(p, start)
	}
	if !s.at('"') {
		return false
	}
	body, escaped, ok := s.str('"')
	switch {
	case !ok:
		return true // str left the subset
	case escaped:
		s.i = start
		return false
	case k == "public_key":
		s.d.publicKey(body, &kp, p)
	default:
		s.d.peerEndpoint(body, &kp, p)
	}
	return true
}

// fastPrefixes reads allowed_ips for fastPeerKey; start is the position of
// its '['.
func (s *scanner) fastPrefixes(p *Peer, start int) bool {
	if !s.at('[') {
		return false
	}
	s.i++
	var buf [8]netip.Prefix
	out := buf[:0]
	for {
		s.skipSpaceNL()
		switch {
		case s.i >= len(s.s):
			s.fail()
			return true
		case s.at(']'):
			s.i++
			p.AllowedIPs = clonePrefixes(out)
			return true
		case !s.at('"'):
			s.i = start
			return false
		}
		body, escaped, ok := s.str('"')
		if !ok {
			return true
		}
		pfx, err := parsePrefix(body)
		if escaped || err != nil {
			s.i = start
			return false
		}
		out = append(out, pfx)
		s.skipSpaceNL()
		switch {
		case s.at(','):
			s.i++
		case s.at(']'):
			s.i++
			p.AllowedIPs = clonePrefixes(out)
			return true
		default:
			s.fail()
			return true
		}
	}
}

// clonePrefixes copies a onto the heap, nil for none as prefixes returns.
func clonePrefixes(a []netip.Prefix) []netip.Prefix {
	if len(a) == 0 {
		return nil
	}
	return slices.Clip(slices.Clone(a))
}

// value reads one value. For scanFast it returns the value, if it is in the
// subset; the forgiving modes skip it, recording the elements of arrays
// and the keys of inline tables under p. An empty p means nothing under
// this value is wanted.
func (s *scanner) value(p string, depth int) (any, bool) {
	if s.i >= len(s.s) {
		s.fail()
		return nil, false
	}
	c := s.s[s.i]
	if s.mode != scanFast && (depth >= maxScanDepth || p == "") && (c == '[' || c == '{') {
		s.skipNested()
		return nil, true
	}
	switch {
	case c == '"' || c == '\'':
		body, escaped, ok := s.str(c)
		switch {
		case !ok || s.mode != scanFast:
			return nil, ok
		case escaped:
			return unescape(body)
		}
		return body, true
	case c == '[' && (s.mode != scanFast || depth == 0):
		return s.array(p, depth)
	case c == '{' && s.mode != scanFast:
		s.inlineTable(p, depth)
		return nil, true
	case s.mode != scanFast:
		s.skipBare()
		return nil, true
	case c == '+' || c == '-' || c >= '0' && c <= '9':
		return s.integer()
	case c == 't' || c == 'f':
		return s.boolean()
	}
	s.fail()
	return nil, false
}

// boolean reads true or false, which must end there: "trueish" is not.
func (s *scanner) boolean() (any, bool) {
	for _, w := range []string{"true", "false"} {
		if !hasPrefix(s.s[s.i:], w) {
			continue
		}
		end := s.i + len(w)
		if end < len(s.s) && !strings.ContainsRune(" \t\r\n#,]", rune(s.s[end])) {
			return nil, false
		}
		s.i = end
		return w == "true", true
	}
	return nil, false
}

// str reads a string starting at its quote q and returns its body, raw,
// and whether it holds escapes. ok is false for a multi-line string (which
// is skipped), an unterminated one and a control character; the position
// is then past the string, or at the line break or control character.
func (s *scanner) str(q byte) (body string, escaped, ok bool) {
	if s.i+2 < len(s.s) && s.s[s.i+1] == q && s.s[s.i+2] == q {
		s.skipMultiline(q)
		s.fail()
		return "", false, false
	}
	s.i++
	start := s.i
	stop := &basicStop
	if q == '\'' {
		stop = &literalStop
	}
	for s.i < len(s.s) {
		i, text := s.i, s.s
		for i < len(text) && !stop[text[i]] {
			i++ // the body of a key or an address: no branches
		}
		s.i = i
		if s.i >= len(s.s) {
			break
		}
		switch c := s.s[s.i]; {
		case c == q:
			body = s.s[start:s.i]
			s.i++
			return body, escaped, true
		case c == '\\' && q == '"':
			escaped = true
			s.i += 2 // unescape checks what follows
			continue
		case isControl(c):
			s.fail()
			return "", false, false
		}
		s.i++
	}
	s.i = len(s.s)
	s.fail()
	return "", false, false
}

// basicStop and literalStop mark the bytes that end the plain run of a
// basic or literal string's body: its quote, for a basic string the
// backslash, and control characters.
var basicStop, literalStop = stopTable('"'), stopTable('\'')

func stopTable(q byte) (t [256]bool) {
	for c := range 256 {
		t[c] = isControl(byte(c)) || byte(c) == q || q == '"' && c == '\\'
	}
	return t
}

// skipMultiline skips a multi-line string starting at s.i.
func (s *scanner) skipMultiline(q byte) {
	s.i += 3
	for s.i < len(s.s) {
		c := s.s[s.i]
		switch {
		case c == '\\' && q == '"':
			s.i += 2
			continue
		case c == q && s.i+2 < len(s.s) && s.s[s.i+1] == q && s.s[s.i+2] == q:
			s.i += 3
			// Up to two more quotes belong to the string's content.
			for n := 0; n < 2 && s.at(q); n++ {
				s.i++
			}
			return
		}
		s.i++
	}
	s.i = len(s.s)
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

func (s *scanner) integer() (any, bool) {
	start := s.i
	if s.s[s.i] == '+' || s.s[s.i] == '-' {
		s.i++
	}
	digits := s.i
	for s.i < len(s.s) && s.s[s.i] >= '0' && s.s[s.i] <= '9' {
		s.i++
	}
	if s.i == digits || s.s[digits] == '0' && s.i-digits > 1 {
		return nil, false
	}
	n, err := strconv.ParseInt(s.s[start:s.i], 10, 64)
	return n, err == nil
}

// array reads an array; for scanFast, of strings and integers, which it
// returns.
func (s *scanner) array(p string, depth int) (any, bool) {
	s.i++
	var a []any
	if s.mode == scanFast {
		a = make([]any, 0, 2) // toml.Decode's empty arrays are not nil either
	}
	for idx := 0; s.ok; {
		s.skipSpaceNL()
		switch {
		case s.i >= len(s.s):
			s.fail()
			return nil, false
		case s.at(']'):
			s.i++
			return a, true
		case s.at(',') && s.mode != scanFast:
			s.i++
			idx++
			continue
		}
		before := s.i
		ep := ""
		if p != "" && (s.mode == scanLocate || s.at('{') || s.at('[')) {
			ep = indexPath(p, idx)
			s.record(ep, s.i)
		}
		v, ok := s.value(ep, depth+1)
		if s.mode == scanFast {
			if !ok {
				return nil, false
			}
			a = append(a, v)
		}
		s.skipSpaceNL()
		switch {
		case s.at(','):
			s.i++
			idx++
		case s.at(']'):
			s.i++
			return a, true
		default:
			s.fail()
			if s.i == before {
				s.i++
			}
		}
	}
	return nil, false
}

// inlineTable skips an inline table, recording its keys under p, for the
// forgiving modes.
func (s *scanner) inlineTable(p string, depth int) {
	s.i++
	for s.i < len(s.s) {
		s.skipBlanks()
		if s.i >= len(s.s) {
			return
		}
		switch s.s[s.i] {
		case '}':
			s.i++
			return
		case ',':
			s.i++
			continue
		}
		start := s.i
		keys, _ := s.key(true)
		if len(keys) == 0 {
			s.i++
			continue
		}
		s.rest(p, keys, start, depth+1)
	}
}

// skipBare skips a number, boolean or date-time. A date and a time may be
// separated by one space.
func (s *scanner) skipBare() {
	start := s.i
	for s.i < len(s.s) {
		switch s.s[s.i] {
		case ',', ']', '}', '#', '\n', '\r', '\t':
			return
		case ' ':
			if s.i-start == 10 && s.s[start+4] == '-' && s.i+1 < len(s.s) && s.s[s.i+1] >= '0' && s.s[s.i+1] <= '9' {
				s.i++
				continue
			}
			return
		}
		s.i++
	}
}

// skipNested skips one value without recursion, counting brackets.
func (s *scanner) skipNested() {
	depth := 0
	for s.i < len(s.s) {
		switch c := s.s[s.i]; c {
		case '[', '{':
			depth++
		case ']', '}':
			depth--
		case '"', '\'':
			s.str(c)
			if s.i < len(s.s) && isControl(s.s[s.i]) && s.s[s.i] != '\n' {
				s.i++ // str stops at a control character
			}
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

// source is the text a profile was parsed from. It is kept so that
// positions can be found for problems reported after parsing.
type source struct {
	name string
	buf  []byte // the text, owned by the package, zeroed by Profile.Wipe
	data string // a view of buf
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
		sc := scanner{s: s.data, mode: scanLocate, ok: true, want: want, prune: prune, found: make(map[string]int, len(want)), arrays: make(map[string]arrayCount)}
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

// hasPrefix is strings.HasPrefix, for the scanner's per-line and per-peer
// paths: it is inlined whatever the build flags of package strings, which
// /init compiles without inlining (image/initflags.txt).
func hasPrefix(s, prefix string) bool {
	return len(s) >= len(prefix) && s[:len(prefix)] == prefix
}
