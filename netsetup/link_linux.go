package netsetup

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/wgboot/wgboot/netsetup/internal/nl"
)

// Link is a network interface as rtnetlink reports it.
type Link struct {
	// Index is the interface index, the handle of every other operation.
	Index int32
	// Name is the interface name (IFLA_IFNAME).
	Name string
	// Kind is the link type's name (IFLA_INFO_KIND), such as "wireguard",
	// "veth" or "dummy"; empty for hardware interfaces.
	Kind string
	// Type is the hardware type, an ARPHRD_* value.
	Type uint16
	// Flags holds IFF_* device flags: IFF_UP (administratively up),
	// IFF_LOWER_UP (carrier), IFF_RUNNING.
	Flags uint32
	// MTU is the link's MTU in bytes.
	MTU uint32
	// OperState is the RFC 2863 operational state (IFLA_OPERSTATE):
	// 0 unknown, 2 down, 5 dormant, 6 up.
	OperState uint8
	// MAC is the link's Ethernet address (an IFLA_ADDRESS of 6 bytes):
	// what a DHCP client puts in chaddr. Zero for links without one,
	// such as wireguard.
	MAC [6]byte
}

// Up reports whether the link is administratively up (IFF_UP).
func (l Link) Up() bool {
	return l.Flags&unix.IFF_UP != 0
}

// Carrier reports whether the link is up with carrier and ready for
// traffic: IFF_LOWER_UP is set and the operational state is up, unknown (as
// for drivers that do not track it: dummy, wireguard), or still down.
//
// Down with IFF_LOWER_UP is the kernel's linkwatch lagging: IFF_LOWER_UP
// is netif_carrier_ok() read at once, while the operational state is
// updated by linkwatch, which runs at most once a second
// (net/core/link_watch.c), so right after a link goes up it is commonly
// "down" for up to a second with the carrier already there and the queues
// already active. Waiting for it cost ~0.9 s of every QEMU boot. A dormant
// link (for example waiting for 802.1X) has no carrier in this sense.
func (l Link) Carrier() bool {
	return l.Flags&unix.IFF_LOWER_UP != 0 &&
		(l.OperState == ifOperUp || l.OperState == ifOperUnknown || l.OperState == ifOperDown)
}

// LinkByName returns the link called name. If there is none the error wraps
// unix.ENODEV.
func (h *Handle) LinkByName(name string) (Link, error) {
	req, err := getLinkRequest(0, name)
	if err != nil {
		return Link{}, fmt.Errorf("look up link %q: %w", name, err)
	}
	l, err := h.getLink(req)
	if err != nil {
		return Link{}, fmt.Errorf("look up link %q: %w", name, err)
	}
	return l, nil
}

// LinkByIndex returns the link with the given index. If there is none the
// error wraps unix.ENODEV.
func (h *Handle) LinkByIndex(index int32) (Link, error) {
	req, err := getLinkRequest(index, "")
	if err != nil {
		return Link{}, fmt.Errorf("look up link %d: %w", index, err)
	}
	l, err := h.getLink(req)
	if err != nil {
		return Link{}, fmt.Errorf("look up link %d: %w", index, err)
	}
	return l, nil
}

// getLink runs an RTM_GETLINK request for one link.
func (h *Handle) getLink(req nl.Message) (Link, error) {
	msgs, err := h.c.Execute(req, "RTM_GETLINK")
	if err != nil {
		return Link{}, err
	}
	if len(msgs) != 1 || msgs[0].Type != unix.RTM_NEWLINK {
		return Link{}, fmt.Errorf("unexpected reply: %d messages, first of type %d", len(msgs), firstType(msgs))
	}
	return parseLink(msgs[0])
}

// Links returns every link.
func (h *Handle) Links() ([]Link, error) {
	req, err := dumpLinksRequest()
	if err != nil {
		return nil, fmt.Errorf("list links: %w", err)
	}
	msgs, err := h.c.ExecuteDump(req, "RTM_GETLINK")
	if err != nil {
		return nil, fmt.Errorf("list links: %w", err)
	}
	links := make([]Link, 0, len(msgs))
	for _, m := range msgs {
		if m.Type != unix.RTM_NEWLINK {
			continue
		}
		l, err := parseLink(m)
		if err != nil {
			return nil, fmt.Errorf("list links: %w", err)
		}
		links = append(links, l)
	}
	return links, nil
}

// LinkOption configures a link that CreateLink creates.
type LinkOption func(*linkOptions)

// linkOptions collects the LinkOptions of one CreateLink.
type linkOptions struct {
	peer string
}

// VethPeer names the other end of a veth pair; without it the kernel picks
// a name such as "veth0".
func VethPeer(name string) LinkOption {
	return func(o *linkOptions) { o.peer = name }
}

// CreateLink creates a link of the given kind ("wireguard", "veth",
// "dummy", ...) called name and returns it. It fails with an error
// wrapping unix.EEXIST if a link with that name exists, and with one
// wrapping unix.EOPNOTSUPP ("Unknown device type") if the kernel lacks the
// driver for kind.
func (h *Handle) CreateLink(name, kind string, opts ...LinkOption) (Link, error) {
	var o linkOptions
	for _, opt := range opts {
		opt(&o)
	}
	req, err := createLinkRequest(name, kind, o)
	if err != nil {
		return Link{}, fmt.Errorf("create %s link %q: %w", kind, name, err)
	}
	if err := h.ack(req, "RTM_NEWLINK"); err != nil {
		if errors.Is(err, unix.EOPNOTSUPP) {
			return Link{}, fmt.Errorf("create %s link %q (is its kernel module loaded?): %w", kind, name, err)
		}
		return Link{}, fmt.Errorf("create %s link %q: %w", kind, name, err)
	}
	// The ACK carries no index. NLM_F_ECHO would return the new link, but
	// only recent kernels honour it for RTM_NEWLINK.
	l, err := h.LinkByName(name)
	if err != nil {
		return Link{}, fmt.Errorf("create %s link %q: %w", kind, name, err)
	}
	return l, nil
}

// DeleteLink deletes the link with the given index (for a veth, both ends).
func (h *Handle) DeleteLink(index int32) error {
	req, err := deleteLinkRequest(index)
	if err == nil {
		err = h.ack(req, "RTM_DELLINK")
	}
	if err != nil {
		return fmt.Errorf("delete link %d: %w", index, err)
	}
	return nil
}

// SetLinkUp sets the link administratively up or down. Only IFF_UP changes
// (ifi_change), unlike SIOCSIFFLAGS which writes back every flag.
func (h *Handle) SetLinkUp(index int32, up bool) error {
	state := "down"
	if up {
		state = "up"
	}
	req, err := setLinkUpRequest(index, up)
	if err == nil {
		err = h.ack(req, "RTM_NEWLINK")
	}
	if err != nil {
		return fmt.Errorf("set link %d %s: %w", index, state, err)
	}
	return nil
}

// SetMTU sets the link's MTU. The kernel checks it against the driver's
// limits and says which in the error. Lowering a link's MTU below 1280
// removes IPv6, and its IPv6 addresses, from the link.
func (h *Handle) SetMTU(index int32, mtu int) error {
	req, err := setMTURequest(index, mtu)
	if err == nil {
		err = h.ack(req, "RTM_NEWLINK")
	}
	if err != nil {
		return fmt.Errorf("set mtu %d on link %d: %w", mtu, index, err)
	}
	return nil
}

// RenameLink renames the link. Older kernels refuse (EBUSY) while the link
// is up, so rename links that are down.
func (h *Handle) RenameLink(index int32, name string) error {
	req, err := renameLinkRequest(index, name)
	if err == nil {
		err = h.ack(req, "RTM_NEWLINK")
	}
	if err != nil {
		return fmt.Errorf("rename link %d to %q: %w", index, name, err)
	}
	return nil
}

// EnsureWireGuardLink returns the wireguard link called name, creating it if
// there is none; created says which. An existing link of another kind is an
// error. Whether an existing wireguard link is reused or replaced is the
// caller's decision.
//
// It creates first and looks up only when the kernel says the name is
// taken (NLM_F_EXCL: EEXIST, nothing changed): at boot there is no link
// yet, and a lookup that could only answer ENODEV was a round trip for
// nothing.
func (h *Handle) EnsureWireGuardLink(name string) (l Link, created bool, err error) {
	const kind = "wireguard"
	// Two rounds: the second covers a link deleted by someone else between
	// our create and our lookup.
	for range 2 {
		l, err = h.CreateLink(name, kind)
		if err == nil {
			return l, true, nil
		}
		if !errors.Is(err, unix.EEXIST) {
			return Link{}, false, fmt.Errorf("ensure wireguard link: %w", err)
		}
		l, err = h.LinkByName(name)
		switch {
		case err == nil:
			if l.Kind != kind {
				return Link{}, false, fmt.Errorf("ensure wireguard link %q: link exists with kind %q (index %d)", name, l.Kind, l.Index)
			}
			return l, false, nil
		case !errors.Is(err, unix.ENODEV):
			return Link{}, false, fmt.Errorf("ensure wireguard link: %w", err)
		}
	}
	return Link{}, false, fmt.Errorf("ensure wireguard link: %w", err)
}

// ifinfomsg encodes a struct ifinfomsg (family AF_UNSPEC, type 0).
//
//	struct ifinfomsg {	/* include/uapi/linux/rtnetlink.h */
//		unsigned char	ifi_family;
//		unsigned char	__ifi_pad;
//		unsigned short	ifi_type;		/* ARPHRD_* */
//		int		ifi_index;		/* Link index	*/
//		unsigned	ifi_flags;		/* IFF_* flags	*/
//		unsigned	ifi_change;		/* IFF_* change mask */
//	};
func ifinfomsg(index int32, flags, change uint32) []byte {
	b := make([]byte, unix.SizeofIfInfomsg)
	binary.NativeEndian.PutUint32(b[4:8], uint32(index))
	binary.NativeEndian.PutUint32(b[8:12], flags)
	binary.NativeEndian.PutUint32(b[12:16], change)
	return b
}

// checkIndex rejects interface indexes the kernel never assigns.
func checkIndex(index int32) error {
	if index <= 0 {
		return fmt.Errorf("invalid interface index %d", index)
	}
	return nil
}

// getLinkRequest builds RTM_GETLINK for one link, by index if it is not 0,
// else by name. Statistics are skipped: they are most of the reply.
func getLinkRequest(index int32, name string) (nl.Message, error) {
	var ae nl.AttrEncoder
	ae.Uint32(unix.IFLA_EXT_MASK, rtextFilterSkipStats)
	if index == 0 {
		if err := ValidateLinkName(name); err != nil {
			return nl.Message{}, err
		}
		ae.String(unix.IFLA_IFNAME, name)
	} else if err := checkIndex(index); err != nil {
		return nl.Message{}, err
	}
	return message(unix.RTM_GETLINK, flagsGet, ifinfomsg(index, 0, 0), &ae)
}

// dumpLinksRequest builds the RTM_GETLINK dump of all links.
func dumpLinksRequest() (nl.Message, error) {
	var ae nl.AttrEncoder
	ae.Uint32(unix.IFLA_EXT_MASK, rtextFilterSkipStats)
	return message(unix.RTM_GETLINK, flagsDump, ifinfomsg(0, 0, 0), &ae)
}

// createLinkRequest builds RTM_NEWLINK creating a link of kind. IFLA_LINKINFO
// and IFLA_INFO_DATA carry NLA_F_NESTED. VETH_INFO_PEER does not: it is a
// struct ifinfomsg followed by attributes, not a plain nest.
func createLinkRequest(name, kind string, o linkOptions) (nl.Message, error) {
	if err := ValidateLinkName(name); err != nil {
		return nl.Message{}, err
	}
	if kind == "" || strings.IndexByte(kind, 0) >= 0 {
		return nl.Message{}, fmt.Errorf("invalid link kind %q", kind)
	}
	var peer []byte
	if o.peer != "" {
		if kind != "veth" {
			return nl.Message{}, fmt.Errorf("a peer name is only for veth links, not %q", kind)
		}
		if err := ValidateLinkName(o.peer); err != nil {
			return nl.Message{}, fmt.Errorf("veth peer: %w", err)
		}
		var pe nl.AttrEncoder
		pe.String(unix.IFLA_IFNAME, o.peer)
		var err error
		if peer, err = nl.Payload(ifinfomsg(0, 0, 0), &pe); err != nil {
			return nl.Message{}, err
		}
	}
	var ae nl.AttrEncoder
	ae.String(unix.IFLA_IFNAME, name)
	ae.Nested(unix.IFLA_LINKINFO, func(li *nl.AttrEncoder) error {
		// Without the NUL, as iproute2 and the kernel's own users send
		// it; IFLA_INFO_KIND is an NLA_STRING, which takes both.
		li.Bytes(unix.IFLA_INFO_KIND, []byte(kind))
		if peer != nil {
			li.Nested(unix.IFLA_INFO_DATA, func(data *nl.AttrEncoder) error {
				data.Bytes(vethInfoPeer, peer)
				return nil
			})
		}
		return nil
	})
	return message(unix.RTM_NEWLINK, flagsCreate, ifinfomsg(0, 0, 0), &ae)
}

// deleteLinkRequest builds RTM_DELLINK by index.
func deleteLinkRequest(index int32) (nl.Message, error) {
	if err := checkIndex(index); err != nil {
		return nl.Message{}, err
	}
	return message(unix.RTM_DELLINK, flagsAck, ifinfomsg(index, 0, 0), nil)
}

// setLinkUpRequest builds RTM_NEWLINK changing only IFF_UP.
func setLinkUpRequest(index int32, up bool) (nl.Message, error) {
	if err := checkIndex(index); err != nil {
		return nl.Message{}, err
	}
	var flags uint32
	if up {
		flags = unix.IFF_UP
	}
	return message(unix.RTM_NEWLINK, flagsAck, ifinfomsg(index, flags, unix.IFF_UP), nil)
}

// setMTURequest builds RTM_NEWLINK with IFLA_MTU.
func setMTURequest(index int32, mtu int) (nl.Message, error) {
	if err := checkIndex(index); err != nil {
		return nl.Message{}, err
	}
	if mtu <= 0 || mtu > math.MaxInt32 {
		return nl.Message{}, fmt.Errorf("invalid mtu %d", mtu)
	}
	var ae nl.AttrEncoder
	ae.Uint32(unix.IFLA_MTU, uint32(mtu))
	return message(unix.RTM_NEWLINK, flagsAck, ifinfomsg(index, 0, 0), &ae)
}

// renameLinkRequest builds RTM_NEWLINK with a new IFLA_IFNAME.
func renameLinkRequest(index int32, name string) (nl.Message, error) {
	if err := checkIndex(index); err != nil {
		return nl.Message{}, err
	}
	if err := ValidateLinkName(name); err != nil {
		return nl.Message{}, err
	}
	var ae nl.AttrEncoder
	ae.String(unix.IFLA_IFNAME, name)
	return message(unix.RTM_NEWLINK, flagsAck, ifinfomsg(index, 0, 0), &ae)
}

// parseLink decodes an RTM_NEWLINK (or RTM_DELLINK) message.
func parseLink(m nl.Message) (Link, error) {
	fixed, attrs, err := nl.SplitPayload(m.Data, unix.SizeofIfInfomsg)
	if err != nil {
		return Link{}, fmt.Errorf("link message: %w", err)
	}
	l := Link{
		Type:  binary.NativeEndian.Uint16(fixed[2:4]),
		Index: int32(binary.NativeEndian.Uint32(fixed[4:8])),
		Flags: binary.NativeEndian.Uint32(fixed[8:12]),
	}
	ad := nl.NewAttrDecoder(attrs)
	for ad.Next() {
		switch ad.Type() {
		case unix.IFLA_IFNAME:
			l.Name = ad.String()
		case unix.IFLA_MTU:
			l.MTU = ad.Uint32()
		case unix.IFLA_OPERSTATE:
			l.OperState = ad.Uint8()
		case unix.IFLA_ADDRESS:
			// Other lengths (InfiniBand's 20, none at all) are not
			// Ethernet addresses: MAC stays zero.
			if b := ad.Bytes(); len(b) == len(l.MAC) {
				l.MAC = [6]byte(b)
			}
		case unix.IFLA_LINKINFO:
			ad.Nested(func(li *nl.AttrDecoder) error {
				for li.Next() {
					if li.Type() == unix.IFLA_INFO_KIND {
						l.Kind = li.String()
					}
				}
				return nil
			})
		}
	}
	if err := ad.Err(); err != nil {
		return Link{}, fmt.Errorf("link %d: %w", l.Index, err)
	}
	return l, nil
}

// firstType returns the type of the first message, for error text.
func firstType(msgs []nl.Message) uint16 {
	if len(msgs) == 0 {
		return 0
	}
	return msgs[0].Type
}
