package nl

import (
	"encoding/hex"
	"fmt"
	"io"
	"strings"
)

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
	case typeNoop:
		return "NLMSG_NOOP", true
	case typeError:
		return "NLMSG_ERROR", true
	case typeDone:
		return "NLMSG_DONE", true
	case typeOverrun:
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
func Fprint(w io.Writer, m Message) error {
	_, err := io.WriteString(w, format(m, false)+"\n")
	return err
}

// FprintGeneric is Fprint for generic netlink (NETLINK_GENERIC): it names
// nlctrl commands and shows the genl header.
//
//	nlctrl CTRL_CMD_GETFAMILY v1 flags=REQUEST seq=1 pid=0 len=36 attrs=[2:10]
func FprintGeneric(w io.Writer, m Message) error {
	_, err := io.WriteString(w, format(m, true)+"\n")
	return err
}

// format renders m on one line without a newline.
func format(m Message, genl bool) string {
	var sb strings.Builder
	hdrLen := 0
	name, ok := controlType(m.Type)
	switch {
	case ok:
		sb.WriteString(name)
	case genl:
		if m.Type == genlIDCtrl {
			sb.WriteString("nlctrl")
		} else {
			fmt.Fprintf(&sb, "genl(%#x)", m.Type)
		}
		hdrLen = genlHeaderLen
		var h GenlHeader
		if len(m.Data) < genlHeaderLen || h.UnmarshalBinary(m.Data[:genlHeaderLen]) != nil {
			fmt.Fprintf(&sb, " !bad-genl-header")
			break
		}
		if m.Type == genlIDCtrl && int(h.Command) < len(ctrlCommands) {
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
	case typeError:
		code, ext, err := parseError(m)
		if err != nil {
			fmt.Fprintf(&sb, " !%v", err)
			return sb.String()
		}
		if code == 0 {
			sb.WriteString(" ack")
		} else {
			fmt.Fprintf(&sb, " error=%d (%v)", code, errnoFromCode(code))
		}
		writeExtAck(&sb, ext)
		return sb.String()
	case typeDone:
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
	fixed, attrs, _ := SplitPayload(m.Data, hdrLen) // length checked above
	if !genl {
		fmt.Fprintf(&sb, " hdr=%s", hex.EncodeToString(fixed))
	}
	sb.WriteString(" attrs=")
	if err := writeAttrs(&sb, attrs); err != nil {
		fmt.Fprintf(&sb, " !%v data=%s", err, hex.EncodeToString(attrs))
	}
	return sb.String()
}

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
func writeAttrs(sb *strings.Builder, b []byte) error {
	sb.WriteByte('[')
	ad := NewAttrDecoder(b)
	first := true
	for ad.Next() {
		if !first {
			sb.WriteByte(' ')
		}
		first = false
		if ad.IsNested() {
			fmt.Fprintf(sb, "%d:N", ad.Type())
			ad.Nested(func(child *AttrDecoder) error {
				return writeAttrs(sb, child.b)
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
		{flagRequest, "REQUEST"}, {flagMulti, "MULTI"}, {flagAck, "ACK"}, {flagEcho, "ECHO"},
		{flagDumpIntr, "DUMP_INTR"}, {flagDumpFiltered, "DUMP_FILTERED"},
	}
	verb := -1
	if !genl && typ >= typeMin {
		verb = int(typ-typeMin) % 4
	}
	switch {
	case typ == typeError || typ == typeDone:
		bits = append(bits, bit{flagCapped, "CAPPED"}, bit{flagAckTLVs, "ACK_TLVS"})
	case flags&flagRequest != 0 && (genl || verb == 2) && flags&flagDump == flagDump:
		bits = append(bits, bit{flagDump, "DUMP"}, bit{flagAtomic, "ATOMIC"})
	case verb == 0:
		bits = append(bits, bit{flagReplace, "REPLACE"}, bit{flagExcl, "EXCL"}, bit{flagCreate, "CREATE"}, bit{flagAppend, "APPEND"})
	case verb == 1:
		bits = append(bits, bit{flagNonrec, "NONREC"}, bit{flagBulk, "BULK"})
	case verb == 2:
		bits = append(bits, bit{flagRoot, "ROOT"}, bit{flagMatch, "MATCH"}, bit{flagAtomic, "ATOMIC"})
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
