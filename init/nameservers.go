package main

import (
	"net/netip"
	"slices"
)

// nameservers are the DNS servers the resolve phase asks for endpoint host
// names, in order and without repeats, on port 53: [uplink] dns. An IPv6
// link-local server is reached through the uplink. The uplink phase's DHCP
// lease (option 6) and the kernel command line's nameserver= add theirs
// here (issue 12, items 1 and 4): this is the one list both read.
func (b *boot) nameservers() []netip.AddrPort {
	var out []netip.AddrPort
	add := func(a netip.Addr) {
		if !a.IsValid() {
			return
		}
		if a.Is6() && a.IsLinkLocalUnicast() && a.Zone() == "" && b.profile.Uplink.Interface != "" {
			a = a.WithZone(b.profile.Uplink.Interface)
		}
		if ap := netip.AddrPortFrom(a, 53); !slices.Contains(out, ap) {
			out = append(out, ap)
		}
	}
	for _, a := range b.profile.Uplink.DNS {
		add(a)
	}
	return out
}
