package nl

import (
	"bytes"
	"reflect"
	"testing"
)

// fuzzSeedMessages returns datagrams built from the golden vectors.
func fuzzSeedMessages(f *testing.F) [][]byte {
	f.Helper()
	var seeds [][]byte
	add := func(msgs ...Message) {
		var b []byte
		for _, m := range msgs {
			var err error
			if b, err = m.AppendBinary(b); err != nil {
				f.Fatal(err)
			}
		}
		seeds = append(seeds, b)
	}
	for _, a := range goldenAttrs {
		add(Message{Header: Header{Type: 16, Flags: 2, Seq: 1}, Data: append(make([]byte, 16), a.b...)})
	}
	add(Message{Header: Header{Type: typeError, Flags: flagCapped | flagAckTLVs, Seq: 1}, Data: cat(eexist, echoedRequest[:16], extAckTLVs)})
	add(Message{Header: Header{Type: typeError, Flags: flagAckTLVs, Seq: 1}, Data: cat(eexist, echoedRequest, extAckTLVs)})
	add(
		Message{Header: Header{Type: 16, Flags: flagMulti, Seq: 1}, Data: make([]byte, 16)},
		Message{Header: Header{Type: typeDone, Flags: flagMulti | flagAckTLVs, Seq: 1}, Data: cat(eexist, extAckTLVs)},
	)
	add(Message{Header: Header{Type: genlIDCtrl, Seq: 1}, Data: []byte{1, 2, 0, 0, 6, 0, 1, 0, 0x1b, 0, 0, 0}})
	seeds = append(seeds, []byte{0x11, 0, 0, 0, 0x10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xaa})
	return seeds
}

func FuzzParseMessages(f *testing.F) {
	for _, b := range fuzzSeedMessages(f) {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		msgs, err := ParseMessages(b)
		if err != nil {
			return
		}
		// Every reply parser must cope with any message (nltest's
		// FuzzFprint covers the printer).
		for _, m := range msgs {
			_, _, _ = parseError(m)
			_, _, _ = parseDone(m)
			_, _, _ = ParseGenl(m.Data)
		}
		// Marshal(Parse(b)) is canonical: it parses to the same messages
		// and marshals to itself.
		var out []byte
		for _, m := range msgs {
			if out, err = m.AppendBinary(out); err != nil {
				t.Fatalf("AppendBinary() error = %v", err)
			}
		}
		again, err := ParseMessages(out)
		if err != nil {
			t.Fatalf("ParseMessages(Marshal(ParseMessages(b))) error = %v", err)
		}
		if !reflect.DeepEqual(again, msgs) {
			t.Fatalf("round trip = %+v, want %+v", again, msgs)
		}
		var out2 []byte
		for _, m := range again {
			out2, _ = m.AppendBinary(out2) // succeeded above
		}
		if !bytes.Equal(out2, out) {
			t.Fatalf("second marshal = %x, want %x", out2, out)
		}
	})
}

// walkAttrs decodes b with every getter, descending into anything that may
// be nested.
func walkAttrs(ad *AttrDecoder) error {
	for i := 0; ad.Next(); i++ {
		_ = ad.Type()
		_ = ad.IsNested()
		_ = ad.Len()
		_ = ad.Bytes()
		_ = ad.String()
		switch i % 7 {
		case 0:
			ad.Uint8()
		case 1:
			ad.Uint16()
		case 2:
			ad.Uint32()
		case 3:
			ad.Uint64()
		case 4:
			ad.Int32()
		default:
			ad.Nested(walkAttrs)
		}
	}
	return ad.Err()
}

func FuzzAttrDecoder(f *testing.F) {
	for _, a := range goldenAttrs {
		f.Add(a.b)
	}
	f.Add(extAckTLVs)
	f.Add([]byte{0x07, 0x00, 0x03, 0x00, 1, 2, 3})
	f.Fuzz(func(t *testing.T, b []byte) {
		_ = walkAttrs(NewAttrDecoder(b))

		// Attributes that decode re-encode to the same sequence.
		type attr struct {
			typ  uint16
			data []byte
		}
		var got []attr
		ad := NewAttrDecoder(b)
		for ad.Next() {
			typ := ad.Type()
			if ad.IsNested() {
				typ |= attrNested
			}
			got = append(got, attr{typ, ad.Bytes()})
		}
		if ad.Err() != nil {
			return
		}
		var ae AttrEncoder
		for _, a := range got {
			ae.Bytes(a.typ, a.data)
		}
		enc, err := ae.Encode()
		if err != nil {
			t.Fatalf("re-encode error = %v", err)
		}
		var again []attr
		ad = NewAttrDecoder(enc)
		for ad.Next() {
			typ := ad.Type()
			if ad.IsNested() {
				typ |= attrNested
			}
			again = append(again, attr{typ, ad.Bytes()})
		}
		if err := ad.Err(); err != nil || !reflect.DeepEqual(again, got) {
			t.Fatalf("re-decoded %+v, %v; want %+v", again, err, got)
		}
	})
}
