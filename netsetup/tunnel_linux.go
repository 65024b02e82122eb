package netsetup

import (
	"errors"
	"fmt"
	"net/netip"

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
// (ReplaceRoute, scope link).
//
// The MTU goes first because the kernel removes IPv6 from a link whose MTU
// drops below 1280; with such an MTU, IPv6 addresses and routes are
// reported as errors without being sent. Address and route failures do not
// stop the others; all errors are joined. A failed lookup, MTU change or
// link-up ends the configuration.
func (h *Handle) ConfigureTunnelLink(t TunnelLink) error {
	l, err := h.LinkByName(t.Name)
	if err != nil {
		return fmt.Errorf("configure tunnel link: %w", err)
	}
	what := "configure tunnel link " + t.Name
	mtu := int(l.MTU)
	if t.MTU != 0 && t.MTU != mtu {
		if err := h.SetMTU(l.Index, t.MTU); err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		mtu = t.MTU
	}
	noIPv6 := func(p netip.Prefix) error {
		if p.Addr().Is6() && !krule.CarriesIPv6(mtu) {
			return fmt.Errorf("%s: %s: the link's mtu %d is below %d, the IPv6 minimum", what, p, mtu, krule.IPv6MinMTU)
		}
		return nil
	}
	var errs []error
	for _, p := range t.Addresses {
		if err := noIPv6(p); err != nil {
			errs = append(errs, err)
			continue
		}
		if err := h.AddAddress(l.Index, p); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", what, err))
		}
	}
	if err := h.SetLinkUp(l.Index, true); err != nil {
		return errors.Join(append(errs, fmt.Errorf("%s: %w", what, err))...)
	}
	for _, p := range t.Routes {
		if err := noIPv6(p); err != nil {
			errs = append(errs, err)
			continue
		}
		r := Route{Dst: p.Masked(), OIF: l.Index, Table: t.Table}
		if err := h.ReplaceRoute(r); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", what, err))
		}
	}
	return errors.Join(errs...)
}
