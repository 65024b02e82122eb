package dhcp

import (
	"net/netip"
	"strconv"
	"time"

	"golang.org/x/sys/unix"

	"github.com/wgboot/wgboot/netsetup"
)

// Plan is a lease as kernel state, in the order it is applied.
type Plan struct {
	// Address is the leased address with its prefix length.
	Address netip.Prefix
	// Valid and Preferred are the address's lifetimes (IFA_CACHEINFO),
	// what is left of the lease when the plan is made; Infinite for a
	// permanent address. The kernel removes the address when Valid runs
	// out, unless the next stage renews the lease first.
	Valid, Preferred time.Duration
	// Routes go into the main table with protocol "dhcp", in order: a
	// host route to each gateway outside the leased subnet comes before
	// the routes through it.
	Routes []netsetup.Route
	// MTU is the link MTU to set; 0 leaves the link's.
	MTU int
	// Notes say what of the lease the plan leaves out, and why.
	Notes []string
}

// IPv6MinMTU is IPv6's minimum link MTU: the kernel disables IPv6 on a
// link whose MTU is set below it.
const IPv6MinMTU = 1280

// Plan turns the lease into kernel state for the link with the given
// index, at now: the address, then the routes — option 121's if the lease
// has them (RFC 3442: the router option is then ignored), else a default
// route through option 3's router — and the MTU. keepIPv6 refuses an MTU
// below 1280, which would take IPv6 off the link.
func (l *Lease) Plan(index int32, now time.Time, keepIPv6 bool) Plan {
	p := Plan{Address: l.Address, Valid: Infinite, Preferred: Infinite}
	if l.LeaseTime != Infinite {
		left := l.LeaseTime - now.Sub(l.Obtained)
		left = left.Truncate(time.Second)
		if left < time.Second {
			left = time.Second
		}
		p.Valid, p.Preferred = left, left
	}
	var reached []netip.Addr
	via := func(dst netip.Prefix, gw netip.Addr) {
		if gw.IsValid() && !l.Address.Contains(gw) && !contains(reached, gw) {
			// The gateway is not on the leased subnet (a /32 lease,
			// or a server that says so): make it reachable on the
			// link first, as dhcpcd and systemd-networkd do.
			reached = append(reached, gw)
			p.Routes = append(p.Routes, route(index, netip.PrefixFrom(gw, 32), netip.Addr{}))
		}
		p.Routes = append(p.Routes, route(index, dst, gw))
	}
	switch {
	case l.StaticRoutes:
		if l.Router.IsValid() {
			p.Notes = append(p.Notes, "router (option 3) "+l.Router.String()+" ignored: the lease has classless static routes (option 121)")
		}
		for _, r := range l.Routes {
			via(r.Dst, r.Gateway)
		}
	case l.Router.IsValid():
		via(netip.PrefixFrom(netip.IPv4Unspecified(), 0), l.Router)
	}
	switch {
	case l.MTU == 0:
	case keepIPv6 && l.MTU < IPv6MinMTU:
		p.Notes = append(p.Notes, "interface MTU (option 26) "+strconv.Itoa(l.MTU)+" ignored: below 1280, it would disable IPv6 on the uplink")
	default:
		p.MTU = l.MTU
	}
	return p
}

func route(index int32, dst netip.Prefix, gw netip.Addr) netsetup.Route {
	return netsetup.Route{Dst: dst, Gateway: gw, OIF: index, Protocol: unix.RTPROT_DHCP}
}
