package nl

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"slices"
	"strings"
)

// maxAttrLen is the largest attribute, header included: nla_len is a u16.
//
//	struct nlattr {
//		__u16           nla_len;
//		__u16           nla_type;
//	};
const maxAttrLen = math.MaxUint16

// AttrEncoder builds a sequence of netlink attributes. The zero value is
// ready to use. Methods record the first error and make later calls no-ops;
// Encode reports it.
type AttrEncoder struct {
	b   []byte
	err error
}

// Len returns the number of bytes encoded so far, padding included. It lets
// callers keep a message under a byte budget: appending an attribute with a
// payload of n bytes grows Len by 4+n rounded up to a multiple of 4.
func (ae *AttrEncoder) Len() int {
	return len(ae.b)
}

// Grow makes room for n more bytes, so that the next n bytes of attributes
// are appended without moving those already encoded. An encoder that will
// hold a key grows once, up front, before the key goes in: a move would
// leave a copy of it behind in the old array.
func (ae *AttrEncoder) Grow(n int) {
	ae.b = slices.Grow(ae.b, n)
}

// Wipe zeroes everything ae encoded and empties ae for reuse, keeping its
// array. The encoder only appends, so after Wipe its whole array is zero,
// unless appending outgrew a Grow and moved it.
func (ae *AttrEncoder) Wipe() {
	clear(ae.b)
	ae.b = ae.b[:0]
	ae.err = nil
}

// Err returns the first error recorded by ae.
func (ae *AttrEncoder) Err() error {
	return ae.err
}

// Encode returns the encoded attributes, or the first error recorded.
func (ae *AttrEncoder) Encode() ([]byte, error) {
	if ae.err != nil {
		return nil, ae.err
	}
	return ae.b, nil
}

// Uint8 appends a u8 attribute.
func (ae *AttrEncoder) Uint8(typ uint16, v uint8) {
	var b [1]byte
	b[0] = v
	ae.append(typ, b[:])
}

// Uint16 appends a native-endian u16 attribute.
func (ae *AttrEncoder) Uint16(typ uint16, v uint16) {
	var b [2]byte
	binary.NativeEndian.PutUint16(b[:], v)
	ae.append(typ, b[:])
}

// Uint32 appends a native-endian u32 attribute.
func (ae *AttrEncoder) Uint32(typ uint16, v uint32) {
	var b [4]byte
	binary.NativeEndian.PutUint32(b[:], v)
	ae.append(typ, b[:])
}

// Uint64 appends a native-endian u64 attribute.
func (ae *AttrEncoder) Uint64(typ uint16, v uint64) {
	var b [8]byte
	binary.NativeEndian.PutUint64(b[:], v)
	ae.append(typ, b[:])
}

// Int32 appends a native-endian s32 attribute.
func (ae *AttrEncoder) Int32(typ uint16, v int32) {
	ae.Uint32(typ, uint32(v))
}

// String appends a NUL-terminated string attribute (NLA_NUL_STRING and
// NLA_STRING both accept the terminator). s must not contain NUL.
func (ae *AttrEncoder) String(typ uint16, s string) {
	if ae.err == nil && strings.IndexByte(s, 0) >= 0 {
		ae.err = fmt.Errorf("attribute %d: string %q contains NUL", typ, s)
		return
	}
	ae.Bytes(typ, append([]byte(s), 0))
}

// Flag appends an attribute with no payload (NLA_FLAG).
func (ae *AttrEncoder) Flag(typ uint16) {
	ae.Bytes(typ, nil)
}

// Bytes appends an attribute with payload b. typ may include NLA_F_NESTED
// to append a nest encoded separately, for example to measure a WireGuard
// peer with its own encoder before deciding which message it goes in.
func (ae *AttrEncoder) Bytes(typ uint16, b []byte) {
	ae.append(typ, b)
}

// Nested appends a nested attribute whose payload is built by fn. It always
// sets NLA_F_NESTED, which strictly validated families require since Linux
// 5.2. An error returned by fn, or recorded by the child encoder, is
// recorded in ae.
func (ae *AttrEncoder) Nested(typ uint16, fn func(*AttrEncoder) error) {
	if ae.err != nil {
		return
	}
	var child AttrEncoder
	if err := fn(&child); err != nil {
		ae.err = fmt.Errorf("attribute %d: %w", typ, err)
		return
	}
	if child.err != nil {
		ae.err = fmt.Errorf("attribute %d: %w", typ, child.err)
		return
	}
	ae.append(typ|attrNested, child.b)
}

// Begin opens a nest of type typ (NLA_F_NESTED is set) in place: the
// attributes appended until End(start) are its payload, with no encoder
// of their own to copy them from. It returns start for End.
func (ae *AttrEncoder) Begin(typ uint16) (start int) {
	start = len(ae.b)
	ae.append(typ|attrNested, nil)
	return start
}

// End closes the nest that Begin opened at start: its length is what was
// appended since.
func (ae *AttrEncoder) End(start int) {
	if ae.err != nil {
		return
	}
	n := len(ae.b) - start
	if n > maxAttrLen {
		ae.err = fmt.Errorf("attribute %d: length %d exceeds %d", binary.NativeEndian.Uint16(ae.b[start+2:])&^attrNested, n, maxAttrLen)
		return
	}
	binary.NativeEndian.PutUint16(ae.b[start:], uint16(n))
}

// Truncate zeroes and drops everything appended after the first n bytes,
// for example a nest begun that turned out not to fit.
func (ae *AttrEncoder) Truncate(n int) {
	if n < len(ae.b) {
		clear(ae.b[n:])
		ae.b = ae.b[:n]
	}
}

// append writes one attribute header, payload and padding.
func (ae *AttrEncoder) append(typ uint16, b []byte) {
	if ae.err != nil {
		return
	}
	t := typ &^ attrNested
	if t&^attrTypeMask != 0 {
		ae.err = fmt.Errorf("attribute %d: type has NLA_F_NET_BYTEORDER or is out of range", t)
		return
	}
	n := attrHeaderLen + len(b)
	if n > maxAttrLen {
		ae.err = fmt.Errorf("attribute %d: length %d exceeds %d", t, n, maxAttrLen)
		return
	}
	ae.b = binary.NativeEndian.AppendUint16(ae.b, uint16(n))
	ae.b = binary.NativeEndian.AppendUint16(ae.b, typ)
	ae.b = append(ae.b, b...)
	ae.b = appendPadding(ae.b, n)
}

// AttrDecoder iterates over netlink attributes in the style of
// bufio.Scanner:
//
//	ad := nl.NewAttrDecoder(b)
//	for ad.Next() {
//		switch ad.Type() {
//		case unix.IFLA_MTU:
//			mtu = ad.Uint32()
//		}
//	}
//	if err := ad.Err(); err != nil { ... }
//
// Getters check the exact payload length; a mismatch is recorded, stops the
// iteration and is reported by Err. The decoder never panics.
type AttrDecoder struct {
	b    []byte
	typ  uint16
	data []byte
	err  error
}

// NewAttrDecoder returns a decoder over the attributes in b. b is not
// modified; returned byte slices are copies.
func NewAttrDecoder(b []byte) *AttrDecoder {
	return &AttrDecoder{b: b}
}

// Next advances to the next attribute and reports whether there is one. It
// returns false at the end of the input or after an error.
func (ad *AttrDecoder) Next() bool {
	if ad.err != nil || len(ad.b) == 0 {
		return false
	}
	if len(ad.b) < attrHeaderLen {
		ad.err = fmt.Errorf("attribute header truncated: %d bytes", len(ad.b))
		return false
	}
	n := int(binary.NativeEndian.Uint16(ad.b[0:2]))
	typ := binary.NativeEndian.Uint16(ad.b[2:4])
	if n < attrHeaderLen {
		ad.err = fmt.Errorf("attribute %d: bad length %d", typ&attrTypeMask, n)
		return false
	}
	if n > len(ad.b) {
		ad.err = fmt.Errorf("attribute %d: length %d exceeds remaining %d bytes", typ&attrTypeMask, n, len(ad.b))
		return false
	}
	ad.typ = typ
	ad.data = ad.b[attrHeaderLen:n]
	// The last attribute may omit its padding.
	ad.b = ad.b[min(align(n), len(ad.b)):]
	return true
}

// Type returns the current attribute's type with NLA_F_NESTED and
// NLA_F_NET_BYTEORDER masked off.
func (ad *AttrDecoder) Type() uint16 {
	return ad.typ & attrTypeMask
}

// IsNested reports whether the current attribute has NLA_F_NESTED set.
// Older kernel code omits the flag, so parsers should not insist on it.
func (ad *AttrDecoder) IsNested() bool {
	return ad.typ&attrNested != 0
}

// Len returns the payload length of the current attribute.
func (ad *AttrDecoder) Len() int {
	return len(ad.data)
}

// Err returns the first error encountered.
func (ad *AttrDecoder) Err() error {
	return ad.err
}

// Bytes returns a copy of the current attribute's payload.
func (ad *AttrDecoder) Bytes() []byte {
	return append([]byte{}, ad.data...)
}

// IsZero reports whether the current attribute's payload is all zero
// bytes. It reads the payload in place: for a key, whether one is set,
// without a copy of it.
func (ad *AttrDecoder) IsZero() bool {
	var acc byte
	for _, c := range ad.data {
		acc |= c
	}
	return acc == 0
}

// Uint8 returns the current attribute as a u8.
func (ad *AttrDecoder) Uint8() uint8 {
	if !ad.checkLen(1, "uint8") {
		return 0
	}
	return ad.data[0]
}

// Uint16 returns the current attribute as a native-endian u16.
func (ad *AttrDecoder) Uint16() uint16 {
	if !ad.checkLen(2, "uint16") {
		return 0
	}
	return binary.NativeEndian.Uint16(ad.data)
}

// Uint32 returns the current attribute as a native-endian u32.
func (ad *AttrDecoder) Uint32() uint32 {
	if !ad.checkLen(4, "uint32") {
		return 0
	}
	return binary.NativeEndian.Uint32(ad.data)
}

// Uint64 returns the current attribute as a native-endian u64.
func (ad *AttrDecoder) Uint64() uint64 {
	if !ad.checkLen(8, "uint64") {
		return 0
	}
	return binary.NativeEndian.Uint64(ad.data)
}

// Int32 returns the current attribute as a native-endian s32.
func (ad *AttrDecoder) Int32() int32 {
	if !ad.checkLen(4, "int32") {
		return 0
	}
	return int32(binary.NativeEndian.Uint32(ad.data))
}

// String returns the current attribute as a string, up to its first NUL.
func (ad *AttrDecoder) String() string {
	if ad.err != nil {
		return ""
	}
	s, _, _ := bytes.Cut(ad.data, []byte{0})
	return string(s)
}

// Nested decodes the current attribute's payload as attributes with fn. An
// error returned by fn, or left in the child decoder, is recorded in ad.
func (ad *AttrDecoder) Nested(fn func(*AttrDecoder) error) {
	if ad.err != nil {
		return
	}
	child := NewAttrDecoder(ad.data)
	err := fn(child)
	if err == nil {
		err = child.err
	}
	if err != nil {
		ad.err = fmt.Errorf("attribute %d: %w", ad.Type(), err)
	}
}

// checkLen records an error unless the payload is exactly n bytes.
func (ad *AttrDecoder) checkLen(n int, kind string) bool {
	if ad.err != nil {
		return false
	}
	if len(ad.data) != n {
		ad.err = fmt.Errorf("attribute %d is not a %s; length: %d", ad.Type(), kind, len(ad.data))
		return false
	}
	return true
}
