//go:build linux

package nl

import (
	"testing"

	"golang.org/x/sys/unix"
)

// TestConstants pins the constants mirrored in uapi.go to
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
		{"sizeof(struct nlmsgerr)", 4 + HeaderLen, unix.SizeofNlMsgerr},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s = %#x, want %#x", tt.name, tt.got, tt.want)
		}
	}
}
