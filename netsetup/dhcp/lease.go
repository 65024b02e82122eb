package dhcp

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv4"

	"github.com/wgboot/wgboot/netsetup"
)

// Infinite is the lease time 0xffffffff (RFC 2132 section 9.2): the
// address never expires. It is the kernel's permanent lifetime too
// (INFINITY_LIFE_TIME).
const Infinite = netsetup.Forever

// MinMTU is the smallest MTU option 26 may carry (RFC 2132 section 5.1).
const MinMTU = 68

// Lease is what a DHCPACK gave: the parts wgboot applies and hands on.
type Lease struct {
	// Address is the leased address (yiaddr) with the subnet mask's
	// length (option 1), or the address class's when the mask is
	// missing or malformed.
	Address netip.Prefix
	// ServerID is the server identifier (option 54): where a renewal
	// goes. Zero when the server sent none.
	ServerID netip.Addr
	// Router is the first usable router of option 3, zero if none. It is
	// the default gateway only when the lease has no classless static
	// routes (see Routes).
	Router netip.Addr
	// Routes are the classless static routes (option 121, RFC 3442), in
	// the server's order. When the option is present and well formed,
	// they replace option 3 entirely, the default route included.
	Routes []Route
	// StaticRoutes reports that option 121 was present and well formed,
	// even if it held no usable route.
	StaticRoutes bool
	// DNS are the name servers (option 6), without duplicates.
	DNS []netip.Addr
	// MTU is the interface MTU (option 26), 0 if absent or below MinMTU.
	MTU int
	// LeaseTime is the lease's duration (option 51), Infinite if the
	// server said so or sent none. Renew (T1, option 58) and Rebind (T2,
	// option 59) default to 1/2 and 7/8 of it (RFC 2131 section 4.4.5).
	LeaseTime, Renew, Rebind time.Duration
	// Obtained is when the ACK arrived, on the clock the caller passed.
	Obtained time.Time
	// Notes say what was missing, malformed or unusable in the ACK and
	// what was done instead, one sentence each.
	Notes []string
}

// Route is one classless static route.
type Route struct {
	Dst netip.Prefix // masked
	// Gateway is the next hop; zero for a destination on the link
	// (router 0.0.0.0 in option 121).
	Gateway netip.Addr
}

func (r Route) String() string {
	if !r.Gateway.IsValid() {
		return r.Dst.String() + " on-link"
	}
	return r.Dst.String() + " via " + r.Gateway.String()
}

// ErrNotACK is returned by FromACK for a message that is not a DHCPACK.
var ErrNotACK = errors.New("not a DHCPACK")

// FromACK reads a lease from a DHCPACK received at obtained. It fails only
// when the ACK has no usable address or a lease time of zero; every other
// missing or malformed option gets its default or is left out, with a
// note.
func FromACK(ack *dhcpv4.DHCPv4, obtained time.Time) (*Lease, error) {
	if ack == nil || ack.MessageType() != dhcpv4.MessageTypeAck {
		return nil, ErrNotACK
	}
	l := &Lease{Obtained: obtained}
	addr, ok := addr4(ack.YourIPAddr)
	if !ok || !usableHost(addr) {
		return nil, fmt.Errorf("leased address %v is not a usable host address", ack.YourIPAddr)
	}
	l.Address = netip.PrefixFrom(addr, l.prefixLen(ack, addr))
	if err := checkHost(l.Address); err != nil {
		return nil, err
	}
	if v := ack.Options.Get(dhcpv4.OptionServerIdentifier); v != nil {
		if id, ok := addr4(v); ok && usableHost(id) {
			l.ServerID = id
		} else {
			l.note("server identifier (option 54) %x is not a usable address: ignored", v)
		}
	} else {
		l.note("no server identifier (option 54): a renewal must be broadcast")
	}
	for _, r := range l.ips(ack, dhcpv4.OptionRouter, "router (option 3)") {
		if l.gatewayOK(r, "router (option 3)") {
			l.Router = r
			break
		}
	}
	l.staticRoutes(ack)
	for _, a := range l.ips(ack, dhcpv4.OptionDomainNameServer, "name server (option 6)") {
		switch {
		case !usableHost(a):
			l.note("name server (option 6) %s is not a usable address: ignored", a)
		case !contains(l.DNS, a):
			l.DNS = append(l.DNS, a)
		}
	}
	if v := ack.Options.Get(dhcpv4.OptionInterfaceMTU); v != nil {
		mtu, err := dhcpv4.GetUint16(dhcpv4.OptionInterfaceMTU, ack.Options)
		switch {
		case err != nil:
			l.note("interface MTU (option 26) of %d bytes is malformed: ignored", len(v))
		case int(mtu) < MinMTU:
			l.note("interface MTU (option 26) %d is below %d: ignored", mtu, MinMTU)
		default:
			l.MTU = int(mtu)
		}
	}
	if err := l.times(ack); err != nil {
		return nil, err
	}
	return l, nil
}

func (l *Lease) note(format string, args ...any) {
	l.Notes = append(l.Notes, fmt.Sprintf(format, args...))
}

// prefixLen is the subnet mask's length, or the class's (A /8, B /16,
// C /24) when the mask is missing, not contiguous or /0, as dhcpcd and
// systemd-networkd do.
func (l *Lease) prefixLen(ack *dhcpv4.DHCPv4, a netip.Addr) int {
	v := ack.Options.Get(dhcpv4.OptionSubnetMask)
	if v != nil {
		ones, bits := net.IPMask(v).Size()
		if bits == 32 && ones > 0 {
			return ones
		}
	}
	b := a.As4()[0]
	n := 24
	switch {
	case b < 128:
		n = 8
	case b < 192:
		n = 16
	}
	if v == nil {
		l.note("no subnet mask (option 1): /%d from the address class", n)
	} else {
		l.note("subnet mask (option 1) %x is not a mask: /%d from the address class", v, n)
	}
	return n
}

// checkHost rejects a leased address that is its subnet's network or
// broadcast address (meaningful from /30 down).
func checkHost(p netip.Prefix) error {
	if p.Bits() > 30 {
		return nil
	}
	a := p.Addr().As4()
	host := uint32(a[0])<<24 | uint32(a[1])<<16 | uint32(a[2])<<8 | uint32(a[3])
	mask := ^uint32(0) >> p.Bits()
	switch host & mask {
	case 0:
		return fmt.Errorf("leased address %s is its subnet's network address", p)
	case mask:
		return fmt.Errorf("leased address %s is its subnet's broadcast address", p)
	}
	return nil
}

// ips decodes a list-of-addresses option; nil, with a note, if malformed.
func (l *Lease) ips(ack *dhcpv4.DHCPv4, code dhcpv4.OptionCode, what string) []netip.Addr {
	v := ack.Options.Get(code)
	if v == nil {
		return nil
	}
	var ips dhcpv4.IPs
	if err := ips.FromBytes(v); err != nil {
		l.note("%s of %d bytes is malformed: ignored", what, len(v))
		return nil
	}
	out := make([]netip.Addr, 0, len(ips))
	for _, ip := range ips {
		if a, ok := addr4(ip); ok {
			out = append(out, a)
		}
	}
	return out
}

// gatewayOK reports whether a can be a next hop, with a note if not.
func (l *Lease) gatewayOK(a netip.Addr, what string) bool {
	switch {
	case !usableHost(a):
		l.note("%s %s is not a usable gateway: ignored", what, a)
	case a == l.Address.Addr():
		l.note("%s %s is the leased address itself: ignored", what, a)
	default:
		return true
	}
	return false
}

// staticRoutes reads option 121. A malformed option is ignored as a whole,
// and option 3 applies as if it were absent: half a route table is worse
// than the router the server also named.
func (l *Lease) staticRoutes(ack *dhcpv4.DHCPv4) {
	v := ack.Options.Get(dhcpv4.OptionClasslessStaticRoute)
	if v == nil {
		return
	}
	var routes dhcpv4.Routes
	err := routes.FromBytes(v)
	if err == nil && len(routes) == 0 {
		err = errors.New("no route")
	}
	if err != nil {
		l.note("classless static routes (option 121) malformed (%v): ignored, the router option applies", err)
		return
	}
	l.StaticRoutes = true
	for _, r := range routes {
		dst, ok := addr4(r.Dest.IP)
		ones, _ := r.Dest.Mask.Size()
		if !ok {
			continue // FromBytes always gives 4 bytes
		}
		p := netip.PrefixFrom(dst, ones)
		if p.Masked() != p {
			l.note("classless static route to %s has host bits set: used as %s", p, p.Masked())
			p = p.Masked()
		}
		gw, _ := addr4(r.Router)
		rt := Route{Dst: p}
		if !gw.IsUnspecified() {
			if !l.gatewayOK(gw, "classless static route to "+p.String()+": gateway") {
				continue
			}
			rt.Gateway = gw
		}
		l.Routes = append(l.Routes, rt)
	}
}

// times reads the lease time and T1, T2. A missing lease time means an
// infinite lease, as dhcpcd takes it; zero is no lease at all.
func (l *Lease) times(ack *dhcpv4.DHCPv4) error {
	l.LeaseTime = Infinite
	switch d, err := duration(ack, dhcpv4.OptionIPAddressLeaseTime); {
	case err != nil:
		l.note("lease time (option 51) %v: taken as infinite", err)
	case d < 0:
		l.note("no lease time (option 51): taken as infinite")
	case d == 0:
		return errors.New("lease time (option 51) is 0")
	default:
		l.LeaseTime = d
	}
	if l.LeaseTime == Infinite {
		l.Renew, l.Rebind = Infinite, Infinite
		return nil
	}
	t1, err1 := duration(ack, dhcpv4.OptionRenewTimeValue)
	t2, err2 := duration(ack, dhcpv4.OptionRebindingTimeValue)
	def1, def2 := l.LeaseTime/2, l.LeaseTime/8*7
	switch {
	case err1 != nil || err2 != nil:
		l.note("renewal (option 58) or rebinding (option 59) time malformed: 1/2 and 7/8 of the lease time")
		t1, t2 = def1, def2
	case t1 < 0 && t2 < 0:
		t1, t2 = def1, def2
	case t1 < 0:
		t1 = min(def1, t2)
	case t2 < 0:
		t2 = max(def2, t1)
	}
	if t1 <= 0 || t1 > t2 || t2 >= l.LeaseTime {
		l.note("renewal %v and rebinding %v times do not fit the lease time %v: 1/2 and 7/8 of it", t1, t2, l.LeaseTime)
		t1, t2 = def1, def2
	}
	l.Renew, l.Rebind = t1, t2
	return nil
}

// duration reads a 32-bit seconds option: -1 if absent.
func duration(ack *dhcpv4.DHCPv4, code dhcpv4.OptionCode) (time.Duration, error) {
	v := ack.Options.Get(code)
	if v == nil {
		return -1, nil
	}
	var d dhcpv4.Duration
	if err := d.FromBytes(v); err != nil {
		return 0, fmt.Errorf("of %d bytes is malformed", len(v))
	}
	return time.Duration(d), nil
}

// addr4 converts a 4-byte (or IPv4-in-IPv6 16-byte) address.
func addr4(ip []byte) (netip.Addr, bool) {
	if v4 := net.IP(ip).To4(); v4 != nil {
		return netip.AddrFrom4([4]byte(v4)), true
	}
	return netip.Addr{}, false
}

// usableHost reports whether a can be a host's unicast address: not
// 0.0.0.0/8, loopback, multicast, or the limited broadcast address.
func usableHost(a netip.Addr) bool {
	if !a.Is4() {
		return false
	}
	return a.As4()[0] != 0 && !a.IsLoopback() && !a.IsMulticast() && a != netip.AddrFrom4([4]byte{255, 255, 255, 255})
}

func contains(as []netip.Addr, a netip.Addr) bool {
	for _, x := range as {
		if x == a {
			return true
		}
	}
	return false
}
