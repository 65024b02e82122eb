// Package wgkey holds WireGuard keys: public keys that print as base64, and
// secret keys (private and preshared) that never print at all.
//
// A secret key's String, Format, GoString and MarshalText all yield
// "(hidden)", and its bytes sit behind a closure, so even a struct printed
// through reflection (an unexported field) shows an address, not the key. The only ways
// to get the secret out are [PrivateKey.Use] (for the kernel),
// [PrivateKey.Bytes] and [PrivateKey.Reveal] (for writing a key file on
// explicit request).
package wgkey

import (
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"unsafe"

	"github.com/wgboot/wgboot/internal/secmem"
)

// Len is the length of every WireGuard key in bytes.
const Len = 32

// encodedLen is the length of a key in padded base64, as wg(8) prints it.
const encodedLen = 44

// hidden is what every formatting method of a secret key yields.
const hidden = "(hidden)"

// ErrInvalid is wrapped by every parse error. The messages describe the
// problem (length, alphabet) but never include the input.
var ErrInvalid = errors.New("invalid key")

// Key is a Curve25519 public key. It is comparable and prints as base64.
type Key [Len]byte

// ParseKey decodes a public key from the padded base64 form that wg(8) uses.
// The error never echoes s: users paste private keys into public key fields.
func ParseKey(s string) (Key, error) {
	var k Key
	err := decode((*[Len]byte)(&k), s)
	return k, err
}

// String returns the key in base64.
func (k Key) String() string { return base64.StdEncoding.EncodeToString(k[:]) }

// IsZero reports whether k is all zero bytes (unset).
func (k Key) IsZero() bool { return k == Key{} }

// MarshalText implements [encoding.TextMarshaler] with the base64 form.
func (k Key) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

// UnmarshalText implements [encoding.TextUnmarshaler].
func (k *Key) UnmarshalText(b []byte) error {
	key, err := ParseKey(string(b))
	if err != nil {
		return err
	}
	*k = key
	return nil
}

// strictBase64 is made once: Strict returns a new Encoding each call.
var strictBase64 = base64.StdEncoding.Strict()

// decode parses padded base64 into dst; dst is untouched on error. It
// makes no copy of s.
func decode(dst *[Len]byte, s string) error {
	if len(s) != encodedLen {
		return fmt.Errorf("%w: %d characters, want %d characters of base64", ErrInvalid, len(s), encodedLen)
	}
	var buf [Len + 2]byte
	if decodeKey((*[Len]byte)(buf[:Len]), s) {
		copy(dst[:], buf[:Len])
		clear(buf[:])
		secmem.ClearRegisters() // the decoding moved the key through them
		return nil
	}
	// Anything else, with the errors' wording: the standard decoder.
	// Decode from a view of s, not []byte(s): that copy would be on the
	// heap (over 32 bytes) and hold the key's text after the call.
	n, err := strictBase64.Decode(buf[:], unsafe.Slice(unsafe.StringData(s), len(s)))
	if err != nil {
		// The CorruptInputError carries an offset only, but a key-shaped
		// message is clearer than "illegal base64 data at input byte 7".
		clear(buf[:])
		return fmt.Errorf("%w: not valid base64", ErrInvalid)
	}
	if n != Len {
		clear(buf[:])
		return fmt.Errorf("%w: decodes to %d bytes, want %d", ErrInvalid, n, Len)
	}
	copy(dst[:], buf[:Len])
	clear(buf[:])
	secmem.ClearRegisters() // the copy moved the key through them
	return nil
}

// decodeKey decodes a key in the one form strict padded base64 gives 32
// bytes: 43 characters of the standard alphabet, the last with its low two
// bits zero, then '='. It reports false for anything else, leaving the
// error's wording to encoding/base64. A hub profile has a key per peer:
// this is about a quarter of encoding/base64's instructions.
func decodeKey(dst *[Len]byte, s string) bool {
	if len(s) != encodedLen || s[encodedLen-1] != '=' {
		return false
	}
	var bad byte
	for i := range 10 {
		a, b, c, d := base64Value[s[4*i]], base64Value[s[4*i+1]], base64Value[s[4*i+2]], base64Value[s[4*i+3]]
		bad |= a | b | c | d
		v := uint32(a)<<18 | uint32(b)<<12 | uint32(c)<<6 | uint32(d)
		dst[3*i], dst[3*i+1], dst[3*i+2] = byte(v>>16), byte(v>>8), byte(v)
	}
	a, b, c := base64Value[s[40]], base64Value[s[41]], base64Value[s[42]]
	bad |= a | b | c
	v := uint32(a)<<12 | uint32(b)<<6 | uint32(c)
	dst[30], dst[31] = byte(v>>10), byte(v>>2)
	return bad < 64 && c&3 == 0
}

// base64Value maps the standard base64 alphabet to its 6-bit values and
// every other byte to 0xff.
var base64Value = func() (t [256]byte) {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	for i := range t {
		t[i] = 0xff
	}
	for i := range len(alphabet) {
		t[alphabet[i]] = byte(i)
	}
	return t
}()

// secret is the shared body of PrivateKey and PresharedKey.
//
// NB: the bytes are reachable only through a closure. fmt does not call
// methods on unexported fields, so a struct holding a secret in one and
// printed with %v, %s or %x is rendered by reflection; reflection shows a
// func as an address, while a pointer or array would be shown (with %s,
// through fmt's bad-verb path) as its bytes.
type secret struct {
	get func() *[Len]byte
}

func secretOf(b *[Len]byte) secret {
	return secret{get: func() *[Len]byte { return b }}
}

func newSecret(s string) (secret, error) {
	var b [Len]byte
	if err := decode(&b, s); err != nil {
		return secret{}, err
	}
	return secretOf(&b), nil
}

// raw returns the key material or nil when unset.
func (s secret) raw() *[Len]byte {
	if s.get == nil {
		return nil
	}
	return s.get()
}

// IsZero reports whether the key is unset or all zero bytes.
func (s secret) IsZero() bool {
	b := s.raw()
	if b == nil {
		return true
	}
	var zero [Len]byte
	return subtle.ConstantTimeCompare(b[:], zero[:]) == 1
}

// Bytes returns a copy of the key material. The caller should clear the
// copy when done; the array is returned by value, so the call leaves
// copies the caller cannot clear (in the frame, in registers): code that
// hands the key on uses [secret.Use] instead.
func (s secret) Bytes() [Len]byte {
	if b := s.raw(); b != nil {
		return *b
	}
	return [Len]byte{}
}

// Use calls fn with the key material itself (32 zero bytes for an unset
// key), for encoding it into a buffer that the caller clears: no copy is
// made on the way. fn must not keep the slice. Afterwards the registers
// the copies fn made went through are cleared (see package secmem).
func (s secret) Use(fn func(key []byte)) {
	b := s.raw()
	if b == nil {
		b = new([Len]byte)
	}
	fn(b[:])
	secmem.ClearRegisters()
}

// Reveal returns the key in base64. Use it only to write a key on an
// explicit request (an export the user asked for); never log it.
func (s secret) Reveal() string {
	b := s.raw()
	if b == nil {
		return ""
	}
	return base64.StdEncoding.EncodeToString(b[:])
}

// Zero overwrites the key material and forgets it. Copies of a key share
// the material, so Zero wipes it for every copy.
func (s *secret) Zero() {
	if b := s.raw(); b != nil {
		clear(b[:])
	}
	s.get = nil
}

// equal compares in constant time; two unset keys are equal.
func (s secret) equal(o secret) bool {
	var zero [Len]byte
	a, b := s.raw(), o.raw()
	if a == nil {
		a = &zero
	}
	if b == nil {
		b = &zero
	}
	return subtle.ConstantTimeCompare(a[:], b[:]) == 1
}

// String returns "(hidden)".
func (s secret) String() string { return hidden }

// GoString returns "(hidden)", for %#v.
func (s secret) GoString() string { return hidden }

// Format writes "(hidden)" for every verb, so %x, %v and %q cannot leak.
func (s secret) Format(f fmt.State, _ rune) { io.WriteString(f, hidden) }

// MarshalText returns "(hidden)": an encoder that reaches a secret by
// reflection writes a value that fails to parse back, never the key.
func (s secret) MarshalText() ([]byte, error) { return []byte(hidden), nil }

// PrivateKey is a Curve25519 private key that cannot be printed by accident.
// The zero value is an unset key. Compare keys with Equal: == and
// reflect.DeepEqual see only the hidden closure.
type PrivateKey struct{ secret }

// ParsePrivateKey decodes a private key from padded base64. The error never
// echoes s.
func ParsePrivateKey(s string) (PrivateKey, error) {
	sec, err := newSecret(s)
	return PrivateKey{sec}, err
}

// PrivateKeyFromBytes returns a private key holding a copy of b.
func PrivateKeyFromBytes(b [Len]byte) PrivateKey {
	return PrivateKey{secretOf(&b)}
}

// GeneratePrivateKey returns a new random private key from the kernel's
// CSPRNG (getrandom(2) on Linux, crypto/rand elsewhere; see readRandom).
func GeneratePrivateKey() (PrivateKey, error) {
	var b [Len]byte
	if err := readRandom(b[:]); err != nil {
		clear(b[:])
		return PrivateKey{}, fmt.Errorf("read random key: %w", err)
	}
	// Clamp as wg(8) genkey does; X25519 clamps again, so this only makes
	// the stored form canonical.
	b[0] &= 248
	b[31] = (b[31] & 127) | 64
	return PrivateKey{secretOf(&b)}, nil
}

// PublicKey derives the public key with X25519. It returns the zero Key
// for an unset private key.
func (k PrivateKey) PublicKey() Key {
	b := k.raw()
	if b == nil {
		return Key{}
	}
	var pub Key
	x25519((*[Len]byte)(&pub), b, &basePoint)
	return pub
}

// Equal reports whether k and o hold the same key, in constant time.
func (k PrivateKey) Equal(o PrivateKey) bool { return k.equal(o.secret) }

// UnmarshalText implements [encoding.TextUnmarshaler]; the error never
// echoes the text.
func (k *PrivateKey) UnmarshalText(b []byte) error {
	key, err := ParsePrivateKeyBytes(b)
	if err != nil {
		return err
	}
	*k = key
	return nil
}

// PresharedKey is a WireGuard preshared (symmetric) key that cannot be
// printed by accident. The zero value is an unset key. Compare keys with
// Equal.
type PresharedKey struct{ secret }

// ParsePresharedKey decodes a preshared key from padded base64. The error
// never echoes s.
func ParsePresharedKey(s string) (PresharedKey, error) {
	sec, err := newSecret(s)
	return PresharedKey{sec}, err
}

// PresharedKeyFromBytes returns a preshared key holding a copy of b.
func PresharedKeyFromBytes(b [Len]byte) PresharedKey {
	return PresharedKey{secretOf(&b)}
}

// Equal reports whether k and o hold the same key, in constant time.
func (k PresharedKey) Equal(o PresharedKey) bool { return k.equal(o.secret) }

// UnmarshalText implements [encoding.TextUnmarshaler]; the error never
// echoes the text.
func (k *PresharedKey) UnmarshalText(b []byte) error {
	key, err := ParsePresharedKey(unsafe.String(unsafe.SliceData(b), len(b)))
	if err != nil {
		return err
	}
	*k = key
	return nil
}
