//go:build linux

package nl

import (
	"testing"

	"golang.org/x/sys/unix"
)

// TestConstants pins the constants mirrored in uapi.go and dump.go to
// golang.org/x/sys/unix. NLMSGERR_ATTR_MISS_TYPE and _MISS_NEST are not in
// x/sys v0.50.0; their values come from include/uapi/linux/netlink.h.
func TestConstants(t *testing.T) {
	tests := []struct {
		name      string
		got, want int
	}{
		{"NLMSG_HDRLEN", HeaderLen, unix.NLMSG_HDRLEN},
		{"NLA_HDRLEN", attrHeaderLen, unix.NLA_HDRLEN},
		{"NLMSG_NOOP", typeNoop, unix.NLMSG_NOOP},
		{"NLMSG_ERROR", typeError, unix.NLMSG_ERROR},
		{"NLMSG_DONE", typeDone, unix.NLMSG_DONE},
		{"NLMSG_OVERRUN", typeOverrun, unix.NLMSG_OVERRUN},
		{"NLMSG_MIN_TYPE", typeMin, unix.NLMSG_MIN_TYPE},
		{"NLM_F_REQUEST", flagRequest, unix.NLM_F_REQUEST},
		{"NLM_F_MULTI", flagMulti, unix.NLM_F_MULTI},
		{"NLM_F_ACK", flagAck, unix.NLM_F_ACK},
		{"NLM_F_ECHO", flagEcho, unix.NLM_F_ECHO},
		{"NLM_F_DUMP_INTR", flagDumpIntr, unix.NLM_F_DUMP_INTR},
		{"NLM_F_DUMP_FILTERED", flagDumpFiltered, unix.NLM_F_DUMP_FILTERED},
		{"NLM_F_ROOT", flagRoot, unix.NLM_F_ROOT},
		{"NLM_F_MATCH", flagMatch, unix.NLM_F_MATCH},
		{"NLM_F_ATOMIC", flagAtomic, unix.NLM_F_ATOMIC},
		{"NLM_F_DUMP", flagDump, unix.NLM_F_DUMP},
		{"NLM_F_REPLACE", flagReplace, unix.NLM_F_REPLACE},
		{"NLM_F_EXCL", flagExcl, unix.NLM_F_EXCL},
		{"NLM_F_CREATE", flagCreate, unix.NLM_F_CREATE},
		{"NLM_F_APPEND", flagAppend, unix.NLM_F_APPEND},
		{"NLM_F_NONREC", flagNonrec, unix.NLM_F_NONREC},
		{"NLM_F_BULK", flagBulk, unix.NLM_F_BULK},
		{"NLM_F_CAPPED", flagCapped, unix.NLM_F_CAPPED},
		{"NLM_F_ACK_TLVS", flagAckTLVs, unix.NLM_F_ACK_TLVS},
		{"NLA_F_NESTED", attrNested, unix.NLA_F_NESTED},
		{"NLA_F_NET_BYTEORDER", attrNetByteOrder, unix.NLA_F_NET_BYTEORDER},
		{"NLMSGERR_ATTR_MSG", errAttrMsg, unix.NLMSGERR_ATTR_MSG},
		{"NLMSGERR_ATTR_OFFS", errAttrOffs, unix.NLMSGERR_ATTR_OFFS},
		{"GENL_HDRLEN", genlHeaderLen, unix.GENL_HDRLEN},
		{"GENL_ID_CTRL", genlIDCtrl, unix.GENL_ID_CTRL},
		{"CTRL_CMD_GETFAMILY", ctrlCmdGetFamily, unix.CTRL_CMD_GETFAMILY},
		{"CTRL_ATTR_FAMILY_ID", ctrlAttrFamilyID, unix.CTRL_ATTR_FAMILY_ID},
		{"CTRL_ATTR_FAMILY_NAME", ctrlAttrFamilyName, unix.CTRL_ATTR_FAMILY_NAME},
		{"CTRL_CMD_GETPOLICY", len(ctrlCommands) - 1, unix.CTRL_CMD_GETPOLICY},
		{"sizeof(struct nlmsgerr)", 4 + HeaderLen, unix.SizeofNlMsgerr},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s = %#x, want %#x", tt.name, tt.got, tt.want)
		}
	}
}

// TestRtnlTypes pins the rtnetlink names and fixed header sizes used by
// Fprint.
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
}
