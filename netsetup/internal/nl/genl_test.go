package nl

import (
	"testing"
)

func TestGenlHeader(t *testing.T) {
	tests := []struct {
		name    string
		b       []byte
		want    GenlHeader
		wantErr bool
	}{
		{name: "get family", b: []byte{0x03, 0x01, 0x00, 0x00}, want: GenlHeader{Command: 3, Version: 1}},
		{name: "reserved non-zero", b: []byte{0x03, 0x01, 0x00, 0x01}, wantErr: true},
		{name: "short", b: []byte{0x03, 0x01, 0x00}, wantErr: true},
		{name: "long", b: []byte{0x03, 0x01, 0x00, 0x00, 0x00}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got GenlHeader
			err := got.UnmarshalBinary(tt.b)
			if (err != nil) != tt.wantErr {
				t.Fatalf("UnmarshalBinary(%x) error = %v, wantErr %v", tt.b, err, tt.wantErr)
			}
			if got != tt.want {
				t.Errorf("UnmarshalBinary(%x) = %+v, want %+v", tt.b, got, tt.want)
			}
			if tt.wantErr {
				return
			}
			b, _ := got.MarshalBinary() // never fails
			diffBytes(t, "MarshalBinary()", b, tt.b)
		})
	}
}

func TestGenlPayload(t *testing.T) {
	skipBigEndian(t)
	var ae AttrEncoder
	ae.String(ctrlAttrFamilyName, "wireguard")
	got, err := GenlPayload(GenlHeader{Command: ctrlCmdGetFamily, Version: 1}, &ae)
	if err != nil {
		t.Fatalf("GenlPayload() error = %v", err)
	}
	want := []byte{
		0x03, 0x01, 0x00, 0x00, // CTRL_CMD_GETFAMILY, version 1
		0x0e, 0x00, // length 14
		0x02, 0x00, // CTRL_ATTR_FAMILY_NAME
		'w', 'i', 'r', 'e', 'g', 'u', 'a', 'r', 'd', 0x00,
		0x00, 0x00, // padding
	}
	diffBytes(t, "GenlPayload()", got, want)

	h, ad, err := ParseGenl(got)
	if err != nil {
		t.Fatalf("ParseGenl() error = %v", err)
	}
	if h != (GenlHeader{Command: 3, Version: 1}) {
		t.Errorf("ParseGenl() header = %+v, want {3 1}", h)
	}
	var name string
	for ad.Next() {
		name = ad.String()
	}
	if err := ad.Err(); err != nil || name != "wireguard" {
		t.Errorf("ParseGenl() attribute = %q, %v, want %q, nil", name, err, "wireguard")
	}
}

func TestSplitPayload(t *testing.T) {
	tests := []struct {
		name      string
		data      []byte
		n         int
		wantFixed []byte
		wantAttrs []byte
		wantErr   bool
	}{
		{name: "aligned header", data: []byte{1, 2, 3, 4, 5, 6, 7, 8}, n: 4, wantFixed: []byte{1, 2, 3, 4}, wantAttrs: []byte{5, 6, 7, 8}},
		{name: "padded header", data: []byte{1, 2, 3, 0, 5, 6, 7, 8}, n: 3, wantFixed: []byte{1, 2, 3}, wantAttrs: []byte{5, 6, 7, 8}},
		{name: "header only, unpadded", data: []byte{1, 2, 3}, n: 3, wantFixed: []byte{1, 2, 3}, wantAttrs: []byte{}},
		{name: "too short", data: []byte{1, 2}, n: 3, wantErr: true},
		{name: "negative", data: []byte{1, 2}, n: -1, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fixed, attrs, err := SplitPayload(tt.data, tt.n)
			if (err != nil) != tt.wantErr {
				t.Fatalf("SplitPayload() error = %v, wantErr %v", err, tt.wantErr)
			}
			diffBytes(t, "fixed", fixed, tt.wantFixed)
			diffBytes(t, "attrs", attrs, tt.wantAttrs)
		})
	}
}

func TestPayload(t *testing.T) {
	got, err := Payload([]byte{1, 2, 3}, nil)
	if err != nil {
		t.Fatal(err)
	}
	diffBytes(t, "Payload(3 bytes, nil)", got, []byte{1, 2, 3, 0})

	var bad AttrEncoder
	bad.String(1, "\x00")
	if _, err := Payload(nil, &bad); err == nil {
		t.Error("Payload() with encoder error = nil error, want error")
	}
}
