package main

import (
	"net/netip"
	"slices"
)

// nameservers are the DNS servers the resolve phase asks for endpoint host
// names, on port 53, in the uplink phase's order (b.net.dns: the command
// line's nameserver=, [uplink] dns, the DHCP lease's). An IPv6 link-local
// server is reached through the uplink.
func (b *boot) nameservers() []netip.AddrPort {
	if b.net == nil {
		return nil
	}
	zone := b.profile.Uplink.Interface
	if b.net.uplink != nil && b.net.uplink.Interface != "" {
		zone = b.net.uplink.Interface
	}
	var out []netip.AddrPort
	for _, a := range b.net.dns {
		if !a.IsValid() {
			continue
		}
		if a.Is6() && a.IsLinkLocalUnicast() && a.Zone() == "" && zone != "" {
			a = a.WithZone(zone)
		}
		if ap := netip.AddrPortFrom(a, 53); !slices.Contains(out, ap) {
			out = append(out, ap)
		}
	}
	return out
}
