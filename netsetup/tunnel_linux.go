package netsetup

import (
	"fmt"
	"net/netip"

	"github.com/wgboot/wgboot/internal/errcap"
	"github.com/wgboot/wgboot/internal/krule"
)

// TunnelLink is the IP configuration of a WireGuard link whose keys and
// peers are already set.
type TunnelLink struct {
	// Name is the link's name, such as "wg0".
	Name string
	// MTU is the link's MTU; 0 keeps the current one.
	MTU int
	// Addresses are the tunnel's own addresses, e.g. 10.8.0.2/24.
	Addresses []netip.Prefix
	// Routes are the prefixes routed into the tunnel, normally the peers'
	// allowed IPs; host bits are ignored.
	Routes []netip.Prefix
	// Table is the routing table of Routes; 0 means main. A route to 0.0.0.0/0
	// in the main table replaces the default route of the same metric, the
	// uplink's included: a full tunnel goes in its own table, with rules.
	Table uint32
}

// ConfigureTunnelLink configures an existing link: MTU first, then
// addresses, link up, and one route per prefix through the link
// (ReplaceRoutes, scope link), several routes per write.
//
// The MTU goes first because the kernel removes IPv6 from a link whose MTU
// drops below 1280; with such an MTU, IPv6 addresses and routes are
// reported as errors without being sent. Address and route failures do not
// stop the others; the errors are joined, the first 10 of them, with a
// count of the rest, so that one failure repeated over 10,000 routes
// stays a short message. A failed lookup, MTU change or link-up ends the
// configuration.
func (h *Handle) ConfigureTunnelLink(t TunnelLink) error {
	l, err := h.LinkByName(t.Name)
	if err != nil {
		return fmt.Errorf("configure tunnel link: %w", err)
	}
	return h.ConfigureTunnelLinkOf(l, t)
}

// ConfigureTunnelLinkOf is ConfigureTunnelLink of l, the link called t.Name
// as the caller just read it (EnsureWireGuardLink's): its index and MTU are
// taken from l, without looking the link up again.
func (h *Handle) ConfigureTunnelLinkOf(l Link, t TunnelLink) error {
	what := "configure tunnel link " + t.Name
	mtu := int(l.MTU)
	if t.MTU != 0 && t.MTU != mtu {
		if err := h.SetMTU(l.Index, t.MTU); err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		mtu = t.MTU
	}
	var errs errcap.List
	fail := func(err error) { errs.Add(fmt.Errorf("%s: %w", what, err)) }
	noIPv6 := func(p netip.Prefix) bool {
		if p.Addr().Is6() && !krule.CarriesIPv6(mtu) {
			fail(fmt.Errorf("%s: the link's mtu %d is below %d, the IPv6 minimum", p, mtu, krule.IPv6MinMTU))
			return true
		}
		return false
	}
	for _, p := range t.Addresses {
		if noIPv6(p) {
			continue
		}
		if err := h.AddAddress(l.Index, p); err != nil {
			fail(err)
		}
	}
	if err := h.SetLinkUp(l.Index, true); err != nil {
		fail(err)
		return errs.Err()
	}
	routes := make([]Route, 0, len(t.Routes))
	for _, p := range t.Routes {
		if noIPv6(p) {
			continue
		}
		routes = append(routes, Route{Dst: p.Masked(), OIF: l.Index, Table: t.Table})
	}
	h.replaceRoutes(routes, fail)
	return errs.Err()
}
