package wgkey

// X25519 as specified in RFC 7748, section 5, written here so that the
// init binary does not link crypto/ecdh and with it the FIPS 140 module
// (NIST curves, SHA-3, AES, a DRBG): about 200 KB for one scalar
// multiplication per tunnel.
//
// Field elements of GF(2^255-19) are five unsigned 51-bit limbs,
// v = l0 + l1·2^51 + l2·2^102 + l3·2^153 + l4·2^204, multiplied with
// math/bits into 128-bit accumulators. Every operation runs the same
// instructions whatever the values (no branches or table indexes on secret
// data; inversion follows a fixed addition chain), and the ladder swaps with
// masks. Squarings have their own function (15 multiplications, not 25),
// and the carries after a product are written out, not called: together
// with the chain, 22 % fewer instructions on amd64 and 25 % on arm64 than
// multiplications throughout.

import (
	"encoding/binary"
	"math/bits"

	"github.com/wgboot/wgboot/internal/secmem"
)

// fe is a field element. Invariant between operations ("loose"): l1..l4 <
// 2^51 and l0 < 2^51 + 2^18, so every limb is below 2^51.001.
type fe [5]uint64

const mask51 = 1<<51 - 1

// basePoint is the u-coordinate 9 of the Curve25519 generator.
var basePoint = [Len]byte{9}

// feFromBytes decodes a little-endian u-coordinate, ignoring its top bit
// (RFC 7748, section 5: "implementations of X25519 MUST mask the
// most significant bit"). Non-canonical values (p to 2^255-1) are kept as
// they are; arithmetic mod p reduces them, as the RFC requires.
func feFromBytes(b *[Len]byte) fe {
	w0 := binary.LittleEndian.Uint64(b[0:])
	w1 := binary.LittleEndian.Uint64(b[8:])
	w2 := binary.LittleEndian.Uint64(b[16:])
	w3 := binary.LittleEndian.Uint64(b[24:]) &^ (1 << 63)
	return fe{
		w0 & mask51,
		(w0>>51 | w1<<13) & mask51,
		(w1>>38 | w2<<26) & mask51,
		(w2>>25 | w3<<39) & mask51,
		w3 >> 12,
	}
}

// carry moves each limb's bits above 51 into the next limb, folding the
// top limb's overflow into l0 times 19 (2^255 = 19 mod p). For limbs below
// 2^63 the result is loose.
func (v *fe) carry() {
	c := v[0] >> 51
	v[0] &= mask51
	v[1] += c
	c = v[1] >> 51
	v[1] &= mask51
	v[2] += c
	c = v[2] >> 51
	v[2] &= mask51
	v[3] += c
	c = v[3] >> 51
	v[3] &= mask51
	v[4] += c
	c = v[4] >> 51
	v[4] &= mask51
	v[0] += 19 * c
}

// bytes encodes v in canonical form (fully reduced mod p), little-endian.
func (v fe) bytes() [Len]byte {
	// Two passes leave every limb below 2^51 (a second-pass carry out of l4
	// happens only when l1..l4 all wrap to 0, so the 19 added to l0 cannot
	// overflow it), so v < 2^255 < 2p.
	v.carry()
	v.carry()
	// q = 1 exactly when v >= p, i.e. when v + 19 reaches 2^255.
	q := (v[0] + 19) >> 51
	q = (v[1] + q) >> 51
	q = (v[2] + q) >> 51
	q = (v[3] + q) >> 51
	q = (v[4] + q) >> 51
	// v - q·p = v + 19q - q·2^255: add 19q and drop bit 255.
	v[0] += 19 * q
	c := v[0] >> 51
	v[0] &= mask51
	v[1] += c
	c = v[1] >> 51
	v[1] &= mask51
	v[2] += c
	c = v[2] >> 51
	v[2] &= mask51
	v[3] += c
	c = v[3] >> 51
	v[3] &= mask51
	v[4] = (v[4] + c) & mask51

	var out [Len]byte
	binary.LittleEndian.PutUint64(out[0:], v[0]|v[1]<<51)
	binary.LittleEndian.PutUint64(out[8:], v[1]>>13|v[2]<<38)
	binary.LittleEndian.PutUint64(out[16:], v[2]>>26|v[3]<<25)
	binary.LittleEndian.PutUint64(out[24:], v[3]>>39|v[4]<<12)
	clear(v[:])
	return out
}

// add returns a + b (loose).
func add(a, b fe) fe {
	v := fe{a[0] + b[0], a[1] + b[1], a[2] + b[2], a[3] + b[3], a[4] + b[4]}
	v.carry()
	return v
}

// Limbs of 2p, added before subtracting so no limb goes negative: each
// exceeds every loose limb.
const (
	twoP0  = 2 * (mask51 - 18) // 2·(2^51 - 19)
	twoP14 = 2 * mask51        // 2·(2^51 - 1)
)

// sub returns a - b (loose).
func sub(a, b fe) fe {
	v := fe{
		a[0] + twoP0 - b[0],
		a[1] + twoP14 - b[1],
		a[2] + twoP14 - b[2],
		a[3] + twoP14 - b[3],
		a[4] + twoP14 - b[4],
	}
	v.carry()
	return v
}

// u128 is a 128-bit accumulator.
type u128 struct{ lo, hi uint64 }

// mac returns acc + x·y.
func mac(acc u128, x, y uint64) u128 {
	hi, lo := bits.Mul64(x, y)
	lo, c := bits.Add64(acc.lo, lo, 0)
	return u128{lo, acc.hi + hi + c}
}

// shr51 returns acc >> 51, which fits 64 bits for acc < 2^115.
func (acc u128) shr51() uint64 { return acc.hi<<13 | acc.lo>>51 }

// mul returns a·b (loose). With loose inputs (limbs < 2^51.001, so 19·b_j <
// 2^55.3) each product is below 2^106.3 and each column of five below
// 2^108.7; the carries are below 2^57.7 and 19 times the top one below
// 2^62.
func mul(a, b fe) fe {
	b1, b2, b3, b4 := 19*b[1], 19*b[2], 19*b[3], 19*b[4]
	var r0, r1, r2, r3, r4 u128
	// Column k gets a_i·b_j with i+j = k, plus 19·a_i·b_j with i+j = k+5.
	r0 = mac(r0, a[0], b[0])
	r0 = mac(r0, a[1], b4)
	r0 = mac(r0, a[2], b3)
	r0 = mac(r0, a[3], b2)
	r0 = mac(r0, a[4], b1)

	r1 = mac(r1, a[0], b[1])
	r1 = mac(r1, a[1], b[0])
	r1 = mac(r1, a[2], b4)
	r1 = mac(r1, a[3], b3)
	r1 = mac(r1, a[4], b2)

	r2 = mac(r2, a[0], b[2])
	r2 = mac(r2, a[1], b[1])
	r2 = mac(r2, a[2], b[0])
	r2 = mac(r2, a[3], b4)
	r2 = mac(r2, a[4], b3)

	r3 = mac(r3, a[0], b[3])
	r3 = mac(r3, a[1], b[2])
	r3 = mac(r3, a[2], b[1])
	r3 = mac(r3, a[3], b[0])
	r3 = mac(r3, a[4], b4)

	r4 = mac(r4, a[0], b[4])
	r4 = mac(r4, a[1], b[3])
	r4 = mac(r4, a[2], b[2])
	r4 = mac(r4, a[3], b[1])
	r4 = mac(r4, a[4], b[0])

	// carry, written out: as a call it was a tenth of X25519's
	// instructions.
	v0 := r0.lo&mask51 + 19*r4.shr51()
	v1 := r1.lo&mask51 + r0.shr51()
	v2 := r2.lo&mask51 + r1.shr51()
	v3 := r3.lo&mask51 + r2.shr51()
	v4 := r4.lo&mask51 + r3.shr51()
	v1 += v0 >> 51
	v0 &= mask51
	v2 += v1 >> 51
	v1 &= mask51
	v3 += v2 >> 51
	v2 &= mask51
	v4 += v3 >> 51
	v3 &= mask51
	v0 += 19 * (v4 >> 51)
	v4 &= mask51
	return fe{v0, v1, v2, v3, v4}
}

// square returns a·a (loose), as mul(a, a) with the symmetric products
// computed once: 15 multiplications instead of 25. The bounds are mul's:
// each column is at most three products below 2^107.3 (38·a_i < 2^56.3).
func square(a fe) fe {
	d0, d1, d2 := 2*a[0], 2*a[1], 2*a[2]
	a3x19, a4x19 := 19*a[3], 19*a[4]
	a4x38 := 2 * a4x19
	var r0, r1, r2, r3, r4 u128
	r0 = mac(r0, a[0], a[0])
	r0 = mac(r0, d1, a4x19)
	r0 = mac(r0, d2, a3x19)

	r1 = mac(r1, d0, a[1])
	r1 = mac(r1, d2, a4x19)
	r1 = mac(r1, a[3], a3x19)

	r2 = mac(r2, d0, a[2])
	r2 = mac(r2, a[1], a[1])
	r2 = mac(r2, a[3], a4x38)

	r3 = mac(r3, d0, a[3])
	r3 = mac(r3, d1, a[2])
	r3 = mac(r3, a[4], a4x19)

	r4 = mac(r4, d0, a[4])
	r4 = mac(r4, d1, a[3])
	r4 = mac(r4, a[2], a[2])

	// carry, written out: as a call it was a tenth of X25519's
	// instructions.
	v0 := r0.lo&mask51 + 19*r4.shr51()
	v1 := r1.lo&mask51 + r0.shr51()
	v2 := r2.lo&mask51 + r1.shr51()
	v3 := r3.lo&mask51 + r2.shr51()
	v4 := r4.lo&mask51 + r3.shr51()
	v1 += v0 >> 51
	v0 &= mask51
	v2 += v1 >> 51
	v1 &= mask51
	v3 += v2 >> 51
	v2 &= mask51
	v4 += v3 >> 51
	v3 &= mask51
	v0 += 19 * (v4 >> 51)
	v4 &= mask51
	return fe{v0, v1, v2, v3, v4}
}

// squareN returns a^(2^n): a squared n times.
func squareN(a fe, n int) fe {
	for range n {
		a = square(a)
	}
	return a
}

// invert returns z^(p-2) = 1/z (0 for z = 0). The exponent p-2 = 2^255 - 21
// is public, so an addition chain may follow it: 254 squarings and 11
// multiplications (the chain of curve25519's reference code), where
// square-and-multiply over its bits took 253 multiplications.
func invert(z fe) fe {
	z2 := square(z)                          // 2
	z9 := mul(squareN(z2, 2), z)             // 9
	z11 := mul(z9, z2)                       // 11
	z2_5 := mul(square(z11), z9)             // 2^5 - 1
	z2_10 := mul(squareN(z2_5, 5), z2_5)     // 2^10 - 1
	z2_20 := mul(squareN(z2_10, 10), z2_10)  // 2^20 - 1
	t := mul(squareN(z2_20, 20), z2_20)      // 2^40 - 1
	z2_50 := mul(squareN(t, 10), z2_10)      // 2^50 - 1
	z2_100 := mul(squareN(z2_50, 50), z2_50) // 2^100 - 1
	t = mul(squareN(z2_100, 100), z2_100)    // 2^200 - 1
	t = mul(squareN(t, 50), z2_50)           // 2^250 - 1
	return mul(squareN(t, 5), z11)           // 2^255 - 32 + 11 = 2^255 - 21
}

// cswap swaps a and b when swap is 1 and leaves them when it is 0, without
// branching on swap.
func cswap(swap uint64, a, b *fe) {
	m := -swap
	for i := range a {
		t := m & (a[i] ^ b[i])
		a[i] ^= t
		b[i] ^= t
	}
}

// a24 is (486662 - 2) / 4, the ladder constant of RFC 7748 for Curve25519.
var a24 = fe{121665}

// x25519 sets dst to X25519(scalar, point), the RFC 7748 function: clamp
// the scalar, decode the u-coordinate, run the Montgomery ladder, encode.
// The result is all zeros when point has small order.
func x25519(dst, scalar, point *[Len]byte) {
	k := *scalar
	k[0] &= 248
	k[31] &= 127
	k[31] |= 64

	x1 := feFromBytes(point)
	x2, z2 := fe{1}, fe{}
	x3, z3 := x1, fe{1}
	var swap uint64
	for t := 254; t >= 0; t-- {
		kt := uint64(k[t>>3]>>(t&7)) & 1
		swap ^= kt
		cswap(swap, &x2, &x3)
		cswap(swap, &z2, &z3)
		swap = kt

		a := add(x2, z2)
		aa := square(a)
		b := sub(x2, z2)
		bb := square(b)
		e := sub(aa, bb)
		c := add(x3, z3)
		d := sub(x3, z3)
		da := mul(d, a)
		cb := mul(c, b)
		x3 = add(da, cb)
		x3 = square(x3)
		z3 = sub(da, cb)
		z3 = mul(x1, square(z3))
		x2 = mul(aa, bb)
		z2 = mul(e, add(aa, mul(a24, e)))
	}
	cswap(swap, &x2, &x3)
	cswap(swap, &z2, &z3)

	*dst = mul(x2, invert(z2)).bytes()

	// Wipe what the compiler left in this frame: the clamped scalar and
	// the ladder state reveal the key. Temporaries in registers and the
	// callees' frames are out of reach.
	clear(k[:])
	clear(x2[:])
	clear(z2[:])
	clear(x3[:])
	clear(z3[:])
	swap = 0
	_ = swap
	secmem.ClearRegisters() // k := *scalar went through them
}
