package nl

import (
	"errors"
	"syscall"
	"testing"
)

// echoedRequest is an RTM_NEWADDR request of 24 bytes as the kernel echoes
// it in an uncapped NLMSG_ERROR.
var echoedRequest = []byte{
	0x18, 0x00, 0x00, 0x00, // length 24
	0x14, 0x00, // type RTM_NEWADDR
	0x05, 0x06, // flags
	0x01, 0x00, 0x00, 0x00, // seq
	0x00, 0x00, 0x00, 0x00, // pid
	0x02, 0x18, 0x00, 0x00, // ifaddrmsg
	0x02, 0x00, 0x00, 0x00,
}

// extAckTLVs carries NLMSGERR_ATTR_MSG "Address already assigned",
// NLMSGERR_ATTR_OFFS 20, NLMSGERR_ATTR_MISS_TYPE 3 and
// NLMSGERR_ATTR_MISS_NEST 16.
var extAckTLVs = []byte{
	0x1d, 0x00, 0x01, 0x00, // length 29, NLMSGERR_ATTR_MSG
	'A', 'd', 'd', 'r', 'e', 's', 's', ' ', 'a', 'l', 'r', 'e', 'a', 'd', 'y', ' ',
	'a', 's', 's', 'i', 'g', 'n', 'e', 'd', 0x00, 0x00, 0x00, 0x00,
	0x08, 0x00, 0x02, 0x00, 0x14, 0x00, 0x00, 0x00, // NLMSGERR_ATTR_OFFS 20
	0x08, 0x00, 0x05, 0x00, 0x03, 0x00, 0x00, 0x00, // NLMSGERR_ATTR_MISS_TYPE 3
	0x08, 0x00, 0x06, 0x00, 0x10, 0x00, 0x00, 0x00, // NLMSGERR_ATTR_MISS_NEST 16
}

var eexist = []byte{0xef, 0xff, 0xff, 0xff} // -17

func cat(bs ...[]byte) []byte {
	var out []byte
	for _, b := range bs {
		out = append(out, b...)
	}
	return out
}

func TestParseError(t *testing.T) {
	skipBigEndian(t)
	wantExt := extAck{message: "Address already assigned", offset: 20, missingType: 3, missingNest: 16}
	tests := []struct {
		name     string
		flags    uint16
		data     []byte
		wantCode int32
		wantExt  extAck
		wantErr  bool
	}{
		{
			name:  "ack",
			flags: flagCapped,
			data:  cat([]byte{0, 0, 0, 0}, echoedRequest[:16]),
		},
		{
			name:     "capped, no TLVs",
			flags:    flagCapped,
			data:     cat(eexist, echoedRequest[:16]),
			wantCode: -17,
		},
		{
			name:     "capped with ACK_TLVS",
			flags:    flagCapped | flagAckTLVs,
			data:     cat(eexist, echoedRequest[:16], extAckTLVs),
			wantCode: -17,
			wantExt:  wantExt,
		},
		{
			name:     "uncapped, echoed request, no TLVs",
			data:     cat(eexist, echoedRequest),
			wantCode: -17,
		},
		{
			name:     "uncapped, echoed request, ACK_TLVS",
			flags:    flagAckTLVs,
			data:     cat(eexist, echoedRequest, extAckTLVs),
			wantCode: -17,
			wantExt:  wantExt,
		},
		{
			name:     "uncapped, unaligned echoed request, ACK_TLVS",
			flags:    flagAckTLVs,
			data:     cat(eexist, []byte{0x11, 0, 0, 0}, echoedRequest[4:17], []byte{0, 0, 0}, extAckTLVs),
			wantCode: -17,
			wantExt:  wantExt,
		},
		{name: "truncated", flags: flagCapped, data: eexist, wantErr: true},
		{
			name:    "uncapped, echo longer than payload",
			flags:   flagAckTLVs,
			data:    cat(eexist, []byte{0xff, 0, 0, 0}, echoedRequest[4:]),
			wantErr: true,
		},
		{
			name:    "uncapped, echo shorter than a header",
			flags:   flagAckTLVs,
			data:    cat(eexist, []byte{0x08, 0, 0, 0}, echoedRequest[4:]),
			wantErr: true,
		},
		{
			name:    "malformed TLVs",
			flags:   flagCapped | flagAckTLVs,
			data:    cat(eexist, echoedRequest[:16], []byte{0x20, 0x00, 0x01, 0x00}),
			wantErr: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := Message{Header: Header{Type: typeError, Flags: tt.flags}, Data: tt.data}
			code, ext, err := parseError(m)
			if (err != nil) != tt.wantErr {
				t.Fatalf("parseError() error = %v, wantErr %v", err, tt.wantErr)
			}
			if code != tt.wantCode || ext != tt.wantExt {
				t.Errorf("parseError() = %d, %+v, want %d, %+v", code, ext, tt.wantCode, tt.wantExt)
			}
		})
	}
}

func TestParseDone(t *testing.T) {
	skipBigEndian(t)
	tests := []struct {
		name     string
		flags    uint16
		data     []byte
		wantCode int32
		wantExt  extAck
		wantErr  bool
	}{
		{name: "empty payload", flags: flagMulti},
		{name: "success", flags: flagMulti, data: []byte{0, 0, 0, 0}},
		{name: "error code", flags: flagMulti, data: []byte{0xb6, 0xff, 0xff, 0xff}, wantCode: -74},
		{
			name:     "error with TLVs and no nlmsghdr",
			flags:    flagMulti | flagAckTLVs,
			data:     cat([]byte{0xea, 0xff, 0xff, 0xff}, extAckTLVs[:32]),
			wantCode: -22,
			wantExt:  extAck{message: "Address already assigned"},
		},
		{name: "truncated code", flags: flagMulti, data: []byte{0, 0}, wantErr: true},
		{name: "malformed TLVs", flags: flagAckTLVs, data: []byte{0, 0, 0, 0, 0x09, 0, 1, 0}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := Message{Header: Header{Type: typeDone, Flags: tt.flags}, Data: tt.data}
			code, ext, err := parseDone(m)
			if (err != nil) != tt.wantErr {
				t.Fatalf("parseDone() error = %v, wantErr %v", err, tt.wantErr)
			}
			if code != tt.wantCode || ext != tt.wantExt {
				t.Errorf("parseDone() = %d, %+v, want %d, %+v", code, ext, tt.wantCode, tt.wantExt)
			}
		})
	}
}

func TestError(t *testing.T) {
	tests := []struct {
		name string
		err  *Error
		want string
	}{
		{
			name: "errno with extended ACK",
			err:  newKernelError("RTM_NEWADDR", 1, -17, extAck{message: "Address already assigned"}),
			want: "netlink: RTM_NEWADDR: file exists: Address already assigned",
		},
		{
			name: "errno only",
			err:  newKernelError("RTM_NEWLINK", 1, -19, extAck{}),
			want: "netlink: RTM_NEWLINK: no such device",
		},
		{
			name: "missing attribute",
			err:  newKernelError("WG_CMD_SET_DEVICE", 1, -22, extAck{message: "Missing attribute", missingType: 3}),
			want: "netlink: WG_CMD_SET_DEVICE: invalid argument: Missing attribute (missing attribute 3)",
		},
		{name: "nil cause", err: &Error{Op: "x"}, want: "netlink: x: unknown error"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.err.Error(); got != tt.want {
				t.Errorf("Error() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestError_Is(t *testing.T) {
	var err error = newKernelError("RTM_NEWADDR", 1, -17, extAck{})
	if !errors.Is(err, syscall.EEXIST) {
		t.Errorf("errors.Is(%v, EEXIST) = false, want true", err)
	}
	if errors.Is(err, syscall.ENOENT) {
		t.Errorf("errors.Is(%v, ENOENT) = true, want false", err)
	}
}
