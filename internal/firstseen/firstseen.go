// Package firstseen finds repeated values among many (peer keys, allowed
// IPs) in a fraction of a Go map's instructions: a 10,000-peer
// configuration is checked for repeats on every boot, and with maps that
// check cost about a third of its validation.
//
// An Index holds, for each value added, its 64-bit hash and where the
// caller keeps the value (two ints, such as a peer and an allowed IP
// index). It never holds the values themselves, so it has no pointers for
// the garbage collector to scan, and equality is asked of the caller only
// when two hashes agree.
package firstseen

import (
	"encoding/binary"
	"math/bits"
	"math/rand/v2"
	"net/netip"
)

// Index remembers where each value was first seen.
type Index struct {
	slots []slot
	mask  uint64
	seed  uint64
	n     int // values added
}

type slot struct {
	h    uint64
	a, b int // where the value is; a is stored plus one, 0: empty
}

// New returns an Index sized for n values; it grows if more are added.
// The hashes are seeded at random, so that no profile can be written to
// make the probes long.
func New(n int) *Index {
	x := &Index{seed: rand.Uint64()}
	x.resize(n)
	return x
}

// resize makes room for n values, at most two thirds full, and adds back
// the values held.
func (x *Index) resize(n int) {
	size := 8
	for size < n+n/2 {
		size <<= 1
	}
	old := x.slots
	x.slots, x.mask = make([]slot, size), uint64(size-1)
	for _, s := range old {
		if s.a != 0 {
			i := s.h & x.mask
			for x.slots[i].a != 0 {
				i = (i + 1) & x.mask
			}
			x.slots[i] = s
		}
	}
}

// Add records that the value with hash h (from the Index's Hash methods)
// is at (a, b), unless an equal value was added before: then it returns
// where that one is, and true. eq(a0, b0) reports whether the value at
// (a0, b0) equals the one being added; it is called only for an earlier
// value with the same hash.
func (x *Index) Add(h uint64, a, b int, eq func(a0, b0 int) bool) (int, int, bool) {
	for i := h & x.mask; ; i = (i + 1) & x.mask {
		s := &x.slots[i]
		if s.a == 0 {
			if x.n++; x.n+x.n/2 > len(x.slots) {
				x.resize(2 * x.n)
				i = h & x.mask
				for x.slots[i].a != 0 {
					i = (i + 1) & x.mask
				}
				s = &x.slots[i]
			}
			*s = slot{h: h, a: a + 1, b: b}
			return 0, 0, false
		}
		if s.h == h && eq(s.a-1, s.b) {
			return s.a - 1, s.b, true
		}
	}
}

// Find returns where a value with hash h that eq accepts was added, if one
// was.
func (x *Index) Find(h uint64, eq func(a, b int) bool) (int, int, bool) {
	for i := h & x.mask; ; i = (i + 1) & x.mask {
		s := &x.slots[i]
		if s.a == 0 {
			return 0, 0, false
		}
		if s.h == h && eq(s.a-1, s.b) {
			return s.a - 1, s.b, true
		}
	}
}

// mix folds two words into one (the 128-bit product's halves xored, as
// wyhash does).
func mix(a, b uint64) uint64 {
	hi, lo := bits.Mul64(a^0xa0761d6478bd642f, b^0xe7037ed1a0b428db)
	return hi ^ lo
}

// HashKey returns the hash of a 32-byte key.
func (x *Index) HashKey(k *[32]byte) uint64 {
	w0 := binary.LittleEndian.Uint64(k[0:])
	w1 := binary.LittleEndian.Uint64(k[8:])
	w2 := binary.LittleEndian.Uint64(k[16:])
	w3 := binary.LittleEndian.Uint64(k[24:])
	return mix(mix(w0^x.seed, w1), mix(w2, w3^x.seed))
}

// HashPrefix returns the hash of a valid prefix without a zone (as
// netip.Prefix.Masked returns it): its address bytes, family and length.
// Equal prefixes have equal hashes.
func (x *Index) HashPrefix(p netip.Prefix) uint64 {
	a := p.Addr()
	b := a.As16()
	tag := uint64(p.Bits()) + 1
	if a.Is4() {
		tag |= 1 << 8
	}
	return mix(mix(binary.LittleEndian.Uint64(b[0:])^x.seed, binary.LittleEndian.Uint64(b[8:])), tag^x.seed)
}
