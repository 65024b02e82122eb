package board

import (
	"strings"
	"unsafe"

	"github.com/wgboot/wgboot/internal/secmem"
)

// Key material in a parsed profile lives in three places, all of which
// [Profile.Wipe] zeroes: the keys themselves (wgkey types), the text the
// profile was parsed from (inline keys), held in a buffer the package owns
// (source.buf), and nowhere else:
//
//   - strings the profile keeps (names, paths) are copies, not views of the
//     text, so that wiping the text leaves them intact;
//   - the fast path decodes keys from views of the text; a key written with
//     escapes is unescaped into a string of its own, wiped once decoded;
//   - the toml package copies its input (io.ReadAll, then a string), so it
//     is given a copy in which the body of every inline key is replaced by
//     '*' (redactSecrets); the decoder reads the keys from the text itself.
//     A '*' cannot be part of a key, so a key the scanner missed fails to
//     parse rather than decoding wrongly.
//   - base64 is decoded from views, not copies (wgkey), and key files are
//     read into buffers that are cleared after decoding, straight into the
//     profile's keys;
//   - the copies of the text clear the registers they moved it through
//     (see package secmem).

// Wipe zeroes the key material p holds: every private and preshared key,
// and the text p was parsed from, which holds the inline keys. Call it
// once the keys are in the kernel. Afterwards p's keys are unset and new
// diagnostics about p have no positions; p's other fields are unchanged.
func (p *Profile) Wipe() {
	if p == nil {
		return
	}
	p.zeroKeys()
	if p.src != nil {
		clear(p.src.buf)
		p.src.buf, p.src.data = nil, ""
	}
}

// zeroKeys zeroes every key of p.
func (p *Profile) zeroKeys() {
	for i := range p.Tunnels {
		t := &p.Tunnels[i]
		t.PrivateKey.Zero()
		t.pubOf.Zero()
		for j := range t.Peers {
			t.Peers[j].PresharedKey.Zero()
		}
	}
}

// redactSecrets returns data for the toml package: data itself when it
// holds no inline key, else a copy with the body of each inline key
// replaced by '*' (same length, so positions hold), and where the keys are.
func redactSecrets(data string) (string, map[string]secretSpan) {
	if !mayHoldSecrets(data) {
		return data, nil
	}
	sc := scanner{s: data, mode: scanSecrets, ok: true, arrays: make(map[string]arrayCount)}
	sc.run()
	if len(sc.secrets) == 0 {
		return data, nil
	}
	b := []byte(data)
	secmem.ClearRegisters() // the copy moved the keys through them
	spans := make(map[string]secretSpan, len(sc.secrets))
	for _, sp := range sc.secrets {
		for i := sp.start; i < sp.end; i++ {
			b[i] = '*'
		}
		spans[sp.path] = sp
	}
	return unsafe.String(unsafe.SliceData(b), len(b)), spans
}

// mayHoldSecrets reports whether data names private_key or preshared_key
// other than as the prefix of private_key_file or preshared_key_file:
// most profiles hold none, and need no scan.
func mayHoldSecrets(data string) bool {
	for _, k := range []string{"private_key", "preshared_key"} {
		for rest := data; ; {
			i := strings.Index(rest, k)
			if i < 0 {
				break
			}
			rest = rest[i+len(k):]
			if !strings.HasPrefix(rest, "_file") {
				return true
			}
		}
	}
	return false
}

// view returns a string that shares b's memory. b must not change while
// the string is in use, except by a wipe that ends its use.
func view(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(unsafe.SliceData(b), len(b))
}

// within reports whether sub lies in the memory of s.
func within(s, sub string) bool {
	if len(sub) == 0 {
		return true
	}
	base := uintptr(unsafe.Pointer(unsafe.StringData(s)))
	p := uintptr(unsafe.Pointer(unsafe.StringData(sub)))
	return p >= base && p+uintptr(len(sub)) <= base+uintptr(len(s))
}

// wipeString zeroes a string that this package built on the heap, such as
// an unescaped key. Never call it on a literal: those are read-only.
func wipeString(s string) {
	if len(s) > 0 {
		clear(unsafe.Slice(unsafe.StringData(s), len(s)))
	}
}
