package wgkey

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"testing"
)

// RFC 7748 section 6.1, Alice's key pair.
const (
	rfcPrivateHex = "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a"
	rfcPublicHex  = "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a"
)

func b64FromHex(t *testing.T, h string) string {
	t.Helper()
	b, err := hex.DecodeString(h)
	if err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(b)
}

func TestPrivateKey_PublicKey(t *testing.T) {
	priv, err := ParsePrivateKey(b64FromHex(t, rfcPrivateHex))
	if err != nil {
		t.Fatalf("ParsePrivateKey: %v", err)
	}
	want, err := ParseKey(b64FromHex(t, rfcPublicHex))
	if err != nil {
		t.Fatalf("ParseKey: %v", err)
	}
	if got := priv.PublicKey(); got != want {
		t.Errorf("PublicKey() = %v, want %v", got, want)
	}
	if got := (PrivateKey{}).PublicKey(); !got.IsZero() {
		t.Errorf("unset PrivateKey.PublicKey() = %v, want zero", got)
	}
}

func TestParseKey(t *testing.T) {
	valid := b64FromHex(t, rfcPublicHex)
	tests := []struct {
		name string
		in   string
		ok   bool
	}{
		{"valid", valid, true},
		{"empty", "", false},
		{"missing padding", strings.TrimSuffix(valid, "="), false},
		{"43 bytes of base64 decodes to 33", base64.StdEncoding.EncodeToString(make([]byte, 33)), false},
		{"31 bytes", base64.StdEncoding.EncodeToString(make([]byte, 31)), false},
		{"url alphabet", strings.NewReplacer("+", "-", "/", "_").Replace("+++++++++++++++++++++++++++++++++++++++++++="), false},
		{"non-canonical trailing bits", valid[:42] + "B=", false},
		{"whitespace inside", valid[:10] + " " + valid[11:], false},
		{"hex instead of base64", rfcPublicHex, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseKey(tt.in)
			if (err == nil) != tt.ok {
				t.Fatalf("ParseKey(%q) error = %v, want ok=%v", tt.in, err, tt.ok)
			}
			if err == nil {
				return
			}
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("ParseKey(%q) error = %v, want errors.Is ErrInvalid", tt.in, err)
			}
			if tt.in != "" && strings.Contains(err.Error(), tt.in) {
				t.Errorf("ParseKey error %q echoes its input", err)
			}
			if _, err := ParsePrivateKey(tt.in); err == nil {
				t.Errorf("ParsePrivateKey(%q) = nil error, want error", tt.in)
			}
		})
	}
}

func TestKey_String(t *testing.T) {
	s := b64FromHex(t, rfcPublicHex)
	k, err := ParseKey(s)
	if err != nil {
		t.Fatal(err)
	}
	if got := k.String(); got != s {
		t.Errorf("String() = %q, want %q", got, s)
	}
	var back Key
	if err := back.UnmarshalText([]byte(s)); err != nil || back != k {
		t.Errorf("UnmarshalText(%q) = %v, %v; want %v", s, back, err, k)
	}
	if (Key{}).IsZero() != true || k.IsZero() {
		t.Errorf("IsZero wrong for zero or non-zero key")
	}
}

type holder struct {
	Name   string
	Key    PrivateKey
	secret PrivateKey
	PSK    PresharedKey
	ptr    *PresharedKey
}

func TestSecretsNeverPrint(t *testing.T) {
	s := b64FromHex(t, rfcPrivateHex)
	priv, err := ParsePrivateKey(s)
	if err != nil {
		t.Fatal(err)
	}
	psk, err := ParsePresharedKey(s)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := hex.DecodeString(rfcPrivateHex)
	h := holder{Name: "wg0", Key: priv, secret: priv, PSK: psk, ptr: &psk}
	leaks := []string{s, rfcPrivateHex, fmt.Sprint(raw), fmt.Sprint(raw[:4])[1:8]}
	for _, format := range []string{"%v", "%+v", "%#v", "%s", "%x", "%X", "%q", "%d", "%T %v"} {
		for _, v := range []any{priv, &priv, psk, &psk, h, &h, []PrivateKey{priv}, map[string]PresharedKey{"a": psk}} {
			out := fmt.Sprintf(format, v)
			for _, leak := range leaks {
				if strings.Contains(out, leak) {
					t.Errorf("Sprintf(%q, %T) = %q, leaks key material", format, v, out)
				}
			}
		}
	}
	if got := priv.String(); got != "(hidden)" {
		t.Errorf("String() = %q, want (hidden)", got)
	}
	if b, err := psk.MarshalText(); err != nil || string(b) != "(hidden)" {
		t.Errorf("MarshalText() = %q, %v; want (hidden)", b, err)
	}
	if got := priv.Reveal(); got != s {
		t.Errorf("Reveal() = %q, want the base64 key", got)
	}
}

func TestSecret_Zero(t *testing.T) {
	priv, err := ParsePrivateKey(b64FromHex(t, rfcPrivateHex))
	if err != nil {
		t.Fatal(err)
	}
	cp := priv
	if priv.IsZero() {
		t.Fatal("IsZero() = true for a parsed key")
	}
	priv.Zero()
	if !priv.IsZero() {
		t.Error("IsZero() = false after Zero()")
	}
	if b := cp.Bytes(); b != [Len]byte{} {
		t.Errorf("copy still holds key material after Zero(): first byte %#x", b[0])
	}
	var unset PresharedKey
	unset.Zero() // must not panic
	if !unset.IsZero() || unset.Reveal() != "" {
		t.Error("unset PresharedKey is not zero")
	}
}

func TestEqual(t *testing.T) {
	a := PrivateKeyFromBytes([Len]byte{1})
	b := PrivateKeyFromBytes([Len]byte{1})
	c := PrivateKeyFromBytes([Len]byte{2})
	if !a.Equal(b) || a.Equal(c) || !(PrivateKey{}).Equal(PrivateKey{}) {
		t.Error("PrivateKey.Equal gives wrong answers")
	}
	if !PresharedKeyFromBytes([Len]byte{3}).Equal(PresharedKeyFromBytes([Len]byte{3})) {
		t.Error("PresharedKey.Equal gives wrong answers")
	}
}

func TestGeneratePrivateKey(t *testing.T) {
	a, err := GeneratePrivateKey()
	if err != nil {
		t.Fatal(err)
	}
	b, err := GeneratePrivateKey()
	if err != nil {
		t.Fatal(err)
	}
	if a.Equal(b) || a.IsZero() {
		t.Error("two generated keys are equal or zero")
	}
	raw := a.Bytes()
	if raw[0]&7 != 0 || raw[31]&128 != 0 || raw[31]&64 == 0 {
		t.Errorf("generated key is not clamped: %#x ... %#x", raw[0], raw[31])
	}
	back, err := ParsePrivateKey(a.Reveal())
	if err != nil || !back.Equal(a) {
		t.Errorf("ParsePrivateKey(Reveal()) = %v, want the same key", err)
	}
}

// TestParseKeyNoCopy: parsing leaves no heap copy of the key's text (the
// base64 of a private key is as secret as the key).
func TestParseKeyNoCopy(t *testing.T) {
	s := "xkSiuuwzFSr9eB4uyyHVhGU4hlPxfL8VN1fLD/W8J2c="
	if n := testing.AllocsPerRun(100, func() { ParseKey(s) }); n != 0 {
		t.Errorf("ParseKey allocates %v times, want 0", n)
	}
}

// TestDecodeKeyAgreesWithBase64 checks that the key decoder's fast path
// accepts exactly what strict padded base64 decodes to 32 bytes, with the
// same bytes: random keys, and every single-byte change of one.
func TestDecodeKeyAgreesWithBase64(t *testing.T) {
	check := func(s string) {
		t.Helper()
		var fast [Len]byte
		ok := decodeKey(&fast, s)
		want, err := base64.StdEncoding.Strict().DecodeString(s)
		std := err == nil && len(want) == Len
		if ok != std || ok && !bytes.Equal(fast[:], want) {
			t.Fatalf("%q: fast %v %x, encoding/base64 %v %x", s, ok, fast, std, want)
		}
	}
	var k [Len]byte
	for i := range 200 {
		for j := range k {
			k[j] = byte(i*131 + j*j*7 + j)
		}
		check(base64.StdEncoding.EncodeToString(k[:]))
	}
	s := base64.StdEncoding.EncodeToString(k[:])
	for i := range len(s) {
		for c := range 256 {
			b := []byte(s)
			b[i] = byte(c)
			check(string(b))
		}
	}
	check(s[:43])
	check(s + "=")
}
