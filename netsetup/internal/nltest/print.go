//go:build linux

package nltest

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/wgboot/wgboot/netsetup/internal/nl"
)

// The printer is test and debugging tooling: it lives here, not in package
// nl, so that no production binary carries it.

// rtnlObject describes one rtnetlink object type: the NEW/DEL/GET(/SET)
// message types starting at base, and the size of its fixed header.
type rtnlObject struct {
	base   uint16
	name   string
	hdrLen int
}

// rtnlObjects covers the objects wgboot touches, from
// include/uapi/linux/rtnetlink.h; sizes are of struct ifinfomsg, ifaddrmsg,
// rtmsg, ndmsg, fib_rule_hdr and nhmsg.
var rtnlObjects = [...]rtnlObject{
	{16, "LINK", 16},    // RTM_NEWLINK = 16
	{20, "ADDR", 8},     // RTM_NEWADDR = 20
	{24, "ROUTE", 12},   // RTM_NEWROUTE = 24
	{28, "NEIGH", 12},   // RTM_NEWNEIGH = 28
	{32, "RULE", 12},    // RTM_NEWRULE = 32
	{104, "NEXTHOP", 8}, // RTM_NEWNEXTHOP = 104
}

// rtnlVerbs are the per-object message types in order; only links have SET.
var rtnlVerbs = [...]string{"NEW", "DEL", "GET", "SET"}

// rtnlType returns the name and fixed header length of an rtnetlink type.
func rtnlType(t uint16) (name string, hdrLen int, ok bool) {
	for _, o := range rtnlObjects {
		if t < o.base || t >= o.base+4 {
			continue
		}
		v := t - o.base
		if v == 3 && o.name != "LINK" {
			return "", 0, false
		}
		return "RTM_" + rtnlVerbs[v] + o.name, o.hdrLen, true
	}
	return "", 0, false
}

// controlType names the NLMSG_* control message types.
func controlType(t uint16) (string, bool) {
	switch t {
	case unix.NLMSG_NOOP:
		return "NLMSG_NOOP", true
	case unix.NLMSG_ERROR:
		return "NLMSG_ERROR", true
	case unix.NLMSG_DONE:
		return "NLMSG_DONE", true
	case unix.NLMSG_OVERRUN:
		return "NLMSG_OVERRUN", true
	}
	return "", false
}

// ctrlCommands names CTRL_CMD_* in enum ctrl_cmd.
var ctrlCommands = [...]string{
	"CTRL_CMD_UNSPEC", "CTRL_CMD_NEWFAMILY", "CTRL_CMD_DELFAMILY", "CTRL_CMD_GETFAMILY",
	"CTRL_CMD_NEWOPS", "CTRL_CMD_DELOPS", "CTRL_CMD_GETOPS",
	"CTRL_CMD_NEWMCAST_GRP", "CTRL_CMD_DELMCAST_GRP", "CTRL_CMD_GETMCAST_GRP",
	"CTRL_CMD_GETPOLICY",
}

// Fprint writes m to w as one decoded line for test output and debug logs,
// reading message types as rtnetlink (NETLINK_ROUTE):
//
//	RTM_NEWADDR flags=REQUEST|ACK|EXCL|CREATE seq=1 pid=0 len=40 hdr=0218000002000000 attrs=[2:4 1:4]
//
// Attributes are shown as type:payload-length; nested ones (NLA_F_NESTED) as
// type:N[...]. The fixed header is shown in hex.
func Fprint(w io.Writer, m nl.Message) error {
	_, err := io.WriteString(w, format(m, false)+"\n")
	return err
}

// FprintGeneric is Fprint for generic netlink (NETLINK_GENERIC): it names
// nlctrl commands and shows the genl header.
//
//	nlctrl CTRL_CMD_GETFAMILY v1 flags=REQUEST seq=1 pid=0 len=36 attrs=[2:10]
func FprintGeneric(w io.Writer, m nl.Message) error {
	_, err := io.WriteString(w, format(m, true)+"\n")
	return err
}

// format renders m on one line without a newline.
func format(m nl.Message, genl bool) string {
	var sb strings.Builder
	hdrLen := 0
	name, ok := controlType(m.Type)
	switch {
	case ok:
		sb.WriteString(name)
	case genl:
		if m.Type == unix.GENL_ID_CTRL {
			sb.WriteString("nlctrl")
		} else {
			fmt.Fprintf(&sb, "genl(%#x)", m.Type)
		}
		hdrLen = unix.GENL_HDRLEN
		var h nl.GenlHeader
		if len(m.Data) < unix.GENL_HDRLEN || h.UnmarshalBinary(m.Data[:unix.GENL_HDRLEN]) != nil {
			fmt.Fprintf(&sb, " !bad-genl-header")
			break
		}
		if m.Type == unix.GENL_ID_CTRL && int(h.Command) < len(ctrlCommands) {
			fmt.Fprintf(&sb, " %s", ctrlCommands[h.Command])
		} else {
			fmt.Fprintf(&sb, " cmd=%d", h.Command)
		}
		fmt.Fprintf(&sb, " v%d", h.Version)
	default:
		if name, n, ok := rtnlType(m.Type); ok {
			sb.WriteString(name)
			hdrLen = n
		} else {
			fmt.Fprintf(&sb, "type=%#x", m.Type)
		}
	}
	fmt.Fprintf(&sb, " flags=%s seq=%d pid=%d len=%d", flagString(m.Type, m.Flags, genl), m.Seq, m.PID, m.Len())

	switch m.Type {
	case unix.NLMSG_ERROR:
		code, ext, err := parseError(m)
		if err != nil {
			fmt.Fprintf(&sb, " !%v", err)
			return sb.String()
		}
		if code == 0 {
			sb.WriteString(" ack")
		} else {
			errno := syscall.Errno(-int64(code))
			if code > 0 {
				errno = syscall.Errno(code)
			}
			fmt.Fprintf(&sb, " error=%d (%v)", code, errno)
		}
		writeExtAck(&sb, ext)
		return sb.String()
	case unix.NLMSG_DONE:
		code, ext, err := parseDone(m)
		if err != nil {
			fmt.Fprintf(&sb, " !%v", err)
			return sb.String()
		}
		fmt.Fprintf(&sb, " error=%d", code)
		writeExtAck(&sb, ext)
		return sb.String()
	}
	if len(m.Data) == 0 {
		return sb.String()
	}
	if hdrLen == 0 || len(m.Data) < hdrLen {
		fmt.Fprintf(&sb, " data=%s", hex.EncodeToString(m.Data))
		return sb.String()
	}
	fixed, attrs, _ := nl.SplitPayload(m.Data, hdrLen) // length checked above
	if !genl {
		fmt.Fprintf(&sb, " hdr=%s", hex.EncodeToString(fixed))
	}
	sb.WriteString(" attrs=")
	if err := writeAttrs(&sb, nl.NewAttrDecoder(attrs)); err != nil {
		fmt.Fprintf(&sb, " !%v data=%s", err, hex.EncodeToString(attrs))
	}
	return sb.String()
}

// extAck is a decoded extended acknowledgement.
type extAck struct {
	message     string
	offset      uint32
	missingType uint32
	missingNest uint32
}

// parseError decodes an NLMSG_ERROR payload: the error code, the echoed
// request (its header only if NLM_F_CAPPED or an ACK), then TLVs if
// NLM_F_ACK_TLVS. Package nl has the production decoder; this one only
// prints.
func parseError(m nl.Message) (int32, extAck, error) {
	const minLen = 4 + nl.HeaderLen
	if len(m.Data) < minLen {
		return 0, extAck{}, fmt.Errorf("NLMSG_ERROR payload truncated: %d bytes, need %d", len(m.Data), minLen)
	}
	code := int32(binary.NativeEndian.Uint32(m.Data))
	if m.Flags&unix.NLM_F_ACK_TLVS == 0 {
		return code, extAck{}, nil
	}
	off := minLen
	if m.Flags&unix.NLM_F_CAPPED == 0 && code != 0 {
		echoed := int(binary.NativeEndian.Uint32(m.Data[4:8]))
		if echoed < nl.HeaderLen || echoed > len(m.Data)-4 {
			return 0, extAck{}, fmt.Errorf("NLMSG_ERROR echoes a request of bad length %d", echoed)
		}
		off = 4 + (echoed+3)&^3
	}
	ext, err := parseExtAck(m.Data[min(off, len(m.Data)):])
	return code, ext, err
}

// parseDone decodes an NLMSG_DONE payload: the error code, then TLVs.
func parseDone(m nl.Message) (int32, extAck, error) {
	if len(m.Data) == 0 {
		return 0, extAck{}, nil
	}
	if len(m.Data) < 4 {
		return 0, extAck{}, fmt.Errorf("NLMSG_DONE payload truncated: %d bytes", len(m.Data))
	}
	code := int32(binary.NativeEndian.Uint32(m.Data))
	if m.Flags&unix.NLM_F_ACK_TLVS == 0 {
		return code, extAck{}, nil
	}
	ext, err := parseExtAck(m.Data[4:])
	return code, ext, err
}

// parseExtAck decodes enum nlmsgerr_attrs TLVs.
func parseExtAck(b []byte) (extAck, error) {
	var ext extAck
	ad := nl.NewAttrDecoder(b)
	for ad.Next() {
		switch ad.Type() {
		case unix.NLMSGERR_ATTR_MSG:
			ext.message = ad.String()
		case unix.NLMSGERR_ATTR_OFFS:
			ext.offset = ad.Uint32()
		case nlmsgerrAttrMissType:
			ext.missingType = ad.Uint32()
		case nlmsgerrAttrMissNest:
			ext.missingNest = ad.Uint32()
		}
	}
	if err := ad.Err(); err != nil {
		return extAck{}, fmt.Errorf("extended ACK: %w", err)
	}
	return ext, nil
}

// NLMSGERR_ATTR_MISS_TYPE and _MISS_NEST, which x/sys v0.50.0 lacks
// (include/uapi/linux/netlink.h).
const (
	nlmsgerrAttrMissType = 5
	nlmsgerrAttrMissNest = 6
)

// writeExtAck appends the non-empty extended-ACK fields.
func writeExtAck(sb *strings.Builder, ext extAck) {
	if ext.message != "" {
		fmt.Fprintf(sb, " msg=%q", ext.message)
	}
	if ext.offset != 0 {
		fmt.Fprintf(sb, " offset=%d", ext.offset)
	}
	if ext.missingType != 0 {
		fmt.Fprintf(sb, " missing=%d", ext.missingType)
	}
	if ext.missingNest != 0 {
		fmt.Fprintf(sb, " missing-nest=%d", ext.missingNest)
	}
}

// writeAttrs appends "[type:len ...]", descending into nested attributes.
func writeAttrs(sb *strings.Builder, ad *nl.AttrDecoder) error {
	sb.WriteByte('[')
	first := true
	for ad.Next() {
		if !first {
			sb.WriteByte(' ')
		}
		first = false
		if ad.IsNested() {
			fmt.Fprintf(sb, "%d:N", ad.Type())
			ad.Nested(func(child *nl.AttrDecoder) error {
				return writeAttrs(sb, child)
			})
			continue
		}
		fmt.Fprintf(sb, "%d:%d", ad.Type(), ad.Len())
	}
	sb.WriteByte(']')
	return ad.Err()
}

// flagString names the flags of a message of type typ, "0" if none. The
// meaning of bits 0x100-0x800 depends on the message type.
func flagString(typ, flags uint16, genl bool) string {
	type bit struct {
		v    uint16
		name string
	}
	bits := []bit{
		{unix.NLM_F_REQUEST, "REQUEST"}, {unix.NLM_F_MULTI, "MULTI"}, {unix.NLM_F_ACK, "ACK"}, {unix.NLM_F_ECHO, "ECHO"},
		{unix.NLM_F_DUMP_INTR, "DUMP_INTR"}, {unix.NLM_F_DUMP_FILTERED, "DUMP_FILTERED"},
	}
	verb := -1
	if !genl && typ >= unix.NLMSG_MIN_TYPE {
		verb = int(typ-unix.NLMSG_MIN_TYPE) % 4
	}
	switch {
	case typ == unix.NLMSG_ERROR || typ == unix.NLMSG_DONE:
		bits = append(bits, bit{unix.NLM_F_CAPPED, "CAPPED"}, bit{unix.NLM_F_ACK_TLVS, "ACK_TLVS"})
	case flags&unix.NLM_F_REQUEST != 0 && (genl || verb == 2) && flags&unix.NLM_F_DUMP == unix.NLM_F_DUMP:
		bits = append(bits, bit{unix.NLM_F_DUMP, "DUMP"}, bit{unix.NLM_F_ATOMIC, "ATOMIC"})
	case verb == 0:
		bits = append(bits, bit{unix.NLM_F_REPLACE, "REPLACE"}, bit{unix.NLM_F_EXCL, "EXCL"}, bit{unix.NLM_F_CREATE, "CREATE"}, bit{unix.NLM_F_APPEND, "APPEND"})
	case verb == 1:
		bits = append(bits, bit{unix.NLM_F_NONREC, "NONREC"}, bit{unix.NLM_F_BULK, "BULK"})
	case verb == 2:
		bits = append(bits, bit{unix.NLM_F_ROOT, "ROOT"}, bit{unix.NLM_F_MATCH, "MATCH"}, bit{unix.NLM_F_ATOMIC, "ATOMIC"})
	}
	var names []string
	for _, b := range bits {
		if flags&b.v == b.v {
			names = append(names, b.name)
			flags &^= b.v
		}
	}
	if flags != 0 {
		names = append(names, fmt.Sprintf("%#x", flags))
	}
	if len(names) == 0 {
		return "0"
	}
	return strings.Join(names, "|")
}
