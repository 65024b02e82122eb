package nl

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"syscall"
)

// ErrDumpInterrupted is wrapped by the error Execute returns when a part of
// a dump had NLM_F_DUMP_INTR set: the object list changed while the kernel
// walked it, so the result may be inconsistent. ExecuteDump retries.
var ErrDumpInterrupted = errors.New("dump interrupted")

// Error is the error returned by Conn and Subscription methods: a kernel
// error (NLMSG_ERROR or an error in NLMSG_DONE) with its extended
// acknowledgement, or a local failure while running the request.
type Error struct {
	// Op is the operation, such as "RTM_NEWADDR".
	Op string
	// Err is the cause: a unix.Errno for kernel and socket errors,
	// ErrDumpInterrupted, or an error wrapping os.ErrDeadlineExceeded on
	// timeout.
	Err error
	// Message is the kernel's extended-ACK text (NLMSGERR_ATTR_MSG), if any.
	Message string
	// Offset is the byte offset, from the start of the request's header, of
	// the attribute the kernel rejected (NLMSGERR_ATTR_OFFS); 0 if none.
	Offset int
	// MissingType is the type of a missing required attribute
	// (NLMSGERR_ATTR_MISS_TYPE); 0 if none.
	MissingType uint32
	// MissingNest is the offset of the nest that lacks MissingType
	// (NLMSGERR_ATTR_MISS_NEST); 0 if none or top level.
	MissingNest int
	// Seq is the sequence number of the request.
	Seq uint32
}

// Error returns the error as "netlink: OP: ERR[: MESSAGE]".
func (e *Error) Error() string {
	s := "netlink: " + e.Op + ": "
	if e.Err != nil {
		s += e.Err.Error()
	} else {
		s += "unknown error"
	}
	if e.Message != "" {
		s += ": " + e.Message
	}
	if e.MissingType != 0 {
		s += fmt.Sprintf(" (missing attribute %d)", e.MissingType)
	}
	return s
}

// Unwrap returns the cause, so errors.Is(err, unix.EEXIST) works.
func (e *Error) Unwrap() error {
	return e.Err
}

// Timeout reports whether the error is a receive timeout.
func (e *Error) Timeout() bool {
	return errors.Is(e.Err, os.ErrDeadlineExceeded)
}

// extAck is the decoded extended acknowledgement of an NLMSG_ERROR or
// NLMSG_DONE.
type extAck struct {
	message     string
	offset      int
	missingType uint32
	missingNest int
}

// parseError decodes the payload of an NLMSG_ERROR message: the error code
// (0 for an ACK, else a negative errno) and any extended-ACK TLVs.
//
//	struct nlmsgerr {
//		int		error;
//		struct nlmsghdr	msg;
//		/*
//		 * followed by the message contents unless NETLINK_CAP_ACK was set
//		 * or the ACK indicates success (error == 0)
//		 * message length is aligned with NLMSG_ALIGN()
//		 */
//		/*
//		 * followed by TLVs defined in enum nlmsgerr_attrs
//		 * if NETLINK_EXT_ACK was set
//		 */
//	};
func parseError(m Message) (int32, extAck, error) {
	const minLen = 4 + HeaderLen
	if len(m.Data) < minLen {
		return 0, extAck{}, fmt.Errorf("NLMSG_ERROR payload truncated: %d bytes, need %d", len(m.Data), minLen)
	}
	code := int32(binary.NativeEndian.Uint32(m.Data[0:4]))
	if m.Flags&flagAckTLVs == 0 {
		return code, extAck{}, nil
	}
	// The request is echoed in full unless NLM_F_CAPPED; an ACK (code 0)
	// never echoes the payload, and kernels before 4.12 (no NLM_F_CAPPED)
	// cannot set NLM_F_ACK_TLVS either.
	off := minLen
	if m.Flags&flagCapped == 0 && code != 0 {
		echoed := binary.NativeEndian.Uint32(m.Data[4:8])
		if echoed < HeaderLen || uint64(echoed) > uint64(len(m.Data)-4) {
			return 0, extAck{}, fmt.Errorf("NLMSG_ERROR echoes a request of bad length %d", echoed)
		}
		off = 4 + align(int(echoed))
	}
	ext, err := parseExtAck(m.Data[min(off, len(m.Data)):])
	if err != nil {
		return 0, extAck{}, fmt.Errorf("NLMSG_ERROR: %w", err)
	}
	return code, ext, nil
}

// parseDone decodes the payload of an NLMSG_DONE message: an int error code,
// then extended-ACK TLVs directly, with no echoed header.
func parseDone(m Message) (int32, extAck, error) {
	if len(m.Data) == 0 {
		// Some genl families historically sent an empty NLMSG_DONE.
		return 0, extAck{}, nil
	}
	if len(m.Data) < 4 {
		return 0, extAck{}, fmt.Errorf("NLMSG_DONE payload truncated: %d bytes", len(m.Data))
	}
	code := int32(binary.NativeEndian.Uint32(m.Data[0:4]))
	if m.Flags&flagAckTLVs == 0 {
		return code, extAck{}, nil
	}
	ext, err := parseExtAck(m.Data[4:])
	if err != nil {
		return 0, extAck{}, fmt.Errorf("NLMSG_DONE: %w", err)
	}
	return code, ext, nil
}

// parseExtAck decodes enum nlmsgerr_attrs TLVs; unknown ones are skipped.
func parseExtAck(b []byte) (extAck, error) {
	var ext extAck
	ad := NewAttrDecoder(b)
	for ad.Next() {
		switch ad.Type() {
		case errAttrMsg:
			ext.message = ad.String()
		case errAttrOffs:
			ext.offset = int(ad.Uint32())
		case errAttrMissType:
			ext.missingType = ad.Uint32()
		case errAttrMissNest:
			ext.missingNest = int(ad.Uint32())
		}
	}
	if err := ad.Err(); err != nil {
		return extAck{}, fmt.Errorf("extended ACK: %w", err)
	}
	return ext, nil
}

// errnoFromCode turns a kernel error code into an errno. The kernel sends
// negative errnos; accept positive ones too rather than lose the value.
func errnoFromCode(code int32) syscall.Errno {
	if code < 0 {
		return syscall.Errno(-int64(code))
	}
	return syscall.Errno(code)
}

// newKernelError builds the *Error for a non-zero kernel error code.
func newKernelError(op string, seq uint32, code int32, ext extAck) *Error {
	return &Error{
		Op:          op,
		Err:         errnoFromCode(code),
		Message:     ext.message,
		Offset:      ext.offset,
		MissingType: ext.missingType,
		MissingNest: ext.missingNest,
		Seq:         seq,
	}
}
