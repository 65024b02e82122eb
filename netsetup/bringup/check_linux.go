package bringup

import (
	"fmt"
	"net/netip"
	"slices"

	"golang.org/x/sys/unix"

	"github.com/wgboot/wgboot/board"
	"github.com/wgboot/wgboot/internal/errcap"
	"github.com/wgboot/wgboot/netsetup"
	"github.com/wgboot/wgboot/netsetup/wg"
)

// Check compares the kernel's state with what TunnelUp makes of t: the
// link up with its MTU and addresses, a route per allowed IP in the
// tunnel's table, the policy rules, and the device's peers with their
// endpoints (but for peers with fallbacks or a host name, which may be at
// any of their candidates), keepalives and allowed IPs. Keys are not
// compared (t may come from a profile whose key files were not read),
// except the peers' public keys. It is the check of a next stage that wants to know that the tunnel
// it inherited is the one the profile describes.
func (n *Net) Check(t *board.Tunnel) error {
	var errs errcap.List
	l, err := n.RT.LinkByName(t.Name)
	if err != nil {
		return fmt.Errorf("tunnel %s: %w", t.Name, err)
	}
	if !l.Up() {
		errs.Add(fmt.Errorf("tunnel %s: link is down", t.Name))
	}
	if t.MTU != 0 && int(l.MTU) != t.MTU {
		errs.Add(fmt.Errorf("tunnel %s: mtu %d, want %d", t.Name, l.MTU, t.MTU))
	}
	addrs, err := n.RT.Addresses(l.Index)
	if err != nil {
		return fmt.Errorf("tunnel %s: %w", t.Name, err)
	}
	for _, want := range t.Address {
		if !slices.ContainsFunc(addrs, func(a netsetup.Address) bool { return a.Prefix == want }) {
			errs.Add(fmt.Errorf("tunnel %s: address %s missing", t.Name, want))
		}
	}
	if want := Routes(t); len(want) > 0 {
		routes, err := n.RT.Routes(unix.AF_UNSPEC, uint32(t.Table))
		if err != nil {
			return fmt.Errorf("tunnel %s: %w", t.Name, err)
		}
		have := make(map[netip.Prefix]bool, len(routes))
		for _, r := range routes {
			if r.OIF == l.Index {
				have[r.Dst] = true
			}
		}
		for _, p := range want {
			if !have[p.Masked()] {
				errs.Add(fmt.Errorf("tunnel %s: no route to %s in table %d", t.Name, p.Masked(), t.Table))
			}
		}
	}
	for _, want := range Rules(t) {
		ok, err := n.RT.HasRule(want)
		if err != nil {
			return fmt.Errorf("tunnel %s: %w", t.Name, err)
		}
		if !ok {
			errs.Add(fmt.Errorf("tunnel %s: rule %v missing", t.Name, want))
		}
	}
	dev, err := n.WG.Device(t.Name)
	if err != nil {
		return fmt.Errorf("tunnel %s: %w", t.Name, err)
	}
	want := checkExpectation(t)
	if err := wg.Verify(want, dev); err != nil {
		errs.Add(fmt.Errorf("tunnel %s: %w", t.Name, err))
	}
	return errs.Err()
}

// checkExpectation is what Check wants of t's device. A peer with
// fallbacks or a host name ends up at whichever candidate answered (the
// state file says which): its endpoint is not the profile's to check.
func checkExpectation(t *board.Tunnel) wg.Config {
	want := expectation(DeviceConfig(t))
	for i := range t.Peers {
		if len(t.Peers[i].EndpointList()) > 1 || t.Peers[i].HasHost() {
			want.Peers[i].Endpoint = netip.AddrPort{}
		}
	}
	return want
}
