package nl

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

// goldenAttrs is shared by the encoder, decoder and fuzz tests.
var goldenAttrs = []struct {
	name   string
	encode func(ae *AttrEncoder)
	b      []byte
}{
	{
		name:   "uint8, padded",
		encode: func(ae *AttrEncoder) { ae.Uint8(1, 0xab) },
		b: []byte{
			0x05, 0x00, // length
			0x01, 0x00, // type
			0xab, 0x00, 0x00, 0x00, // value, padding
		},
	},
	{
		name:   "uint16, padded",
		encode: func(ae *AttrEncoder) { ae.Uint16(2, 0x1234) },
		b: []byte{
			0x06, 0x00,
			0x02, 0x00,
			0x34, 0x12, 0x00, 0x00,
		},
	},
	{
		name:   "uint32, unpadded",
		encode: func(ae *AttrEncoder) { ae.Uint32(3, 0xdeadbeef) },
		b: []byte{
			0x08, 0x00,
			0x03, 0x00,
			0xef, 0xbe, 0xad, 0xde,
		},
	},
	{
		name:   "uint64 and int32",
		encode: func(ae *AttrEncoder) { ae.Uint64(4, 1); ae.Int32(5, -2) },
		b: []byte{
			0x0c, 0x00,
			0x04, 0x00,
			0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
			0x08, 0x00,
			0x05, 0x00,
			0xfe, 0xff, 0xff, 0xff,
		},
	},
	{
		name:   "string, NUL-terminated and padded",
		encode: func(ae *AttrEncoder) { ae.String(3, "eth0") },
		b: []byte{
			0x09, 0x00,
			0x03, 0x00,
			'e', 't', 'h', '0',
			0x00, 0x00, 0x00, 0x00, // NUL, padding
		},
	},
	{
		name:   "flag and bytes",
		encode: func(ae *AttrEncoder) { ae.Flag(6); ae.Bytes(7, []byte{1, 2, 3, 4}) },
		b: []byte{
			0x04, 0x00,
			0x06, 0x00,
			0x08, 0x00,
			0x07, 0x00,
			0x01, 0x02, 0x03, 0x04,
		},
	},
	{
		name: "nested twice, NLA_F_NESTED set",
		encode: func(ae *AttrEncoder) {
			ae.Nested(8, func(ae *AttrEncoder) error {
				ae.Nested(0, func(ae *AttrEncoder) error {
					ae.Uint16(1, 2)
					return nil
				})
				ae.Uint8(2, 1)
				return nil
			})
		},
		b: []byte{
			0x18, 0x00, // length 24
			0x08, 0x80, // type 8 | NLA_F_NESTED
			0x0c, 0x00, // length 12
			0x00, 0x80, // type 0 | NLA_F_NESTED
			0x06, 0x00,
			0x01, 0x00,
			0x02, 0x00, 0x00, 0x00,
			0x05, 0x00,
			0x02, 0x00,
			0x01, 0x00, 0x00, 0x00,
		},
	},
}

func TestAttrEncoder(t *testing.T) {
	skipBigEndian(t)
	for _, tt := range goldenAttrs {
		t.Run(tt.name, func(t *testing.T) {
			var ae AttrEncoder
			tt.encode(&ae)
			got, err := ae.Encode()
			if err != nil {
				t.Fatalf("Encode() error = %v", err)
			}
			diffBytes(t, "Encode()", got, tt.b)
			if got, want := ae.Len(), len(tt.b); got != want {
				t.Errorf("Len() = %d, want %d", got, want)
			}
		})
	}
}

func TestAttrEncoder_errors(t *testing.T) {
	errFn := errors.New("encoding failed")
	tests := []struct {
		name    string
		encode  func(ae *AttrEncoder)
		wantErr error
	}{
		{
			name: "nest longer than 65535 bytes",
			encode: func(ae *AttrEncoder) {
				ae.Nested(1, func(ae *AttrEncoder) error {
					for range 20 {
						ae.Bytes(2, make([]byte, 4000))
					}
					return nil
				})
			},
		},
		{name: "attribute longer than 65535 bytes", encode: func(ae *AttrEncoder) { ae.Bytes(1, make([]byte, 65532)) }},
		{name: "string with NUL", encode: func(ae *AttrEncoder) { ae.String(1, "a\x00b") }},
		{name: "type with NLA_F_NET_BYTEORDER", encode: func(ae *AttrEncoder) { ae.Uint8(1<<14|1, 0) }},
		{
			name: "nested function error",
			encode: func(ae *AttrEncoder) {
				ae.Nested(1, func(*AttrEncoder) error { return errFn })
			},
			wantErr: errFn,
		},
		{
			name: "error is sticky",
			encode: func(ae *AttrEncoder) {
				ae.Nested(1, func(*AttrEncoder) error { return errFn })
				ae.Uint8(2, 0)
			},
			wantErr: errFn,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var ae AttrEncoder
			tt.encode(&ae)
			b, err := ae.Encode()
			if err == nil {
				t.Fatalf("Encode() = %x, want error", b)
			}
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Errorf("Encode() error = %v, want %v", err, tt.wantErr)
			}
		})
	}
}

func TestAttrEncoder_maxNest(t *testing.T) {
	// A nest's length counts its children's padding, so the largest nest
	// is 65532 bytes.
	tests := []struct {
		name    string
		payload int
		wantErr bool
	}{
		{name: "nest of 65532 bytes", payload: 65532 - 8},
		{name: "nest of 65536 bytes after padding", payload: 65532 - 8 + 1, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var ae AttrEncoder
			ae.Nested(1, func(ae *AttrEncoder) error {
				ae.Bytes(2, make([]byte, tt.payload))
				return nil
			})
			if _, err := ae.Encode(); (err != nil) != tt.wantErr {
				t.Errorf("Encode() error = %v, wantErr %v", err, tt.wantErr)
			}
		})
	}
}

func TestAttrDecoder(t *testing.T) {
	skipBigEndian(t)
	type attr struct {
		typ    uint16
		nested bool
		value  any
	}
	tests := []struct {
		name string
		b    []byte
		want []attr
	}{
		{name: "uint8", b: goldenAttrs[0].b, want: []attr{{1, false, uint8(0xab)}}},
		{name: "uint16", b: goldenAttrs[1].b, want: []attr{{2, false, uint16(0x1234)}}},
		{name: "uint32", b: goldenAttrs[2].b, want: []attr{{3, false, uint32(0xdeadbeef)}}},
		{name: "uint64 and int32", b: goldenAttrs[3].b, want: []attr{{4, false, uint64(1)}, {5, false, int32(-2)}}},
		{name: "string", b: goldenAttrs[4].b, want: []attr{{3, false, "eth0"}}},
		{name: "flag and bytes", b: goldenAttrs[5].b, want: []attr{{6, false, ""}, {7, false, "\x01\x02\x03\x04"}}},
		{name: "last attribute unpadded", b: goldenAttrs[0].b[:5], want: []attr{{1, false, uint8(0xab)}}},
		{name: "string without NUL", b: []byte{0x06, 0x00, 0x03, 0x00, 'l', 'o'}, want: []attr{{3, false, "lo"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ad := NewAttrDecoder(tt.b)
			var got []attr
			for ad.Next() {
				a := attr{typ: ad.Type(), nested: ad.IsNested()}
				i := len(got)
				if i >= len(tt.want) {
					t.Fatalf("more than %d attributes", len(tt.want))
				}
				switch tt.want[i].value.(type) {
				case uint8:
					a.value = ad.Uint8()
				case uint16:
					a.value = ad.Uint16()
				case uint32:
					a.value = ad.Uint32()
				case uint64:
					a.value = ad.Uint64()
				case int32:
					a.value = ad.Int32()
				case string:
					if ad.Len() == 4 && ad.Type() == 7 {
						a.value = string(ad.Bytes())
					} else {
						a.value = ad.String()
					}
				}
				got = append(got, a)
			}
			if err := ad.Err(); err != nil {
				t.Fatalf("Err() = %v", err)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("decoded %d attributes, want %d", len(got), len(tt.want))
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Errorf("attribute %d = %+v, want %+v", i, got[i], tt.want[i])
				}
			}
		})
	}
}

func TestAttrDecoder_nested(t *testing.T) {
	skipBigEndian(t)
	ad := NewAttrDecoder(goldenAttrs[6].b)
	var inner uint16
	var flag uint8
	for ad.Next() {
		if got, want := ad.Type(), uint16(8); got != want {
			t.Errorf("Type() = %d, want %d", got, want)
		}
		if !ad.IsNested() {
			t.Error("IsNested() = false, want true")
		}
		ad.Nested(func(ad *AttrDecoder) error {
			for ad.Next() {
				switch ad.Type() {
				case 0:
					ad.Nested(func(ad *AttrDecoder) error {
						for ad.Next() {
							inner = ad.Uint16()
						}
						return nil
					})
				case 2:
					flag = ad.Uint8()
				}
			}
			return nil
		})
	}
	if err := ad.Err(); err != nil {
		t.Fatalf("Err() = %v", err)
	}
	if inner != 2 || flag != 1 {
		t.Errorf("decoded inner=%d flag=%d, want 2, 1", inner, flag)
	}
}

func TestAttrDecoder_errors(t *testing.T) {
	skipBigEndian(t)
	errFn := errors.New("decoding failed")
	tests := []struct {
		name    string
		b       []byte
		get     func(ad *AttrDecoder)
		wantMsg string
		wantErr error
	}{
		{name: "truncated header", b: []byte{0x08, 0x00, 0x01}},
		{name: "length shorter than header", b: []byte{0x03, 0x00, 0x01, 0x00}},
		{name: "length beyond buffer", b: []byte{0x09, 0x00, 0x01, 0x00, 1, 2, 3, 4}},
		{name: "trailing garbage after padding", b: []byte{0x05, 0x00, 0x01, 0x00, 1, 0, 0, 0, 0xff}},
		{
			name:    "uint16 of length 3",
			b:       []byte{0x07, 0x00, 0x03, 0x00, 1, 2, 3, 0},
			get:     func(ad *AttrDecoder) { ad.Uint16() },
			wantMsg: "attribute 3 is not a uint16; length: 3",
		},
		{name: "uint8 of length 2", b: goldenAttrs[1].b, get: func(ad *AttrDecoder) { ad.Uint8() }},
		{name: "uint32 of length 2", b: goldenAttrs[1].b, get: func(ad *AttrDecoder) { ad.Uint32() }},
		{name: "uint64 of length 4", b: goldenAttrs[2].b, get: func(ad *AttrDecoder) { ad.Uint64() }},
		{name: "int32 of length 1", b: goldenAttrs[0].b, get: func(ad *AttrDecoder) { ad.Int32() }},
		{
			name: "malformed nest",
			b:    []byte{0x08, 0x00, 0x01, 0x80, 0x09, 0x00, 0x01, 0x00},
			get: func(ad *AttrDecoder) {
				ad.Nested(func(ad *AttrDecoder) error {
					for ad.Next() {
					}
					return nil
				})
			},
		},
		{
			name:    "nested function error",
			b:       goldenAttrs[6].b,
			get:     func(ad *AttrDecoder) { ad.Nested(func(*AttrDecoder) error { return errFn }) },
			wantErr: errFn,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ad := NewAttrDecoder(tt.b)
			n := 0
			for ad.Next() {
				n++
				if tt.get != nil {
					tt.get(ad)
				}
			}
			err := ad.Err()
			if err == nil {
				t.Fatalf("Err() = nil after %d attributes, want error", n)
			}
			if tt.wantMsg != "" && !strings.Contains(err.Error(), tt.wantMsg) {
				t.Errorf("Err() = %q, want it to contain %q", err, tt.wantMsg)
			}
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Errorf("Err() = %v, want %v", err, tt.wantErr)
			}
			if ad.Next() {
				t.Error("Next() after an error = true, want false")
			}
		})
	}
}

// TestAttrEncoder_GrowWipe: after Grow, appending within the room keeps the
// array; Wipe zeroes all of it and keeps it for reuse.
func TestAttrEncoder_GrowWipe(t *testing.T) {
	var ae AttrEncoder
	ae.Grow(100)
	ae.Uint32(1, 7)
	before := &ae.b[:1][0]
	ae.Bytes(2, bytes.Repeat([]byte{0xaa}, 80))
	if &ae.b[:1][0] != before {
		t.Fatal("appending within the grown room moved the array")
	}
	full := ae.b[:cap(ae.b)]
	ae.Wipe()
	if ae.Len() != 0 || cap(ae.b) != cap(full) {
		t.Errorf("after Wipe: length %d, capacity %d; want 0, %d", ae.Len(), cap(ae.b), cap(full))
	}
	for i, c := range full {
		if c != 0 {
			t.Fatalf("byte %d is %#x after Wipe", i, c)
		}
	}
}

// TestAttrDecoderIsZero tells an unset key (all zero) from a set one,
// reading the payload in place.
func TestAttrDecoderIsZero(t *testing.T) {
	var ae AttrEncoder
	ae.Bytes(1, make([]byte, 32))
	set := make([]byte, 32)
	set[31] = 1
	ae.Bytes(2, set)
	ae.Bytes(3, nil)
	b, err := ae.Encode()
	if err != nil {
		t.Fatal(err)
	}
	ad := NewAttrDecoder(b)
	var got []bool
	for ad.Next() {
		got = append(got, ad.IsZero())
	}
	if len(got) != 3 || !got[0] || got[1] || !got[2] {
		t.Errorf("IsZero() = %v, want [true false true]", got)
	}
}

// TestAttrEncoder_BeginEnd: a nest written in place is the bytes Nested
// writes, at every depth; a nest too long is an error, as in Nested; and
// Truncate zeroes what it drops.
func TestAttrEncoder_BeginEnd(t *testing.T) {
	var want, got AttrEncoder
	want.Uint32(1, 7)
	want.Nested(2, func(ae *AttrEncoder) error {
		ae.Bytes(3, []byte{1, 2, 3})
		ae.Nested(4, func(ae *AttrEncoder) error {
			ae.Uint16(5, 9)
			return nil
		})
		ae.Nested(6, func(*AttrEncoder) error { return nil })
		return nil
	})
	got.Uint32(1, 7)
	outer := got.Begin(2)
	got.Bytes(3, []byte{1, 2, 3})
	inner := got.Begin(4)
	got.Uint16(5, 9)
	got.End(inner)
	got.End(got.Begin(6))
	got.End(outer)
	w, _ := want.Encode()
	g, err := got.Encode()
	if err != nil {
		t.Fatal(err)
	}
	diffBytes(t, "Begin/End", g, w)

	for _, tt := range []struct {
		payload int
		wantErr bool
	}{{65532 - 8, false}, {65532 - 8 + 1, true}} {
		var ae AttrEncoder
		start := ae.Begin(1)
		ae.Bytes(2, make([]byte, tt.payload))
		ae.End(start)
		if _, err := ae.Encode(); (err != nil) != tt.wantErr {
			t.Errorf("payload %d: Encode() error = %v, wantErr %v", tt.payload, err, tt.wantErr)
		}
	}

	var ae AttrEncoder
	ae.Uint32(1, 7)
	n := ae.Len()
	ae.Begin(2)
	ae.Bytes(3, []byte{0xff, 0xff, 0xff, 0xff})
	b := ae.b[:cap(ae.b)]
	ae.Truncate(n)
	if ae.Len() != n || !bytes.Equal(b[n:n+12], make([]byte, 12)) {
		t.Errorf("Truncate(%d): length %d, dropped bytes % x", n, ae.Len(), b[n:n+12])
	}
}
