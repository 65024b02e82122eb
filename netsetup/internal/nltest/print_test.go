//go:build linux

package nltest

import (
	"encoding/binary"
	"io"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/wgboot/wgboot/netsetup/internal/nl"
)

// Fixtures from package nl's tests: an RTM_NEWADDR request as the kernel
// echoes it, and extended-ACK TLVs with NLMSGERR_ATTR_MSG "Address already
// assigned", _OFFS 20, _MISS_TYPE 3 and _MISS_NEST 16.
var (
	echoedRequest = []byte{
		0x18, 0x00, 0x00, 0x00, 0x14, 0x00, 0x05, 0x06, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
		0x02, 0x18, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00,
	}
	extAckTLVs = []byte{
		0x1d, 0x00, 0x01, 0x00,
		'A', 'd', 'd', 'r', 'e', 's', 's', ' ', 'a', 'l', 'r', 'e', 'a', 'd', 'y', ' ',
		'a', 's', 's', 'i', 'g', 'n', 'e', 'd', 0x00, 0x00, 0x00, 0x00,
		0x08, 0x00, 0x02, 0x00, 0x14, 0x00, 0x00, 0x00,
		0x08, 0x00, 0x05, 0x00, 0x03, 0x00, 0x00, 0x00,
		0x08, 0x00, 0x06, 0x00, 0x10, 0x00, 0x00, 0x00,
	}
	eexist = []byte{0xef, 0xff, 0xff, 0xff} // -17
)

func cat(bs ...[]byte) []byte {
	var out []byte
	for _, b := range bs {
		out = append(out, b...)
	}
	return out
}

func TestFprint(t *testing.T) {
	if binary.NativeEndian.Uint16([]byte{1, 0}) != 1 {
		t.Skip("skipping, byte tables are little-endian")
	}
	addr := func() []byte {
		var ae nl.AttrEncoder
		ae.Bytes(2, []byte{192, 0, 2, 1})
		ae.Bytes(1, []byte{192, 0, 2, 1})
		b, _ := nl.Payload([]byte{0x02, 0x18, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00}, &ae) // cannot fail
		return b
	}
	// A nest holding a nest and an attribute: 8:N[0:N[1:2] 2:1].
	var nested nl.AttrEncoder
	nested.Nested(8, func(ae *nl.AttrEncoder) error {
		ae.Nested(0, func(ae *nl.AttrEncoder) error {
			ae.Uint16(1, 7)
			return nil
		})
		ae.Uint8(2, 1)
		return nil
	})
	nestedAttrs, _ := nested.Encode() // cannot fail
	type Message = nl.Message
	type Header = nl.Header
	const (
		typeError   = unix.NLMSG_ERROR
		typeDone    = unix.NLMSG_DONE
		flagCapped  = unix.NLM_F_CAPPED
		flagAckTLVs = unix.NLM_F_ACK_TLVS
		flagMulti   = unix.NLM_F_MULTI
	)
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

// FuzzFprint: the printer copes with any message.
func FuzzFprint(f *testing.F) {
	f.Add(cat([]byte{0x24, 0, 0, 0, 2, 0, 0, 3, 1, 0, 0, 0, 0, 0, 0, 0}, eexist, echoedRequest[:16]))
	f.Fuzz(func(t *testing.T, b []byte) {
		msgs, err := nl.ParseMessages(b)
		if err != nil {
			return
		}
		for _, m := range msgs {
			_ = Fprint(io.Discard, m)
			_ = FprintGeneric(io.Discard, m)
		}
	})
}

// TestRtnlTypes pins the rtnetlink names and fixed header sizes Fprint
// uses, and the nlctrl command names.
func TestRtnlTypes(t *testing.T) {
	tests := []struct {
		typ    uint16
		name   string
		hdrLen int
	}{
		{unix.RTM_NEWLINK, "RTM_NEWLINK", unix.SizeofIfInfomsg},
		{unix.RTM_DELLINK, "RTM_DELLINK", unix.SizeofIfInfomsg},
		{unix.RTM_GETLINK, "RTM_GETLINK", unix.SizeofIfInfomsg},
		{unix.RTM_SETLINK, "RTM_SETLINK", unix.SizeofIfInfomsg},
		{unix.RTM_NEWADDR, "RTM_NEWADDR", unix.SizeofIfAddrmsg},
		{unix.RTM_DELADDR, "RTM_DELADDR", unix.SizeofIfAddrmsg},
		{unix.RTM_GETADDR, "RTM_GETADDR", unix.SizeofIfAddrmsg},
		{unix.RTM_NEWROUTE, "RTM_NEWROUTE", unix.SizeofRtMsg},
		{unix.RTM_DELROUTE, "RTM_DELROUTE", unix.SizeofRtMsg},
		{unix.RTM_GETROUTE, "RTM_GETROUTE", unix.SizeofRtMsg},
		{unix.RTM_NEWNEIGH, "RTM_NEWNEIGH", unix.SizeofNdMsg},
		{unix.RTM_DELNEIGH, "RTM_DELNEIGH", unix.SizeofNdMsg},
		{unix.RTM_GETNEIGH, "RTM_GETNEIGH", unix.SizeofNdMsg},
		{unix.RTM_NEWRULE, "RTM_NEWRULE", unix.SizeofRtMsg}, // struct fib_rule_hdr is 12 bytes too
		{unix.RTM_DELRULE, "RTM_DELRULE", unix.SizeofRtMsg},
		{unix.RTM_GETRULE, "RTM_GETRULE", unix.SizeofRtMsg},
		{unix.RTM_NEWNEXTHOP, "RTM_NEWNEXTHOP", unix.SizeofNhmsg},
		{unix.RTM_DELNEXTHOP, "RTM_DELNEXTHOP", unix.SizeofNhmsg},
		{unix.RTM_GETNEXTHOP, "RTM_GETNEXTHOP", unix.SizeofNhmsg},
	}
	for _, tt := range tests {
		name, hdrLen, ok := rtnlType(tt.typ)
		if !ok || name != tt.name || hdrLen != tt.hdrLen {
			t.Errorf("rtnlType(%d) = %q, %d, %v, want %q, %d, true", tt.typ, name, hdrLen, ok, tt.name, tt.hdrLen)
		}
	}
	for _, typ := range []uint16{unix.RTM_NEWADDR + 3, unix.RTM_NEWROUTE + 3, 36, 103} {
		if name, _, ok := rtnlType(typ); ok {
			t.Errorf("rtnlType(%d) = %q, want not ok", typ, name)
		}
	}
	if n := len(ctrlCommands) - 1; n != unix.CTRL_CMD_GETPOLICY {
		t.Errorf("last nlctrl command %d, want CTRL_CMD_GETPOLICY (%d)", n, unix.CTRL_CMD_GETPOLICY)
	}
}
