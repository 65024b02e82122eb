package nl

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"slices"
)

// Header is a netlink message header.
//
// NB: the field order and widths mirror struct nlmsghdr and must not change:
//
//	struct nlmsghdr {
//		__u32		nlmsg_len;	/* Length of message including header */
//		__u16		nlmsg_type;	/* Message content */
//		__u16		nlmsg_flags;	/* Additional flags */
//		__u32		nlmsg_seq;	/* Sequence number */
//		__u32		nlmsg_pid;	/* Sending process port ID */
//	};
type Header struct {
	// Length is the length of the message including the header. It is
	// computed by MarshalBinary and set by the parsers.
	Length uint32
	// Type is the message type: NLMSG_* control types below 0x10, otherwise
	// a family-specific type such as RTM_NEWLINK or a genl family ID.
	Type uint16
	// Flags holds NLM_F_* flags.
	Flags uint16
	// Seq is the sequence number; Conn.Execute assigns it.
	Seq uint32
	// PID is the sender's port ID; 0 for the kernel.
	PID uint32
}

// Message is a netlink message: a header and its payload.
type Message struct {
	Header
	// Data is the payload after the header, without trailing padding.
	Data []byte
}

var errMessageTooLong = errors.New("message longer than 4 GiB")

// Len returns the encoded length of m without trailing padding, as stored
// in the nlmsg_len header field.
func (m Message) Len() int {
	return HeaderLen + len(m.Data)
}

// MarshalBinary encodes m, computing Header.Length from the payload and
// padding the result to a multiple of 4 bytes.
func (m Message) MarshalBinary() ([]byte, error) {
	return m.AppendBinary(nil)
}

// AppendBinary appends the encoding of m to b, like MarshalBinary. It
// grows b at most once, so that no copy of a payload carrying keys is left
// behind in a discarded array.
func (m Message) AppendBinary(b []byte) ([]byte, error) {
	if uint64(m.Len()) > math.MaxUint32 {
		return nil, errMessageTooLong
	}
	b = slices.Grow(b, align(m.Len()))
	b = binary.NativeEndian.AppendUint32(b, uint32(m.Len()))
	b = binary.NativeEndian.AppendUint16(b, m.Type)
	b = binary.NativeEndian.AppendUint16(b, m.Flags)
	b = binary.NativeEndian.AppendUint32(b, m.Seq)
	b = binary.NativeEndian.AppendUint32(b, m.PID)
	b = append(b, m.Data...)
	return appendPadding(b, len(m.Data)), nil
}

// UnmarshalBinary decodes exactly one message from b, which may carry up to
// 3 bytes of trailing padding. Data is a copy.
func (m *Message) UnmarshalBinary(b []byte) error {
	msg, rest, err := parseMessage(b, true)
	if err != nil {
		return err
	}
	if len(rest) != 0 {
		return fmt.Errorf("%d bytes after message of length %d", len(rest), msg.Length)
	}
	*m = msg
	return nil
}

// ParseMessages decodes a datagram holding zero or more messages. Every
// length is bounds-checked, the last message may lack its padding, and each
// Data is a copy, so b may be reused afterwards.
func ParseMessages(b []byte) ([]Message, error) {
	var msgs []Message
	for len(b) > 0 {
		m, rest, err := parseMessage(b, true)
		if err != nil {
			// The messages may carry keys.
			for _, m := range msgs {
				clear(m.Data)
			}
			return nil, fmt.Errorf("message %d: %w", len(msgs), err)
		}
		msgs = append(msgs, m)
		b = rest
	}
	return msgs, nil
}

// parseMessage decodes the message at the start of b and returns the
// remainder after its padding. Data is a copy if copyData, else a view into
// b.
func parseMessage(b []byte, copyData bool) (Message, []byte, error) {
	if len(b) < HeaderLen {
		return Message{}, nil, fmt.Errorf("header truncated: %d bytes, need %d", len(b), HeaderLen)
	}
	h := Header{
		Length: binary.NativeEndian.Uint32(b[0:4]),
		Type:   binary.NativeEndian.Uint16(b[4:6]),
		Flags:  binary.NativeEndian.Uint16(b[6:8]),
		Seq:    binary.NativeEndian.Uint32(b[8:12]),
		PID:    binary.NativeEndian.Uint32(b[12:16]),
	}
	if h.Length < HeaderLen {
		return Message{}, nil, fmt.Errorf("bad length %d: shorter than header", h.Length)
	}
	if uint64(h.Length) > uint64(len(b)) {
		return Message{}, nil, fmt.Errorf("bad length %d: only %d bytes available", h.Length, len(b))
	}
	n := int(h.Length)
	m := Message{Header: h, Data: b[HeaderLen:n:n]}
	if copyData {
		m.Data = append([]byte{}, m.Data...)
	}
	// The final message of a datagram may omit its padding.
	next := min(align(n), len(b))
	return m, b[next:], nil
}

// appendPadding pads b after a payload of n bytes to the 4-byte alignment.
func appendPadding(b []byte, n int) []byte {
	for range align(n) - n {
		b = append(b, 0)
	}
	return b
}
