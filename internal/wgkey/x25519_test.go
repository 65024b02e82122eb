package wgkey

// crypto/ecdh is imported here only, as the reference the X25519 of this
// package is compared with; the package itself must not link it.

import (
	"bytes"
	"crypto/ecdh"
	"crypto/rand"
	"encoding/hex"
	"flag"
	"math/big"
	"testing"
)

var longX25519 = flag.Bool("x25519.long", false, "run the 1,000,000-iteration RFC 7748 test (minutes)")

func fromHex(t testing.TB, h string) [Len]byte {
	t.Helper()
	b, err := hex.DecodeString(h)
	if err != nil || len(b) != Len {
		t.Fatalf("bad test hex %q: %v", h, err)
	}
	return [Len]byte(b)
}

func call(scalar, point [Len]byte) [Len]byte {
	var out [Len]byte
	x25519(&out, &scalar, &point)
	return out
}

// RFC 7748, section 5.2, the two single-call vectors.
func TestX25519_RFC7748Vectors(t *testing.T) {
	tests := []struct{ scalar, u, out string }{
		{
			"a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4",
			"e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c",
			"c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552",
		},
		{
			"4b66e9d4d1b4673c5ad22691957d6af5c11b6421e0ea01d42ca4169e7918ba0d",
			"e5210f12786811d3f4b7959d0538ae2c31dbe7106fc03c3efc4cd549c715a493",
			"95cbde9476e8907d7aade45cb4b873f88b595a68799fa152e6f8f7647aac7957",
		},
	}
	for i, tt := range tests {
		got := call(fromHex(t, tt.scalar), fromHex(t, tt.u))
		if got != fromHex(t, tt.out) {
			t.Errorf("vector %d: got %x, want %s", i+1, got, tt.out)
		}
	}
}

// RFC 7748, section 5.2, the iterated test: k = u = 9, then
// k, u = X25519(k, u), k.
func TestX25519_RFC7748Iterated(t *testing.T) {
	checkpoints := map[int]string{
		1:         "422c8e7a6227d7bca1350b3e2bb7279f7897b87bb6854b783c60e80311ae3079",
		1_000:     "684cf59ba83309552800ef566f2f4d3c1c3887c49360e3875f2eb94d99532c51",
		1_000_000: "7c3911e0ab2586fd864497297e575e6f3bc601c0883c30df5f4dd2d24f665424",
	}
	n := 1_000
	if *longX25519 && !testing.Short() {
		n = 1_000_000
	}
	k, u := basePoint, basePoint
	for i := 1; i <= n; i++ {
		k, u = call(k, u), k
		if want, ok := checkpoints[i]; ok && k != fromHex(t, want) {
			t.Fatalf("after %d iterations: got %x, want %s", i, k, want)
		}
	}
	if n < 1_000_000 {
		t.Logf("ran %d iterations; -x25519.long runs 1,000,000", n)
	}
}

// RFC 7748, section 6.1: both key pairs and the shared secret.
func TestX25519_RFC7748DiffieHellman(t *testing.T) {
	alicePriv := fromHex(t, "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a")
	alicePub := fromHex(t, "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a")
	bobPriv := fromHex(t, "5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb")
	bobPub := fromHex(t, "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f")
	shared := fromHex(t, "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742")

	if got := call(alicePriv, basePoint); got != alicePub {
		t.Errorf("Alice's public key = %x, want %x", got, alicePub)
	}
	if got := call(bobPriv, basePoint); got != bobPub {
		t.Errorf("Bob's public key = %x, want %x", got, bobPub)
	}
	if got := call(alicePriv, bobPub); got != shared {
		t.Errorf("Alice's shared secret = %x, want %x", got, shared)
	}
	if got := call(bobPriv, alicePub); got != shared {
		t.Errorf("Bob's shared secret = %x, want %x", got, shared)
	}
	if got := PrivateKeyFromBytes(bobPriv).PublicKey(); got != Key(bobPub) {
		t.Errorf("PrivateKey.PublicKey() = %v, want %x", got, bobPub)
	}
}

// reference computes X25519 with crypto/ecdh; ok is false when ecdh
// rejects the result (all zeros, for a point of small order).
func reference(t testing.TB, scalar, point [Len]byte) (pub, shared [Len]byte, ok bool) {
	t.Helper()
	priv, err := ecdh.X25519().NewPrivateKey(scalar[:])
	if err != nil {
		t.Fatalf("ecdh NewPrivateKey: %v", err)
	}
	pub = [Len]byte(priv.PublicKey().Bytes())
	peer, err := ecdh.X25519().NewPublicKey(point[:])
	if err != nil {
		t.Fatalf("ecdh NewPublicKey(%x): %v", point, err)
	}
	s, err := priv.ECDH(peer)
	if err != nil {
		return pub, shared, false
	}
	return pub, [Len]byte(s), true
}

func compare(t testing.TB, scalar, point [Len]byte) {
	t.Helper()
	wantPub, wantShared, ok := reference(t, scalar, point)
	if got := call(scalar, basePoint); got != wantPub {
		t.Fatalf("X25519(%x, 9) = %x, crypto/ecdh %x", scalar, got, wantPub)
	}
	got := call(scalar, point)
	if !ok {
		if got != ([Len]byte{}) {
			t.Fatalf("X25519(%x, %x) = %x, crypto/ecdh rejects it as all zeros", scalar, point, got)
		}
		return
	}
	if got != wantShared {
		t.Fatalf("X25519(%x, %x) = %x, crypto/ecdh %x", scalar, point, got, wantShared)
	}
}

// leBytes encodes n (< 2^256) in 32 little-endian bytes.
func leBytes(n *big.Int) [Len]byte {
	var out [Len]byte
	be := n.FillBytes(make([]byte, Len))
	for i := range out {
		out[i] = be[Len-1-i]
	}
	return out
}

// edgePoints are u-coordinates around the field's edges: small values,
// p-1, the non-canonical p..2^255-1 (which must act as u - p), values with
// the ignored top bit set, and the points of small order.
func edgePoints() [][Len]byte {
	p := new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 255), big.NewInt(19))
	var pts [][Len]byte
	for _, d := range []int64{0, 1, 2, 9, 18, 19, 20} {
		pts = append(pts, leBytes(big.NewInt(d)))
		pts = append(pts, leBytes(new(big.Int).Add(p, big.NewInt(d))))         // p + d (< 2^255 for d < 19)
		pts = append(pts, leBytes(new(big.Int).Sub(p, big.NewInt(d+1))))       // p - 1 - d
		pts = append(pts, leBytes(new(big.Int).Add(p, big.NewInt(d+(1<<20))))) // top bit clear, above p
	}
	for _, d := range []int64{1, 2, 19, 20} {
		two255 := new(big.Int).Lsh(big.NewInt(1), 255)
		pts = append(pts, leBytes(new(big.Int).Sub(two255, big.NewInt(d))))                      // up to 2^255-1
		pts = append(pts, leBytes(new(big.Int).Add(two255, big.NewInt(d))))                      // top bit set
		pts = append(pts, leBytes(new(big.Int).Sub(new(big.Int).Lsh(two255, 1), big.NewInt(d)))) // 2^256 - d
	}
	// Small-order points of Curve25519 (with u = 0 and 1 above, and p-1).
	for _, h := range []string{
		"e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800",
		"5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157",
	} {
		b, _ := hex.DecodeString(h)
		pts = append(pts, [Len]byte(b))
	}
	var allOnes [Len]byte
	for i := range allOnes {
		allOnes[i] = 0xff
	}
	return append(pts, allOnes)
}

func TestX25519_EdgePoints(t *testing.T) {
	var scalar [Len]byte
	for _, pt := range edgePoints() {
		for range 4 {
			rand.Read(scalar[:])
			compare(t, scalar, pt)
		}
	}
}

// TestX25519_Differential compares with crypto/ecdh on random scalars and
// random u-coordinates (including the top bit and values >= p).
func TestX25519_Differential(t *testing.T) {
	n := 10_000
	if testing.Short() {
		n = 2_000
	}
	var scalar, point [Len]byte
	for range n {
		rand.Read(scalar[:])
		rand.Read(point[:])
		compare(t, scalar, point)
	}
	// Scalars at the extremes, which clamping maps to 2^254 and 2^255-8.
	for _, s := range [][Len]byte{{}, fromHex(t, "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff")} {
		rand.Read(point[:])
		compare(t, s, point)
	}
}

func TestFieldBytesCanonical(t *testing.T) {
	// Limb patterns whose value is p, p+1, 2^255-1 and 0 must encode as the
	// canonical residue.
	p := fe{mask51 - 18, mask51, mask51, mask51, mask51}
	if got := p.bytes(); got != ([Len]byte{}) {
		t.Errorf("p encodes as %x, want 0", got)
	}
	if got := (fe{mask51 - 17, mask51, mask51, mask51, mask51}).bytes(); got != ([Len]byte{1}) {
		t.Errorf("p+1 encodes as %x, want 1", got)
	}
	if got := (fe{mask51, mask51, mask51, mask51, mask51}).bytes(); got != ([Len]byte{18}) {
		t.Errorf("2^255-1 encodes as %x, want 18", got)
	}
	// Decoding ignores bit 255 and keeps non-canonical values.
	var b [Len]byte
	for i := range b {
		b[i] = 0xff
	}
	if got := feFromBytes(&b).bytes(); got != ([Len]byte{18}) {
		t.Errorf("decode(0xff...ff) encodes as %x, want 18", got)
	}
}

func FuzzX25519(f *testing.F) {
	f.Add(bytes.Repeat([]byte{0}, Len), bytes.Repeat([]byte{0}, Len))
	f.Add(bytes.Repeat([]byte{0xff}, Len), bytes.Repeat([]byte{0xff}, Len))
	for _, pt := range edgePoints() {
		f.Add(bytes.Repeat([]byte{0x5a}, Len), pt[:])
	}
	f.Fuzz(func(t *testing.T, s, u []byte) {
		var scalar, point [Len]byte
		copy(scalar[:], s)
		copy(point[:], u)
		compare(t, scalar, point)
	})
}

func BenchmarkX25519(b *testing.B) {
	scalar := fromHex(b, "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a")
	var out [Len]byte
	for b.Loop() {
		x25519(&out, &scalar, &basePoint)
	}
}

func BenchmarkPublicKey(b *testing.B) {
	k := PrivateKeyFromBytes(fromHex(b, "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a"))
	for b.Loop() {
		_ = k.PublicKey()
	}
}

func BenchmarkECDHReference(b *testing.B) {
	scalar := fromHex(b, "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a")
	for b.Loop() {
		priv, err := ecdh.X25519().NewPrivateKey(scalar[:])
		if err != nil {
			b.Fatal(err)
		}
		_ = priv.PublicKey().Bytes()
	}
}

// TestSquareAndInvert checks the field operations X25519 is made of
// against math/big: square as a·a mod p, at the loose bound too, and
// invert as z^(p-2) mod p.
func TestSquareAndInvert(t *testing.T) {
	p := new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 255), big.NewInt(19))
	val := func(v fe) *big.Int {
		b := v.bytes()
		for i, j := 0, Len-1; i < j; i, j = i+1, j-1 {
			b[i], b[j] = b[j], b[i]
		}
		return new(big.Int).SetBytes(b[:])
	}
	// The largest loose element: every limb at its bound.
	loose := fe{mask51 + 1<<18, mask51, mask51, mask51, mask51}
	cases := []fe{{}, {1}, loose, {mask51, mask51, mask51, mask51, mask51}}
	var b [Len]byte
	for range 200 {
		rand.Read(b[:])
		cases = append(cases, feFromBytes(&b))
	}
	for _, a := range cases {
		want := new(big.Int).Mul(val(a), val(a))
		want.Mod(want, p)
		if got := val(square(a)); got.Cmp(want) != 0 {
			t.Fatalf("square(%x) = %x, want %x", a, got, want)
		}
		if got := val(square(a)); got.Cmp(val(mul(a, a))) != 0 {
			t.Fatalf("square(%x) = %x, mul = %x", a, got, val(mul(a, a)))
		}
		want = new(big.Int).Exp(val(a), new(big.Int).Sub(p, big.NewInt(2)), p)
		if got := val(invert(a)); got.Cmp(want) != 0 {
			t.Fatalf("invert(%x) = %x, want %x", a, got, want)
		}
	}
}
