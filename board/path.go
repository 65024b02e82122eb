package board

import (
	"strconv"
	"strings"
)

// fieldPath is a field path under construction, such as
// tunnel[0].peer[2].allowed_ips[1]. It is a linked list of stack values so
// that decoding 10,000 peers builds no strings; String runs only when a
// problem is reported.
type fieldPath struct {
	parent *fieldPath
	key    string // "" for an array element
	index  int
}

// child returns the path of key k under p.
func (p *fieldPath) child(k string) fieldPath { return fieldPath{parent: p, key: k} }

// elem returns the path of element i of the array at p.
func (p *fieldPath) elem(i int) fieldPath { return fieldPath{parent: p, index: i} }

// String renders the path in the form used by diagnostics.
//
// String, joinPath and indexPath are not inlined: they are called at about
// a hundred sites, most of them building a diagnostic, and their inlined
// copies (with strconv.Itoa's) cost /init 2.5 KB xz on amd64 and 2.4 KB
// on arm64. Parse and Validate of 10,000 peers take as many instructions
// either way (-0.2 %; bench/cmd/parsecost under callgrind, GOGC=off).
//
//go:noinline
func (p *fieldPath) String() string {
	return string(p.appendTo(nil))
}

// appendTo appends the rendered path to b. It keeps no pointer to p, so
// that paths stay on the stack while decoding.
func (p *fieldPath) appendTo(b []byte) []byte {
	if p == nil || p.parent == nil && p.key == "" {
		return b // the root
	}
	b = p.parent.appendTo(b)
	if p.key == "" {
		b = append(b, '[')
		b = strconv.AppendInt(b, int64(p.index), 10)
		return append(b, ']')
	}
	if len(b) > 0 {
		b = append(b, '.')
	}
	return append(b, quoteKey(p.key)...)
}

// quoteKey quotes a key that is not a bare TOML key, so that odd unknown
// keys stay readable and unambiguous in messages.
func quoteKey(k string) string {
	if k == "" {
		return `""`
	}
	for i := 0; i < len(k); i++ {
		if !isBareKeyByte(k[i]) {
			return strconv.Quote(k)
		}
	}
	return k
}

func isBareKeyByte(c byte) bool { return bareKeyBytes[c] }

// bareKeyBytes marks the bytes of bare TOML keys: A-Z a-z 0-9 _ -.
var bareKeyBytes = func() (t [256]bool) {
	for c := range 256 {
		t[c] = c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-'
	}
	return t
}()

// joinPath appends a key to a rendered path.
//
//go:noinline
func joinPath(base, key string) string {
	if base == "" {
		return key
	}
	return base + "." + key
}

// indexPath appends an array index to a rendered path.
//
//go:noinline
func indexPath(base string, i int) string {
	return base + "[" + strconv.Itoa(i) + "]"
}

// parentPath strips the last key or index from a rendered path; it returns
// "" at the root. Quoted keys containing '.' or '[' only cost precision.
func parentPath(p string) string {
	if strings.HasSuffix(p, "]") {
		if i := strings.LastIndexByte(p, '['); i >= 0 {
			return p[:i]
		}
	}
	if i := strings.LastIndexByte(p, '.'); i >= 0 {
		return p[:i]
	}
	return ""
}
