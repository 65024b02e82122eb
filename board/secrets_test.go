package board

import (
	"bytes"
	"encoding/base64"
	"reflect"
	"strings"
	"testing"
	"testing/fstest"
	"unsafe"

	"github.com/BurntSushi/toml"
)

// reachable returns every byte the package can reach from v: the bytes of
// strings, byte slices (up to their capacity) and byte arrays, through
// pointers, structs (unexported fields too), slices, maps and interfaces.
// Closures are opaque to it: the wgkey types hold their bytes in one, and
// IsZero tells whether they were zeroed.
func reachable(v reflect.Value) [][]byte {
	var out [][]byte
	seen := make(map[uintptr]bool)
	var walk func(v reflect.Value)
	walk = func(v reflect.Value) {
		switch v.Kind() {
		case reflect.String:
			if n := v.Len(); n > 0 {
				s := v.String()
				out = append(out, unsafe.Slice(unsafe.StringData(s), n))
			}
		case reflect.Pointer, reflect.Interface:
			if v.IsNil() {
				return
			}
			if v.Kind() == reflect.Pointer {
				if seen[v.Pointer()] {
					return
				}
				seen[v.Pointer()] = true
			}
			walk(v.Elem())
		case reflect.Struct:
			for i := range v.NumField() {
				f := v.Field(i)
				if f.CanAddr() {
					f = reflect.NewAt(f.Type(), unsafe.Pointer(f.UnsafeAddr())).Elem()
				}
				walk(f)
			}
		case reflect.Slice:
			if v.IsNil() {
				return
			}
			if v.Type().Elem().Kind() == reflect.Uint8 {
				out = append(out, unsafe.Slice((*byte)(v.UnsafePointer()), v.Cap()))
				return
			}
			for i := range v.Len() {
				walk(v.Index(i))
			}
		case reflect.Array:
			if v.Type().Elem().Kind() == reflect.Uint8 && v.CanAddr() {
				out = append(out, unsafe.Slice((*byte)(unsafe.Pointer(v.UnsafeAddr())), v.Len()))
				return
			}
			for i := range v.Len() {
				walk(v.Index(i))
			}
		case reflect.Map:
			for it := v.MapRange(); it.Next(); {
				walk(it.Key())
				walk(it.Value())
			}
		}
	}
	walk(v)
	return out
}

// holds reports whether any reachable byte slice contains needle.
func holds(mem [][]byte, needle []byte) bool {
	for _, b := range mem {
		if bytes.Contains(b, needle) {
			return true
		}
	}
	return false
}

// TestWipe: after Wipe, no copy of an inline key, as base64 or raw bytes,
// is left in anything the profile reaches, whichever path parsed it.
func TestWipe(t *testing.T) {
	raw := func(s string) []byte { b, _ := base64.StdEncoding.DecodeString(s); return b }
	escaped := `\u0064` + testPrivate[1:] // the same key, its first byte escaped
	doc := func(key string) string {
		return "[board]\nname = \"w\"\n[[tunnel]]\nname = \"wg0\"\nprivate_key = \"" + key + "\"\n" +
			"[[tunnel.peer]]\npublic_key = \"" + peerPublic + "\"\npreshared_key = '" + testPSK + "'\n"
	}
	tests := []struct {
		name string
		text string
		fast bool
	}{
		{"fast path", doc(testPrivate), true},
		{"fast path, escaped key", doc(escaped), true},
		{"toml package", doc(testPrivate), false},
		{"toml package, escaped key", doc(escaped), false},
		{"inline tables", "[board]\nname = 'w'\n[[tunnel]]\nname = 'wg0'\nprivate_key = \"" + testPrivate + "\"\n" +
			"peer = [{ public_key = \"" + peerPublic + "\", preshared_key = \"" + testPSK + "\" }]\n", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, ds := parse("w.toml", []byte(tt.text), tt.fast)
			if p == nil || ds.HasErrors() {
				t.Fatalf("parse: %v", ds)
			}
			if p.Tunnels[0].PrivateKey.Reveal() != testPrivate || p.Tunnels[0].Peers[0].PresharedKey.Reveal() != testPSK {
				t.Fatal("parse decoded the wrong keys")
			}
			if !tt.fast || strings.Contains(tt.text, "peer = [") {
				// The toml package's path reads keys from the text:
				// the redacted copy it was given has none.
				text, _ := redactSecrets(p.src.data)
				if strings.Contains(text, testPrivate[1:]) || strings.Contains(text, testPSK) {
					t.Errorf("the toml package was given a key:\n%s", text)
				}
			}
			if !holds(reachable(reflect.ValueOf(p)), []byte(testPSK)) {
				t.Fatal("before Wipe, the source does not hold the key: the walk misses it")
			}
			p.Wipe()
			mem := reachable(reflect.ValueOf(p))
			for _, secret := range [][]byte{[]byte(testPrivate[1:]), []byte(testPSK), raw(testPrivate), raw(testPSK)} {
				if holds(mem, secret) {
					t.Errorf("after Wipe, the profile still reaches a key")
				}
			}
			if !p.Tunnels[0].PrivateKey.IsZero() || !p.Tunnels[0].Peers[0].PresharedKey.IsZero() {
				t.Error("after Wipe, a key is not zero")
			}
			if p.Board.Name != "w" || p.Tunnels[0].Name != "wg0" {
				t.Errorf("Wipe changed the profile's strings: %q %q", p.Board.Name, p.Tunnels[0].Name)
			}
		})
	}
}

// TestWipe_keyFiles: keys read from files are wiped too, and the buffers
// they were read into are not reachable.
func TestWipe_keyFiles(t *testing.T) {
	p := keyProfile(t, "/etc/wgboot/wg0.key", "/etc/wgboot/wg0.psk")
	image := fstest.MapFS{
		"etc/wgboot/wg0.key": {Data: []byte(testPrivate + "\n"), Mode: 0o600},
		"etc/wgboot/wg0.psk": {Data: []byte(testPSK), Mode: 0o600},
	}
	ds := p.ReadKeys(KeySource{Root: image})
	if ds.HasErrors() {
		t.Fatal(ds)
	}
	p.Wipe()
	if !p.Tunnels[0].PrivateKey.IsZero() || !p.Tunnels[0].Peers[0].PresharedKey.IsZero() {
		t.Error("after Wipe, a key is not zero")
	}
	if mem := reachable(reflect.ValueOf(p)); holds(mem, []byte(testPrivate)) || holds(mem, []byte(testPSK)) {
		t.Error("after Wipe, the profile still reaches a key")
	}
}

// TestParse_failedParseWipes: a profile that fails to parse is not
// returned, so its text, which may hold keys, is zeroed at once.
func TestParse_failedParseWipes(t *testing.T) {
	buf := []byte("[board]\nname = 'w'\n[[tunnel]]\nprivate_key = \"" + testPrivate + "\"\n[broken\n")
	if p, ds := parseOwned("w.toml", buf, true); p != nil || !ds.HasErrors() {
		t.Fatalf("parseOwned = %v, %v; want a syntax error", p, ds)
	}
	if bytes.Contains(buf, []byte(testPrivate)) {
		t.Error("the text of a profile that failed to parse still holds its key")
	}
}

// FuzzRedactSecrets: the toml package reads the redacted text exactly as
// the original, but for the bodies of the keys, and each span is the whole
// body of a string at its path.
func FuzzRedactSecrets(f *testing.F) {
	for _, data := range profileFiles(f) {
		f.Add(string(data))
	}
	f.Add("[[tunnel]]\nprivate_key = 'abc'\npeer = [{preshared_key = \"" + testPSK + "\"}]\n")
	f.Add("a.private_key = \"" + testPSK + "\"\nb = { preshared_key = 'x=' }\n")
	f.Add("[[tunnel]]\nprivate_key = \"a\\u00e9\\tb\"\n")
	f.Fuzz(func(t *testing.T, data string) {
		text, spans := redactSecrets(data)
		if len(text) != len(data) {
			t.Fatalf("redacted text is %d bytes, not %d", len(text), len(data))
		}
		var orig, red any
		_, err1 := toml.Decode(data, &orig)
		_, err2 := toml.Decode(text, &red)
		if (err1 == nil) != (err2 == nil) || err1 != nil && err1.Error() != err2.Error() {
			t.Fatalf("toml.Decode: %v on the text, %v on the redacted text", err1, err2)
		}
		if err1 != nil {
			return
		}
		for path, sp := range spans {
			want := data[sp.start:sp.end]
			if sp.escaped {
				v, _ := unescape(want)
				want, _ = v.(string)
			}
			if got := lookup(orig, path); got != want {
				t.Fatalf("%s is %q, the span says %q", path, got, want)
			}
			if got := lookup(red, path); got != strings.Repeat("*", sp.end-sp.start) {
				t.Fatalf("%s is %q in the redacted text", path, got)
			}
		}
	})
}

// lookup returns the string at a rendered path such as
// tunnel[0].peer[1].preshared_key in a toml.Decode tree, or "".
func lookup(tree any, path string) string {
	for path != "" {
		var part string
		part, path, _ = strings.Cut(path, ".")
		name, idx, _ := strings.Cut(part, "[")
		m, _ := tree.(map[string]any)
		tree = m[strings.Trim(name, `"`)]
		for idx != "" {
			var n int
			for idx[0] >= '0' && idx[0] <= '9' {
				n = n*10 + int(idx[0]-'0')
				idx = idx[1:]
			}
			idx = strings.TrimPrefix(strings.TrimPrefix(idx, "]"), "[")
			switch a := tree.(type) {
			case []map[string]any:
				if n >= len(a) {
					return ""
				}
				tree = a[n]
			case []any:
				if n >= len(a) {
					return ""
				}
				tree = a[n]
			default:
				return ""
			}
		}
	}
	s, _ := tree.(string)
	return s
}
