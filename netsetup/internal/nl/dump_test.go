package nl

import (
	"strings"
	"testing"
)

func TestFprint(t *testing.T) {
	skipBigEndian(t)
	addr := func() []byte {
		var ae AttrEncoder
		ae.Bytes(2, []byte{192, 0, 2, 1})
		ae.Bytes(1, []byte{192, 0, 2, 1})
		b, _ := Payload([]byte{0x02, 0x18, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00}, &ae) // cannot fail
		return b
	}
	var nested AttrEncoder
	goldenAttrs[6].encode(&nested)
	nestedAttrs, _ := nested.Encode() // cannot fail
	tests := []struct {
		name string
		m    Message
		genl bool
		want string
	}{
		{
			name: "RTM_NEWADDR",
			m:    Message{Header: Header{Type: 20, Flags: 0x605, Seq: 1}, Data: addr()},
			want: "RTM_NEWADDR flags=REQUEST|ACK|EXCL|CREATE seq=1 pid=0 len=40 hdr=0218000002000000 attrs=[2:4 1:4]",
		},
		{
			name: "RTM_GETLINK dump",
			m:    Message{Header: Header{Type: 18, Flags: 0x301, Seq: 2}, Data: make([]byte, 16)},
			want: "RTM_GETLINK flags=REQUEST|DUMP seq=2 pid=0 len=32 hdr=00000000000000000000000000000000 attrs=[]",
		},
		{
			name: "RTM_NEWLINK with nested attributes",
			m:    Message{Header: Header{Type: 16, Flags: 0x2, Seq: 3, PID: 9}, Data: append(make([]byte, 16), nestedAttrs...)},
			want: "RTM_NEWLINK flags=MULTI seq=3 pid=9 len=56 hdr=00000000000000000000000000000000 attrs=[8:N[0:N[1:2] 2:1]]",
		},
		{
			name: "RTM_DELROUTE",
			m:    Message{Header: Header{Type: 25, Flags: 0x105, Seq: 4}, Data: make([]byte, 12)},
			want: "RTM_DELROUTE flags=REQUEST|ACK|NONREC seq=4 pid=0 len=28 hdr=000000000000000000000000 attrs=[]",
		},
		{
			name: "ack",
			m:    Message{Header: Header{Type: typeError, Flags: flagCapped, Seq: 1}, Data: make([]byte, 20)},
			want: "NLMSG_ERROR flags=CAPPED seq=1 pid=0 len=36 ack",
		},
		{
			name: "error with extended ACK",
			m:    Message{Header: Header{Type: typeError, Flags: flagCapped | flagAckTLVs, Seq: 1}, Data: cat(eexist, echoedRequest[:16], extAckTLVs)},
			want: `NLMSG_ERROR flags=CAPPED|ACK_TLVS seq=1 pid=0 len=92 error=-17 (file exists) msg="Address already assigned" offset=20 missing=3 missing-nest=16`,
		},
		{
			name: "done",
			m:    Message{Header: Header{Type: typeDone, Flags: flagMulti, Seq: 5}, Data: make([]byte, 4)},
			want: "NLMSG_DONE flags=MULTI seq=5 pid=0 len=20 error=0",
		},
		{
			name: "malformed error",
			m:    Message{Header: Header{Type: typeError}, Data: []byte{1}},
			want: "NLMSG_ERROR flags=0 seq=0 pid=0 len=17 !NLMSG_ERROR payload truncated: 1 bytes, need 20",
		},
		{
			name: "unknown type",
			m:    Message{Header: Header{Type: 0x99, Flags: 0x1001}, Data: []byte{1, 2}},
			want: "type=0x99 flags=REQUEST|0x1000 seq=0 pid=0 len=18 data=0102",
		},
		{
			name: "malformed attributes",
			m:    Message{Header: Header{Type: 20}, Data: []byte{0, 0, 0, 0, 0, 0, 0, 0, 9, 0, 1, 0}},
			want: "RTM_NEWADDR flags=0 seq=0 pid=0 len=28 hdr=0000000000000000 attrs=[] !attribute 1: length 9 exceeds remaining 4 bytes data=09000100",
		},
		{
			name: "genl dump",
			m:    Message{Header: Header{Type: 0x1b, Flags: 0x305}, Data: []byte{0, 1, 0, 0, 8, 0, 1, 0, 3, 0, 0, 0}},
			genl: true,
			want: "genl(0x1b) cmd=0 v1 flags=REQUEST|ACK|DUMP seq=0 pid=0 len=28 attrs=[1:4]",
		},
		{
			name: "nlctrl reply",
			m:    Message{Header: Header{Type: 0x10}, Data: []byte{1, 2, 0, 0}},
			genl: true,
			want: "nlctrl CTRL_CMD_NEWFAMILY v2 flags=0 seq=0 pid=0 len=20 attrs=[]",
		},
		{
			name: "genl bad header",
			m:    Message{Header: Header{Type: 0x1b}, Data: []byte{1, 2, 0, 1}},
			genl: true,
			want: "genl(0x1b) !bad-genl-header flags=0 seq=0 pid=0 len=20 attrs=[]",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var sb strings.Builder
			fprint := Fprint
			if tt.genl {
				fprint = FprintGeneric
			}
			if err := fprint(&sb, tt.m); err != nil {
				t.Fatal(err)
			}
			if got, want := sb.String(), tt.want+"\n"; got != want {
				t.Errorf("Fprint() =\n%q\nwant\n%q", got, want)
			}
		})
	}
}
