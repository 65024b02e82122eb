package netsetup

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"net/netip"
	"time"

	"golang.org/x/sys/unix"

	"github.com/wgboot/wgboot/netsetup/internal/nl"
)

// Address is an IP address assigned to a link.
type Address struct {
	// Index is the link's interface index.
	Index int32
	// Prefix is the address with its prefix length, e.g. 10.0.0.2/24.
	Prefix netip.Prefix
	// Scope is the address scope: 0 global, 253 link, 254 host.
	Scope uint8
	// Flags holds IFA_F_* flags, such as IFA_F_TENTATIVE while IPv6
	// duplicate address detection runs, and IFA_F_PERMANENT.
	Flags uint32
	// Valid and Preferred are the lifetimes left (IFA_CACHEINFO), in
	// whole seconds; Forever for a permanent address, or when the kernel
	// did not say.
	Valid, Preferred time.Duration
}

// Forever is the lifetime of a permanent address: the kernel's
// INFINITY_LIFE_TIME, 0xffffffff seconds.
const Forever = time.Duration(math.MaxUint32) * time.Second

// AddressOption changes how AddAddress adds an address.
type AddressOption func(*addrOptions)

// addrOptions collects the AddressOptions of one AddAddress.
type addrOptions struct {
	flags uint8 // ifa_flags
	// valid and preferred, if valid is not 0, go in IFA_CACHEINFO.
	valid, preferred time.Duration
}

// Lifetimes adds the address with a valid and a preferred lifetime
// (IFA_CACHEINFO, `ip addr add … valid_lft V preferred_lft P`), in whole
// seconds, Forever at most: once preferred has passed the kernel stops
// choosing the address as a source, once valid has it removes the address
// and its prefix route. A DHCP lease's address gets what is left of the
// lease, so that it does not outlive the lease unless renewed. valid must
// be at least a second, and preferred not longer.
//
// The lifetimes also apply when the address is already there (AddAddress
// then replaces it, NLM_F_REPLACE, with the same prefix).
func Lifetimes(valid, preferred time.Duration) AddressOption {
	return func(o *addrOptions) { o.valid, o.preferred = valid, preferred }
}

// NoDAD adds an IPv6 address without duplicate address detection
// (IFA_F_NODAD, `ip addr add … nodad`): it is usable at once instead of
// tentative for a second or more, during which the kernel will not send
// from it. Use it where DAD is pointless, such as an uplink whose
// addresses are assigned to this board alone. IPv4 addresses have no DAD;
// the kernel ignores the flag for them.
func NoDAD() AddressOption {
	return func(o *addrOptions) { o.flags |= unix.IFA_F_NODAD }
}

// AddAddress assigns p, a host address with its prefix length such as
// 10.0.0.2/24, to the link. The kernel also adds the prefix route. An IPv6
// address stays tentative while duplicate address detection runs, unless
// added with NoDAD; [Handle.WaitDAD] waits for it.
//
// If the kernel answers EEXIST, AddAddress succeeds only if a dump shows
// exactly p on the link: an IPv6 address with another prefix length is an
// EEXIST too, and is an error.
func (h *Handle) AddAddress(index int32, p netip.Prefix, opts ...AddressOption) error {
	var o addrOptions
	for _, opt := range opts {
		opt(&o)
	}
	req, err := addrRequest(unix.RTM_NEWADDR, flagsCreate, index, p, o)
	if err != nil {
		return fmt.Errorf("add address %s to link %d: %w", p, index, err)
	}
	err = h.ack(req, "RTM_NEWADDR")
	if err == nil {
		return nil
	}
	if !errors.Is(err, unix.EEXIST) {
		return fmt.Errorf("add address %s to link %d: %w", p, index, err)
	}
	addrs, derr := h.Addresses(index)
	if derr != nil {
		return fmt.Errorf("add address %s to link %d: %w (and checking the existing address: %w)", p, index, err, derr)
	}
	var found []string
	for _, a := range addrs {
		if a.Prefix == p && o.valid != 0 {
			// There, but perhaps not with these lifetimes: replace.
			req.Flags = flagsReplace
			if err := h.ack(req, "RTM_NEWADDR"); err != nil {
				return fmt.Errorf("replace address %s on link %d: %w", p, index, err)
			}
			return nil
		}
		if a.Prefix == p {
			// Already in the desired state.
			return nil
		}
		if a.Prefix.Addr() == p.Addr() {
			found = append(found, a.Prefix.String())
		}
	}
	if len(found) > 0 {
		return fmt.Errorf("add address %s to link %d: present as %v: %w", p, index, found, err)
	}
	return fmt.Errorf("add address %s to link %d: %w", p, index, err)
}

// DeleteAddress removes p from the link. If it is not there, the error
// wraps unix.EADDRNOTAVAIL.
func (h *Handle) DeleteAddress(index int32, p netip.Prefix) error {
	req, err := addrRequest(unix.RTM_DELADDR, flagsAck, index, p, addrOptions{})
	if err == nil {
		err = h.ack(req, "RTM_DELADDR")
	}
	if err != nil {
		return fmt.Errorf("delete address %s from link %d: %w", p, index, err)
	}
	return nil
}

// Addresses returns the IPv4 and IPv6 addresses of the link with the given
// index, or of every link if index is 0.
func (h *Handle) Addresses(index int32) ([]Address, error) {
	req, err := dumpAddrsRequest(index)
	if err != nil {
		return nil, fmt.Errorf("list addresses: %w", err)
	}
	msgs, err := h.c.ExecuteDump(req, "RTM_GETADDR")
	if err != nil {
		return nil, fmt.Errorf("list addresses of link %d: %w", index, err)
	}
	var addrs []Address
	for _, m := range msgs {
		if m.Type != unix.RTM_NEWADDR {
			continue
		}
		a, err := parseAddress(m)
		if errors.Is(err, errOtherFamily) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("list addresses of link %d: %w", index, err)
		}
		// Kernels without strict checking ignore the index filter.
		if index == 0 || a.Index == index {
			addrs = append(addrs, a)
		}
	}
	return addrs, nil
}

// errOtherFamily marks a reply of an address family other than IPv4 and
// IPv6, which the listings skip.
var errOtherFamily = errors.New("not an IPv4 or IPv6 message")

// ifaddrmsg encodes a struct ifaddrmsg.
//
//	struct ifaddrmsg {	/* include/uapi/linux/if_addr.h */
//		__u8		ifa_family;
//		__u8		ifa_prefixlen;	/* The prefix length		*/
//		__u8		ifa_flags;	/* Flags			*/
//		__u8		ifa_scope;	/* Address scope		*/
//		__u32		ifa_index;	/* Link index			*/
//	};
func ifaddrmsg(family, prefixLen, flags, scope uint8, index int32) []byte {
	b := []byte{family, prefixLen, flags, scope, 0, 0, 0, 0}
	binary.NativeEndian.PutUint32(b[4:8], uint32(index))
	return b
}

// family returns the address family of a.
func family(a netip.Addr) uint8 {
	if a.Is4() {
		return unix.AF_INET
	}
	return unix.AF_INET6
}

// checkHostPrefix rejects prefixes that cannot be an interface address.
func checkHostPrefix(p netip.Prefix) error {
	switch a := p.Addr(); {
	case !p.IsValid():
		return fmt.Errorf("invalid prefix %s", p)
	case a.IsUnspecified():
		return fmt.Errorf("unspecified address %s", p)
	case a.Is4In6():
		return fmt.Errorf("IPv4-mapped IPv6 address %s: use the IPv4 form", p)
	}
	return nil
}

// addrRequest builds RTM_NEWADDR or RTM_DELADDR for p with IFA_LOCAL and
// IFA_ADDRESS both set to the address, as iproute2 does: for IPv4,
// IFA_ADDRESS is the peer on point-to-point links and equals IFA_LOCAL
// otherwise; for IPv6, IFA_ADDRESS is the address. o's flags go in
// ifa_flags, as iproute2 puts flags that fit in 8 bits (IFA_F_NODAD), and
// its lifetimes in IFA_CACHEINFO.
func addrRequest(typ, flags uint16, index int32, p netip.Prefix, o addrOptions) (nl.Message, error) {
	if err := checkIndex(index); err != nil {
		return nl.Message{}, err
	}
	if err := checkHostPrefix(p); err != nil {
		return nl.Message{}, err
	}
	if o.valid != 0 && (o.valid < time.Second || o.preferred > o.valid || o.preferred < 0) {
		return nl.Message{}, fmt.Errorf("lifetimes valid %v, preferred %v: want valid at least 1s and preferred not longer", o.valid, o.preferred)
	}
	a := p.Addr()
	// iproute2's default_scope: host for 127.0.0.0/8 when adding; the
	// kernel derives IPv6 scopes itself.
	var scope uint8
	if typ == unix.RTM_NEWADDR && a.Is4() && a.As4()[0] == 127 {
		scope = unix.RT_SCOPE_HOST
	}
	var ae nl.AttrEncoder
	ae.Bytes(unix.IFA_LOCAL, a.AsSlice())
	ae.Bytes(unix.IFA_ADDRESS, a.AsSlice())
	if o.valid != 0 {
		ae.Bytes(unix.IFA_CACHEINFO, cacheinfo(o.valid, o.preferred))
	}
	return message(typ, flags, ifaddrmsg(family(a), uint8(p.Bits()), o.flags, scope, index), &ae)
}

// cacheinfo encodes a struct ifa_cacheinfo with the lifetimes; the
// kernel sets the time stamps.
//
//	struct ifa_cacheinfo {	/* include/uapi/linux/if_addr.h */
//		__u32	ifa_prefered;
//		__u32	ifa_valid;
//		__u32	cstamp; /* created timestamp, hundredths of seconds */
//		__u32	tstamp; /* updated timestamp, hundredths of seconds */
//	};
func cacheinfo(valid, preferred time.Duration) []byte {
	b := make([]byte, unix.SizeofIfaCacheinfo)
	binary.NativeEndian.PutUint32(b[0:4], lifetimeSeconds(preferred))
	binary.NativeEndian.PutUint32(b[4:8], lifetimeSeconds(valid))
	return b
}

// lifetimeSeconds is d in whole seconds, Forever at most.
func lifetimeSeconds(d time.Duration) uint32 {
	return uint32(min(d, Forever) / time.Second)
}

// dumpAddrsRequest builds the RTM_GETADDR dump, filtered by link if index
// is not 0 (honoured under NETLINK_GET_STRICT_CHK, Linux 4.20).
func dumpAddrsRequest(index int32) (nl.Message, error) {
	if index < 0 {
		return nl.Message{}, checkIndex(index)
	}
	return message(unix.RTM_GETADDR, flagsDump, ifaddrmsg(unix.AF_UNSPEC, 0, 0, 0, index), nil)
}

// parseAddress decodes an RTM_NEWADDR message. The address is IFA_LOCAL if
// present (IPv4: IFA_ADDRESS may be a point-to-point peer), else
// IFA_ADDRESS. IFA_FLAGS, when present, holds all the flags.
func parseAddress(m nl.Message) (Address, error) {
	fixed, attrs, err := nl.SplitPayload(m.Data, unix.SizeofIfAddrmsg)
	if err != nil {
		return Address{}, fmt.Errorf("address message: %w", err)
	}
	fam, bits := fixed[0], int(fixed[1])
	size := 4
	switch fam {
	case unix.AF_INET:
	case unix.AF_INET6:
		size = 16
	default:
		return Address{}, fmt.Errorf("address family %d: %w", fam, errOtherFamily)
	}
	a := Address{
		Index: int32(binary.NativeEndian.Uint32(fixed[4:8])),
		Scope: fixed[3],
		Flags: uint32(fixed[2]),
		Valid: Forever, Preferred: Forever,
	}
	var local, address netip.Addr
	ad := nl.NewAttrDecoder(attrs)
	for ad.Next() {
		switch ad.Type() {
		case unix.IFA_LOCAL:
			local, err = addrOfSize(ad.Bytes(), size)
		case unix.IFA_ADDRESS:
			address, err = addrOfSize(ad.Bytes(), size)
		case unix.IFA_FLAGS:
			a.Flags = ad.Uint32()
		case unix.IFA_CACHEINFO:
			if b := ad.Bytes(); len(b) == unix.SizeofIfaCacheinfo {
				a.Preferred = time.Duration(binary.NativeEndian.Uint32(b[0:4])) * time.Second
				a.Valid = time.Duration(binary.NativeEndian.Uint32(b[4:8])) * time.Second
			}
		}
		if err != nil {
			return Address{}, fmt.Errorf("address on link %d: %w", a.Index, err)
		}
	}
	if err := ad.Err(); err != nil {
		return Address{}, fmt.Errorf("address on link %d: %w", a.Index, err)
	}
	ip := local
	if !ip.IsValid() {
		ip = address
	}
	if !ip.IsValid() {
		return Address{}, fmt.Errorf("address on link %d: no IFA_LOCAL or IFA_ADDRESS", a.Index)
	}
	if bits > ip.BitLen() {
		return Address{}, fmt.Errorf("address %s on link %d: prefix length %d", ip, a.Index, bits)
	}
	a.Prefix = netip.PrefixFrom(ip, bits)
	return a, nil
}

// addrOfSize decodes an IPv4 (size 4) or IPv6 (size 16) address.
func addrOfSize(b []byte, size int) (netip.Addr, error) {
	if len(b) != size {
		return netip.Addr{}, fmt.Errorf("address of %d bytes, want %d", len(b), size)
	}
	a, _ := netip.AddrFromSlice(b) // length checked above
	return a, nil
}
