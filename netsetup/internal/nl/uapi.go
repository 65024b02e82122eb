package nl

// Kernel constants used by the portable code. They mirror
// include/uapi/linux/netlink.h and include/uapi/linux/genetlink.h; where
// golang.org/x/sys/unix has the same constant, uapi_linux_test.go pins the
// value. Callers outside this package use the unix constants directly.

// HeaderLen is the size of a netlink message header.
//
//	#define NLMSG_HDRLEN	 ((int) NLMSG_ALIGN(sizeof(struct nlmsghdr)))
const HeaderLen = 16

// attrHeaderLen is the size of an attribute header.
//
//	#define NLA_HDRLEN		((int) NLA_ALIGN(sizeof(struct nlattr)))
const attrHeaderLen = 4

// Message types reserved for control messages.
const (
	// #define NLMSG_NOOP		0x1	/* Nothing.		*/
	typeNoop = 0x1
	// #define NLMSG_ERROR		0x2	/* Error		*/
	typeError = 0x2
	// #define NLMSG_DONE		0x3	/* End of a dump	*/
	typeDone = 0x3
	// #define NLMSG_OVERRUN		0x4	/* Data lost		*/
	typeOverrun = 0x4
	// #define NLMSG_MIN_TYPE		0x10	/* < 0x10: reserved control messages */
	typeMin = 0x10
)

// Message flags.
const (
	// #define NLM_F_REQUEST		0x01	/* It is request message. 	*/
	flagRequest = 0x01
	// #define NLM_F_MULTI		0x02	/* Multipart message, terminated by NLMSG_DONE */
	flagMulti = 0x02
	// #define NLM_F_ACK		0x04	/* Reply with ack, with zero or error code */
	flagAck = 0x04
	// #define NLM_F_ECHO		0x08	/* Receive resulting notifications */
	flagEcho = 0x08
	// #define NLM_F_DUMP_INTR		0x10	/* Dump was inconsistent due to sequence change */
	flagDumpIntr = 0x10
	// #define NLM_F_DUMP_FILTERED	0x20	/* Dump was filtered as requested */
	flagDumpFiltered = 0x20

	// Modifiers to GET request.
	// #define NLM_F_ROOT	0x100	/* specify tree	root	*/
	flagRoot = 0x100
	// #define NLM_F_MATCH	0x200	/* return all matching	*/
	flagMatch = 0x200
	// #define NLM_F_ATOMIC	0x400	/* atomic GET		*/
	flagAtomic = 0x400
	// #define NLM_F_DUMP	(NLM_F_ROOT|NLM_F_MATCH)
	flagDump = flagRoot | flagMatch

	// Modifiers to NEW request.
	// #define NLM_F_REPLACE	0x100	/* Override existing		*/
	flagReplace = 0x100
	// #define NLM_F_EXCL	0x200	/* Do not touch, if it exists	*/
	flagExcl = 0x200
	// #define NLM_F_CREATE	0x400	/* Create, if it does not exist	*/
	flagCreate = 0x400
	// #define NLM_F_APPEND	0x800	/* Add to end of list		*/
	flagAppend = 0x800

	// Modifiers to DELETE request.
	// #define NLM_F_NONREC	0x100	/* Do not delete recursively	*/
	flagNonrec = 0x100
	// #define NLM_F_BULK	0x200	/* Delete multiple objects	*/
	flagBulk = 0x200

	// Flags for ACK message.
	// #define NLM_F_CAPPED	0x100	/* request was capped */
	flagCapped = 0x100
	// #define NLM_F_ACK_TLVS	0x200	/* extended ACK TVLs were included */
	flagAckTLVs = 0x200
)

// Attribute type flags.
const (
	// #define NLA_F_NESTED		(1 << 15)
	attrNested = 1 << 15
	// #define NLA_F_NET_BYTEORDER	(1 << 14)
	attrNetByteOrder = 1 << 14
	// #define NLA_TYPE_MASK		~(NLA_F_NESTED | NLA_F_NET_BYTEORDER)
	attrTypeMask = ^uint16(attrNested | attrNetByteOrder)
)

// Extended-ACK attributes, enum nlmsgerr_attrs.
const (
	// NLMSGERR_ATTR_MSG: error message string (string)
	errAttrMsg = 1
	// NLMSGERR_ATTR_OFFS: offset of the invalid attribute in the original
	// message, counting from the beginning of the header (u32)
	errAttrOffs = 2
	// NLMSGERR_ATTR_MISS_TYPE: type of a missing required attribute (u32)
	errAttrMissType = 5
	// NLMSGERR_ATTR_MISS_NEST: offset of the nest where the attribute was
	// missing (u32)
	errAttrMissNest = 6
)

// Generic netlink.
const (
	// #define GENL_HDRLEN	NLMSG_ALIGN(sizeof(struct genlmsghdr))
	genlHeaderLen = 4
	// #define GENL_ID_CTRL		NLMSG_MIN_TYPE
	genlIDCtrl = 0x10
	// CTRL_CMD_GETFAMILY in enum ctrl_cmd
	ctrlCmdGetFamily = 3
	// CTRL_ATTR_FAMILY_ID in enum ctrl_attr (u16)
	ctrlAttrFamilyID = 1
	// CTRL_ATTR_FAMILY_NAME in enum ctrl_attr (NUL-terminated string)
	ctrlAttrFamilyName = 2
)

// align rounds n up to the netlink alignment of 4 bytes. Messages and
// attributes share the same alignment.
//
//	#define NLMSG_ALIGNTO	4U
//	#define NLMSG_ALIGN(len) ( ((len)+NLMSG_ALIGNTO-1) & ~(NLMSG_ALIGNTO-1) )
//	#define NLA_ALIGNTO		4
//	#define NLA_ALIGN(len)		(((len) + NLA_ALIGNTO - 1) & ~(NLA_ALIGNTO - 1))
func align(n int) int {
	return (n + 3) &^ 3
}
