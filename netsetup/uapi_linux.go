package netsetup

// Kernel constants that golang.org/x/sys/unix (v0.50.0) lacks. Each names its
// C definition and header; uapi_linux_test.go pins the struct sizes.

const (
	// rtextFilterSkipStats asks RTM_GETLINK not to send IFLA_STATS and
	// IFLA_STATS64, which are most of each link reply and unused here.
	//
	//	#define RTEXT_FILTER_SKIP_STATS	(1 << 3)	/* include/uapi/linux/rtnetlink.h */
	rtextFilterSkipStats = 1 << 3

	// vethInfoPeer is the veth attribute that carries the peer: a struct
	// ifinfomsg followed by the peer's link attributes.
	//
	//	enum { VETH_INFO_UNSPEC, VETH_INFO_PEER, ... };	/* include/uapi/linux/veth.h */
	vethInfoPeer = 1

	// Operational states, RFC 2863, in IFLA_OPERSTATE.
	//
	//	enum { IF_OPER_UNKNOWN, IF_OPER_NOTPRESENT, IF_OPER_DOWN,
	//	       IF_OPER_LOWERLAYERDOWN, IF_OPER_TESTING, IF_OPER_DORMANT,
	//	       IF_OPER_UP };	/* include/uapi/linux/if.h */
	ifOperUnknown = 0
	ifOperDown    = 2
	ifOperUp      = 6

	// sizeofFibRuleHdr is the size of the fixed header of RTM_*RULE
	// messages.
	//
	//	struct fib_rule_hdr {	/* include/uapi/linux/fib_rules.h */
	//		__u8		family;
	//		__u8		dst_len;
	//		__u8		src_len;
	//		__u8		tos;
	//		__u8		table;
	//		__u8		res1;	/* reserved */
	//		__u8		res2;	/* reserved */
	//		__u8		action;
	//		__u32		flags;
	//	};
	sizeofFibRuleHdr = 12
)
