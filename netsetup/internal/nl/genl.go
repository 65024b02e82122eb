package nl

import (
	"fmt"
	"slices"
)

// GenlHeader is the generic netlink header that precedes a genl message's
// attributes.
//
//	struct genlmsghdr {
//		__u8	cmd;
//		__u8	version;
//		__u16	reserved;
//	};
//
// NB: reserved must be zero on the wire; the kernel's genl_header_check
// rejects other values on strictly validated families.
type GenlHeader struct {
	Command uint8
	Version uint8
}

// MarshalBinary encodes h as 4 bytes with the reserved field zero.
func (h GenlHeader) MarshalBinary() ([]byte, error) {
	return []byte{h.Command, h.Version, 0, 0}, nil
}

// UnmarshalBinary decodes exactly 4 bytes and rejects a non-zero reserved
// field.
func (h *GenlHeader) UnmarshalBinary(b []byte) error {
	if len(b) != genlHeaderLen {
		return fmt.Errorf("genl header: length %d, want %d", len(b), genlHeaderLen)
	}
	if b[2] != 0 || b[3] != 0 {
		return fmt.Errorf("genl header: reserved field is %#02x%02x, want 0", b[2], b[3])
	}
	*h = GenlHeader{Command: b[0], Version: b[1]}
	return nil
}

// Payload returns a message payload made of a fixed family header (for
// example a struct ifinfomsg) padded to 4 bytes, followed by the attributes
// in ae, which may be nil.
func Payload(fixed []byte, ae *AttrEncoder) ([]byte, error) {
	return AppendPayload(nil, fixed, ae)
}

// AppendPayload appends the payload Payload returns to dst. dst grows at
// most once, before anything is copied into it, so that no copy of
// attributes carrying keys is left behind in a discarded array.
func AppendPayload(dst, fixed []byte, ae *AttrEncoder) ([]byte, error) {
	var attrs []byte
	if ae != nil {
		var err error
		if attrs, err = ae.Encode(); err != nil {
			return nil, err
		}
	}
	b := slices.Grow(dst, align(len(fixed))+len(attrs))
	b = appendPadding(append(b, fixed...), len(fixed))
	return append(b, attrs...), nil
}

// SplitPayload splits a message payload into its fixed family header of n
// bytes and the attributes that follow it at the next 4-byte boundary.
func SplitPayload(data []byte, n int) (fixed, attrs []byte, err error) {
	if n < 0 || len(data) < n {
		return nil, nil, fmt.Errorf("payload of %d bytes is shorter than its %d-byte header", len(data), n)
	}
	return data[:n], data[min(align(n), len(data)):], nil
}

// GenlPayload returns a generic netlink payload: h followed by the
// attributes in ae, which may be nil.
func GenlPayload(h GenlHeader, ae *AttrEncoder) ([]byte, error) {
	return AppendGenlPayload(nil, h, ae)
}

// AppendGenlPayload appends the payload GenlPayload returns to dst, as
// AppendPayload does.
func AppendGenlPayload(dst []byte, h GenlHeader, ae *AttrEncoder) ([]byte, error) {
	hb, err := h.MarshalBinary()
	if err != nil {
		return nil, err
	}
	return AppendPayload(dst, hb, ae)
}

// ParseGenl splits a generic netlink payload into its header and a decoder
// over the attributes.
func ParseGenl(data []byte) (GenlHeader, *AttrDecoder, error) {
	fixed, attrs, err := SplitPayload(data, genlHeaderLen)
	if err != nil {
		return GenlHeader{}, nil, err
	}
	var h GenlHeader
	if err := h.UnmarshalBinary(fixed); err != nil {
		return GenlHeader{}, nil, err
	}
	return h, NewAttrDecoder(attrs), nil
}

// ResolveFamily returns the message type (family ID) of the generic netlink
// family called name, using CTRL_CMD_GETFAMILY. c must be a NETLINK_GENERIC
// connection. If the family is not registered, as when its module is not
// loaded, the error satisfies errors.Is(err, unix.ENOENT).
func (c *Conn) ResolveFamily(name string) (uint16, error) {
	const op = "CTRL_CMD_GETFAMILY"
	var ae AttrEncoder
	ae.String(ctrlAttrFamilyName, name)
	// Version 1 is what the controller has always accepted (genl(8),
	// libnl and wg(8) all send it).
	data, err := GenlPayload(GenlHeader{Command: ctrlCmdGetFamily, Version: 1}, &ae)
	if err != nil {
		return 0, &Error{Op: op, Err: err}
	}
	// No NLM_F_ACK: the reply itself, or an NLMSG_ERROR, ends the exchange.
	replies, err := c.Execute(Message{Header: Header{Type: genlIDCtrl}, Data: data}, op)
	if err != nil {
		return 0, err
	}
	if len(replies) != 1 {
		return 0, &Error{Op: op, Err: fmt.Errorf("family %q: got %d replies, want 1", name, len(replies))}
	}
	id, err := parseFamilyID(replies[0], name)
	if err != nil {
		return 0, &Error{Op: op, Err: err, Seq: replies[0].Seq}
	}
	return id, nil
}

// parseFamilyID extracts CTRL_ATTR_FAMILY_ID from a CTRL_CMD_NEWFAMILY
// reply, checking that it describes the family asked for.
func parseFamilyID(m Message, name string) (uint16, error) {
	_, ad, err := ParseGenl(m.Data)
	if err != nil {
		return 0, fmt.Errorf("family %q: %w", name, err)
	}
	var (
		id    uint16
		got   string
		found bool
	)
	for ad.Next() {
		switch ad.Type() {
		case ctrlAttrFamilyID:
			id, found = ad.Uint16(), true
		case ctrlAttrFamilyName:
			got = ad.String()
		}
	}
	if err := ad.Err(); err != nil {
		return 0, fmt.Errorf("family %q: %w", name, err)
	}
	if !found {
		return 0, fmt.Errorf("family %q: reply has no family ID", name)
	}
	if got != "" && got != name {
		return 0, fmt.Errorf("family %q: reply describes family %q", name, got)
	}
	return id, nil
}
