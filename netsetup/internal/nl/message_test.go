package nl

import (
	"reflect"
	"testing"
)

func TestMessage_MarshalBinary(t *testing.T) {
	skipBigEndian(t)
	tests := []struct {
		name string
		m    Message
		b    []byte
	}{
		{
			name: "header only, length calculated",
			m:    Message{Header: Header{Length: 999, Type: 0x12, Flags: 0x301, Seq: 1, PID: 0}},
			b: []byte{
				0x10, 0x00, 0x00, 0x00, // length
				0x12, 0x00, // type RTM_GETLINK
				0x01, 0x03, // flags REQUEST|DUMP
				0x01, 0x00, 0x00, 0x00, // seq
				0x00, 0x00, 0x00, 0x00, // pid
			},
		},
		{
			name: "payload padded",
			m:    Message{Header: Header{Type: 0x10, Flags: 0x5, Seq: 2, PID: 7}, Data: []byte{0xaa, 0xbb, 0xcc, 0xdd, 0xee}},
			b: []byte{
				0x15, 0x00, 0x00, 0x00, // length 21
				0x10, 0x00, // type
				0x05, 0x00, // flags
				0x02, 0x00, 0x00, 0x00, // seq
				0x07, 0x00, 0x00, 0x00, // pid
				0xaa, 0xbb, 0xcc, 0xdd,
				0xee, 0x00, 0x00, 0x00, // padding
			},
		},
		{
			name: "payload aligned",
			m:    Message{Header: Header{Type: 0x14, Flags: 0x605, Seq: 1}, Data: []byte{0x02, 0x18, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00}},
			b: []byte{
				0x18, 0x00, 0x00, 0x00, // length 24
				0x14, 0x00, // type RTM_NEWADDR
				0x05, 0x06, // flags REQUEST|ACK|EXCL|CREATE
				0x01, 0x00, 0x00, 0x00, // seq
				0x00, 0x00, 0x00, 0x00, // pid
				0x02, 0x18, 0x00, 0x00, // ifaddrmsg
				0x02, 0x00, 0x00, 0x00,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.m.MarshalBinary()
			if err != nil {
				t.Fatalf("MarshalBinary() error = %v", err)
			}
			diffBytes(t, "MarshalBinary()", got, tt.b)
		})
	}
}

func TestParseMessages(t *testing.T) {
	skipBigEndian(t)
	hdr := func(length byte, typ byte) []byte {
		return []byte{length, 0, 0, 0, typ, 0, 2, 0, 9, 0, 0, 0, 0, 0, 0, 0}
	}
	cat := func(bs ...[]byte) []byte {
		var out []byte
		for _, b := range bs {
			out = append(out, b...)
		}
		return out
	}
	tests := []struct {
		name    string
		b       []byte
		want    []Message
		wantErr bool
	}{
		{name: "empty", b: nil, want: nil},
		{
			name: "two messages, first padded",
			b:    cat(hdr(17, 0x10), []byte{0xaa, 0, 0, 0}, hdr(16, 0x03)),
			want: []Message{
				{Header: Header{Length: 17, Type: 0x10, Flags: 2, Seq: 9}, Data: []byte{0xaa}},
				{Header: Header{Length: 16, Type: 0x03, Flags: 2, Seq: 9}, Data: []byte{}},
			},
		},
		{
			name: "last message unpadded",
			b:    cat(hdr(18, 0x10), []byte{0xaa, 0xbb}),
			want: []Message{{Header: Header{Length: 18, Type: 0x10, Flags: 2, Seq: 9}, Data: []byte{0xaa, 0xbb}}},
		},
		{name: "short header", b: hdr(16, 0x10)[:15], wantErr: true},
		{name: "length shorter than header", b: hdr(15, 0x10), wantErr: true},
		{name: "length beyond buffer", b: hdr(20, 0x10), wantErr: true},
		{name: "trailing bytes", b: cat(hdr(16, 0x10), []byte{1, 2, 3, 4}), wantErr: true},
		{name: "second message truncated", b: cat(hdr(16, 0x10), hdr(32, 0x10)), wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseMessages(tt.b)
			if (err != nil) != tt.wantErr {
				t.Fatalf("ParseMessages() error = %v, wantErr %v", err, tt.wantErr)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("ParseMessages() = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestParseMessages_copiesData(t *testing.T) {
	b, err := Message{Header: Header{Type: 0x10}, Data: []byte{1, 2, 3, 4}}.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	msgs, err := ParseMessages(b)
	if err != nil {
		t.Fatal(err)
	}
	clear(b)
	if got, want := msgs[0].Data, []byte{1, 2, 3, 4}; !reflect.DeepEqual(got, want) {
		t.Errorf("Data after reusing the buffer = %v, want %v", got, want)
	}
}

func TestMessage_UnmarshalBinary(t *testing.T) {
	want := Message{Header: Header{Length: 21, Type: 0x10, Flags: 1, Seq: 3, PID: 4}, Data: []byte{1, 2, 3, 4, 5}}
	b, err := want.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	var got Message
	if err := got.UnmarshalBinary(b); err != nil {
		t.Fatalf("UnmarshalBinary() error = %v", err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("UnmarshalBinary() = %+v, want %+v", got, want)
	}
	if err := got.UnmarshalBinary(append(b, b...)); err == nil {
		t.Error("UnmarshalBinary(two messages) error = nil, want error")
	}
}
