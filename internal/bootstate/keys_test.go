package bootstate

import (
	"encoding/json"
	"errors"
	"reflect"
	"testing"
)

// TestDecodeKeys reads the keys back from what Encode writes, for every
// state of the Encode tests, as encoding/json reads them.
func TestDecodeKeys(t *testing.T) {
	for name, s := range cases() {
		t.Run(name, func(t *testing.T) {
			data := Encode(s)
			got, err := DecodeKeys(data)
			if err != nil {
				t.Fatalf("DecodeKeys() = %v\n%s", err, data)
			}
			var want State
			if err := json.Unmarshal(data, &want); err != nil {
				t.Fatal(err)
			}
			if len(want.Keys) == 0 && len(got) == 0 {
				return
			}
			if !reflect.DeepEqual(got, want.Keys) {
				t.Errorf("DecodeKeys() = %+v, want %+v", got, want.Keys)
			}
		})
	}
}

func TestDecodeKeysJSON(t *testing.T) {
	for _, c := range []struct {
		in   string
		want []Key
	}{
		{`{}`, nil},
		{` {"keys": []} `, []Key{}},
		{`{"x": [1, -2.5e+3, true, null, {"a": "\u00e9\ud83d\ude00\ud800"}], "keys": [{"tunnel": "wg0", "extra": {"y": [[]]}, "public_key": "P\/Q", "generated": true, "file": "/persist/wg0.key"}]}`,
			[]Key{{Tunnel: "wg0", File: "/persist/wg0.key", PublicKey: "P/Q", Generated: true}}},
	} {
		got, err := DecodeKeys([]byte(c.in))
		if err != nil || !reflect.DeepEqual(got, c.want) {
			t.Errorf("DecodeKeys(%s) = %+v, %v; want %+v", c.in, got, err, c.want)
		}
	}
	for _, in := range []string{``, `{`, `[]`, `{"keys": [}`, `{"keys": [{"tunnel": 1}]}`, `{"a": 01}`, `{"a": "x` + "\x01" + `"}`,
		`{"a": tru}`, `{} {}`, `{"a": "\q"}`, `{"a" 1}`, `{"a": [1 2]}`, `{"a": ` + deep(100) + `}`} {
		if got, err := DecodeKeys([]byte(in)); !errors.Is(err, errSyntax) {
			t.Errorf("DecodeKeys(%q) = %+v, %v; want a syntax error", in, got, err)
		}
	}
}

func deep(n int) string {
	s := ""
	for range n {
		s += "["
	}
	for range n {
		s += "]"
	}
	return s
}

// FuzzDecodeKeys: nothing makes DecodeKeys panic, and for every state
// that encoding/json reads from the input, DecodeKeys reads the same keys
// from what Encode writes of it. (encoding/json also matches member names
// without regard to case, which a state file never needs.)
func FuzzDecodeKeys(f *testing.F) {
	for _, s := range cases() {
		f.Add(Encode(s))
	}
	f.Add([]byte(`{"keys": [{"tunnel": "a\u00e9"}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		DecodeKeys(data)
		var st State
		if json.Unmarshal(data, &st) != nil {
			return
		}
		var want State
		if err := json.Unmarshal(Encode(&st), &want); err != nil {
			t.Fatalf("Encode wrote what encoding/json refuses: %v", err)
		}
		got, err := DecodeKeys(Encode(&st))
		if err != nil {
			t.Fatalf("DecodeKeys(Encode()) = %v", err)
		}
		if (len(want.Keys) > 0 || len(got) > 0) && !reflect.DeepEqual(got, want.Keys) {
			t.Errorf("DecodeKeys(Encode()) = %+v, encoding/json %+v", got, want.Keys)
		}
	})
}
