// Package keyscan finds secret keys in the memory of the running process,
// for tests that check that the keys a bring-up handled are gone from it
// afterwards: from the heap, from live and dead goroutine stacks, from freed
// memory, from every readable mapping (/proc/self/maps, read through
// /proc/self/mem).
//
// A test that looks for a key must not hold the key itself, or it would
// find its own copy. A [Key] therefore keeps only the key's bitwise
// complement; the key's bytes exist only briefly, in a buffer the package
// clears, when a test writes the key somewhere for the code under test (a
// key file, a profile's text). The search compares memory with the
// complement, byte by byte, and never builds the key.
//
// Tests only: /init never imports it; image/memscan, the program the
// rescue e2e test runs in its guest, uses [Mappings].
package keyscan

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"os"
	"strconv"
	"strings"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Len is the length of a WireGuard key.
const Len = 32

// Key is a random key that a test hands to the code under test and then
// searches for. It holds the complement of each form the key may take in
// memory: raw, base64 (as in key files and profiles, without the last two
// characters, which depend on padding) and lower-case hex.
type Key struct {
	inv   [Len]byte
	forms [][]byte // complements, in the order of formNames
}

// formNames name Key.forms.
var formNames = []string{"raw", "base64", "hex"}

// New returns a random key.
func New() (*Key, error) {
	k := &Key{}
	if _, err := unix.Getrandom(k.inv[:], 0); err != nil {
		return nil, err
	}
	raw := k.scratch()
	defer clear(raw)
	b64 := make([]byte, base64.StdEncoding.EncodedLen(Len))
	base64.StdEncoding.Encode(b64, raw)
	hx := make([]byte, hex.EncodedLen(Len))
	hex.Encode(hx, raw)
	for _, f := range [][]byte{raw, b64[:42], hx} {
		inv := make([]byte, len(f))
		for i, c := range f {
			inv[i] = ^c
		}
		k.forms = append(k.forms, inv)
	}
	clear(b64)
	clear(hx)
	return k, nil
}

// scratch returns the key's bytes in a new buffer that the caller clears.
// The buffer is on the heap: inlined, the compiler would put it in the
// caller's frame, and a stack that grows while it holds the key leaves an
// uncleared copy in the old stack, which Scan would find.
//
//go:noinline
func (k *Key) scratch() []byte {
	b := make([]byte, Len)
	for i := range b {
		b[i] = ^k.inv[i]
	}
	return b
}

// Base64 calls fn with the key in base64 (44 bytes), in a buffer that is
// cleared when fn returns; fn must not keep it. Not inlined, so that the
// buffer is on the heap (see scratch).
//
//go:noinline
func (k *Key) Base64(fn func(text []byte)) {
	raw := k.scratch()
	text := make([]byte, base64.StdEncoding.EncodedLen(Len))
	base64.StdEncoding.Encode(text, raw)
	clear(raw)
	fn(text)
	clear(text)
}

// Raw calls fn with the key's bytes, in a buffer that is cleared when fn
// returns; fn must not keep it.
func (k *Key) Raw(fn func(raw []byte)) {
	raw := k.scratch()
	fn(raw)
	clear(raw)
}

// Is reports whether b holds the key's bytes.
func (k *Key) Is(b []byte) bool {
	if len(b) != Len {
		return false
	}
	for i, c := range b {
		if c != ^k.inv[i] {
			return false
		}
	}
	return true
}

// WriteFile writes the key to name as wg genkey does (base64 and a line
// break), mode 0600.
func (k *Key) WriteFile(name string) (err error) {
	k.Base64(func(text []byte) {
		buf := make([]byte, 0, len(text)+1)
		buf = append(append(buf, text...), '\n')
		err = os.WriteFile(name, buf, 0o600)
		clear(buf)
	})
	return err
}

// Template replaces every "{{KEY n}}" in text with the base64 form of
// keys[n], writes the result to name (mode 0600) and clears it: a profile
// with inline keys.
func Template(name, text string, keys ...*Key) error {
	// Sized up front, so that appending never moves a key.
	buf := make([]byte, 0, len(text)+64*strings.Count(text, "{{KEY "))
	for i := 0; ; {
		j := strings.Index(text[i:], "{{KEY ")
		if j < 0 {
			buf = append(buf, text[i:]...)
			break
		}
		buf = append(buf, text[i:i+j]...)
		rest := text[i+j+len("{{KEY "):]
		end := strings.Index(rest, "}}")
		if end < 0 {
			clear(buf)
			return fmt.Errorf("keyscan: unterminated {{KEY in template")
		}
		n, err := strconv.Atoi(rest[:end])
		if err != nil || n < 0 || n >= len(keys) {
			clear(buf)
			return fmt.Errorf("keyscan: bad key number %q in template", rest[:end])
		}
		keys[n].Base64(func(t []byte) { buf = append(buf, t...) })
		i += j + len("{{KEY ") + end + 2
	}
	err := os.WriteFile(name, buf, 0o600)
	clear(buf[:cap(buf)])
	return err
}

// Hit is one place a key was found.
type Hit struct {
	Key    int    // index into the keys searched for
	Form   string // raw, base64 or hex
	Addr   uintptr
	Region string // the line of /proc/self/maps
	// Before and After are up to 32 bytes around the key, to tell what
	// holds it (a netlink attribute header, a stack frame).
	Before, After []byte
}

func (h Hit) String() string {
	return fmt.Sprintf("key %d (%s) at %#x in %s; before: % x; after: % x", h.Key, h.Form, h.Addr, h.Region, h.Before, h.After)
}

// chunk is how much of a mapping is read at once; chunks overlap by the
// longest form, so that a key across a boundary is found.
const (
	chunk   = 1 << 20
	overlap = 64
)

// Scan searches every readable mapping of the process for keys, in each of
// their forms, and returns where it found them. It reads through a buffer
// of its own outside the Go heap, which it leaves out of the search.
func Scan(keys ...*Key) ([]Hit, error) {
	ms, err := Mappings(0)
	if err != nil {
		return nil, err
	}
	mem, err := os.Open("/proc/self/mem")
	if err != nil {
		return nil, err
	}
	defer mem.Close()
	buf, err := unix.Mmap(-1, 0, chunk+overlap, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS)
	if err != nil {
		return nil, err
	}
	defer unix.Munmap(buf)
	own := uintptr(unsafe.Pointer(unsafe.SliceData(buf)))
	ownEnd := own + uintptr(len(buf))

	var hits []Hit
	for _, m := range ms {
		start, end, line := m.Start, m.End, m.Line
		for a := start; a < end; {
			if a >= own && a < ownEnd {
				a = ownEnd
				continue
			}
			n := min(uintptr(chunk+overlap), end-a)
			if a < own && a+n > own {
				n = own - a
			}
			got, _ := mem.ReadAt(buf[:n], int64(a))
			for i, k := range keys {
				for fi, form := range k.forms {
					for _, off := range find(buf[:got], form) {
						end := off + len(form)
						hits = append(hits, Hit{Key: i, Form: formNames[fi], Addr: a + uintptr(off), Region: line,
							Before: bytes.Clone(buf[max(off-32, 0):off]), After: bytes.Clone(buf[end:min(end+32, got)])})
					}
				}
			}
			clear(buf[:got])
			if n <= overlap || a+n >= end {
				a += n
			} else {
				a += n - overlap
			}
		}
	}
	return dedup(hits), nil
}

// Mapping is one readable mapping of a process.
type Mapping struct {
	Start, End uintptr
	Line       string // its line of /proc/PID/maps
}

// Mappings returns the mappings of process pid (0: this process) that
// /proc/PID/mem can read: the readable ones, but for the kernel's [vvar]
// and [vsyscall] pages.
func Mappings(pid int) ([]Mapping, error) {
	name := "/proc/self/maps"
	if pid != 0 {
		name = fmt.Sprintf("/proc/%d/maps", pid)
	}
	maps, err := os.ReadFile(name)
	if err != nil {
		return nil, err
	}
	var out []Mapping
	sc := bufio.NewScanner(bytes.NewReader(maps))
	for sc.Scan() {
		line := sc.Text()
		f := strings.Fields(line)
		if len(f) < 2 || f[1][0] != 'r' {
			continue
		}
		if len(f) >= 6 && (f[5] == "[vvar]" || f[5] == "[vvar_vclock]" || f[5] == "[vsyscall]") {
			continue
		}
		lo, hi, ok := strings.Cut(f[0], "-")
		if !ok {
			continue
		}
		start, err1 := strconv.ParseUint(lo, 16, 64)
		end, err2 := strconv.ParseUint(hi, 16, 64)
		if err1 != nil || err2 != nil {
			continue
		}
		out = append(out, Mapping{uintptr(start), uintptr(end), line})
	}
	return out, sc.Err()
}

// find returns the offsets in b of the bytes whose complement is inv.
func find(b, inv []byte) []int {
	var out []int
	first := ^inv[0]
	for off := 0; ; {
		i := bytes.IndexByte(b[off:], first)
		if i < 0 || off+i+len(inv) > len(b) {
			return out
		}
		i += off
		match := true
		for j := 1; j < len(inv); j++ {
			if b[i+j] != ^inv[j] {
				match = false
				break
			}
		}
		if match {
			out = append(out, i)
		}
		off = i + 1
	}
}

// dedup drops the hits that overlapping chunks found twice.
func dedup(hits []Hit) []Hit {
	seen := make(map[[3]uintptr]bool)
	out := hits[:0]
	for _, h := range hits {
		id := [3]uintptr{uintptr(h.Key), uintptr(len(h.Form)), h.Addr}
		if !seen[id] {
			seen[id] = true
			out = append(out, h)
		}
	}
	return out
}

// In reports the forms of the key that b holds, by name, and "part" if b
// holds 16 consecutive bytes of it but not all: half a key is a leak too
// (registers hold 16 bytes each, and the key is seldom aligned with them).
func (k *Key) In(b []byte) []string {
	var out []string
	for fi, form := range k.forms {
		if len(find(b, form)) > 0 {
			out = append(out, formNames[fi])
		}
	}
	if len(out) == 0 {
		for i := 0; i+16 <= Len; i++ {
			if len(find(b, k.forms[0][i:i+16])) > 0 {
				return append(out, "part")
			}
		}
	}
	return out
}
