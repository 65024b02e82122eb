package bringup

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/wgboot/wgboot/board"
	"github.com/wgboot/wgboot/internal/errcap"
	"github.com/wgboot/wgboot/netsetup"
	"github.com/wgboot/wgboot/netsetup/wg"
)

// Undo removes from the kernel what a bring-up of p did, so that another
// profile can be brought up in its place: each tunnel's wireguard link
// (emptied of its peers first, as a stale link is; its addresses and
// routes go with it), the tunnels' policy rules, and the uplink's static
// addresses and default routes. With up (what [Net.Uplink] returned,
// after an error too, or nil) it also puts back what the uplink changed
// on the link: a DHCP lease's address and routes go, the IPv6 settings
// it set (accept_ra and the others, accept_dad) and the MTU a lease set
// get the values they had; another profile's uplink may have other
// addresses, none from this server, or no router advertisements. With
// accept_ra in p, the addresses the kernel made from router
// advertisements and its default routes from them go too, once the
// settings are back. The uplink stays up. What is not there is not an
// error: the bring-up may have stopped anywhere.
func (n *Net) Undo(p *board.Profile, up *Uplink) error {
	var errs errcap.List
	for i := range p.Tunnels {
		t := &p.Tunnels[i]
		l, err := n.RT.LinkByName(t.Name)
		switch {
		case err == nil && l.Kind == "wireguard":
			if n.WG != nil {
				if err := n.WG.Configure(t.Name, wg.Config{ReplacePeers: true}); err != nil {
					n.Log.Warnf("undo: tunnel %s: empty it: %v", t.Name, err)
				}
			}
			if err := n.RT.DeleteLink(l.Index); err != nil {
				errs.Add(err)
			} else {
				n.Log.Infof("undo: tunnel %s deleted", t.Name)
			}
		case err != nil && !errors.Is(err, unix.ENODEV):
			errs.Add(err)
		}
		for _, r := range Rules(t) {
			if err := n.RT.DeleteRule(r); err != nil && !errors.Is(err, unix.ENOENT) {
				errs.Add(err)
			}
		}
	}
	u := p.Uplink
	name := u.Interface
	if name == "" && up != nil {
		name = up.Interface // found by its mac
	}
	if name == "" {
		return errs.Err()
	}
	l, err := n.RT.LinkByName(name)
	if err != nil {
		if !errors.Is(err, unix.ENODEV) {
			errs.Add(err)
		}
		return errs.Err()
	}
	for _, gw := range u.Gateway {
		dst := netip.PrefixFrom(netip.IPv4Unspecified(), 0)
		if gw.Is6() {
			dst = netip.PrefixFrom(netip.IPv6Unspecified(), 0)
		}
		err := n.RT.DeleteRoute(netsetup.Route{Dst: dst, Gateway: gw, OIF: l.Index})
		if err != nil && !errors.Is(err, unix.ESRCH) {
			errs.Add(err)
		}
	}
	for _, a := range u.Address {
		if err := n.RT.DeleteAddress(l.Index, a); err != nil && !errors.Is(err, unix.EADDRNOTAVAIL) {
			errs.Add(err)
		}
	}
	if len(u.Address) > 0 || len(u.Gateway) > 0 {
		n.Log.Infof("undo: uplink %s: addresses and default routes removed", name)
	}
	if up != nil && up.Lease != nil && up.Index == l.Index {
		// The routes the lease's plan adds, in reverse: a host route to
		// an off-subnet gateway goes after the routes through it.
		plan := up.Lease.Plan(l.Index, time.Now(), false)
		for i := len(plan.Routes) - 1; i >= 0; i-- {
			if err := n.RT.DeleteRoute(plan.Routes[i]); err != nil && !errors.Is(err, unix.ESRCH) {
				errs.Add(err)
			}
		}
		if err := n.RT.DeleteAddress(l.Index, plan.Address); err != nil && !errors.Is(err, unix.EADDRNOTAVAIL) {
			errs.Add(err)
		}
		n.Log.Infof("undo: uplink %s: dhcp lease %s and its routes removed", name, plan.Address)
	}
	if up != nil && up.Interface == name {
		n.restoreUplink(l, up, &errs)
	}
	if u.AcceptRA {
		n.removeRA(l, &errs)
	}
	return errs.Err()
}

// restoreUplink puts back the IPv6 settings and the MTU that the uplink's
// bring-up changed, the settings in the reverse order of their change.
func (n *Net) restoreUplink(l netsetup.Link, up *Uplink, errs *errcap.List) {
	var put []string
	for i := len(up.oldIPv6Conf) - 1; i >= 0; i-- {
		s := up.oldIPv6Conf[i]
		if err := netsetup.SetIPv6Conf(l.Name, s.key, s.value); err != nil {
			errs.Add(fmt.Errorf("undo: uplink %s: %w", l.Name, err))
			continue
		}
		put = append(put, fmt.Sprintf("%s %d", s.key, s.value))
	}
	if len(put) > 0 {
		n.Log.Infof("undo: uplink %s: ipv6 settings back to %s", l.Name, strings.Join(put, ", "))
	}
	if up.oldMTU != 0 && up.Index == l.Index && int(l.MTU) != up.oldMTU {
		if err := n.RT.SetMTU(l.Index, up.oldMTU); err != nil {
			errs.Add(fmt.Errorf("undo: uplink %s: %w", l.Name, err))
		} else {
			n.Log.Infof("undo: uplink %s: mtu back to %d", l.Name, up.oldMTU)
		}
	}
}

// removeRA removes what the kernel configured from router
// advertisements: the link's global IPv6 addresses that are not
// permanent (static addresses are; SLAAC's have the router's lifetimes),
// the on-link routes to their prefixes, and the link's default routes
// with protocol ra.
func (n *Net) removeRA(l netsetup.Link, errs *errcap.List) {
	var gone []string
	var prefixes []netip.Prefix
	addrs, err := n.RT.Addresses(l.Index)
	if err != nil {
		errs.Add(fmt.Errorf("undo: uplink %s: %w", l.Name, err))
	}
	for _, a := range addrs {
		if !a.Prefix.Addr().Is6() || !a.Prefix.Addr().IsGlobalUnicast() || a.Flags&unix.IFA_F_PERMANENT != 0 {
			continue
		}
		if err := n.RT.DeleteAddress(l.Index, a.Prefix); err != nil && !errors.Is(err, unix.EADDRNOTAVAIL) {
			errs.Add(fmt.Errorf("undo: uplink %s: %w", l.Name, err))
			continue
		}
		gone = append(gone, a.Prefix.String())
		prefixes = append(prefixes, a.Prefix.Masked())
	}
	routes, err := n.RT.Routes(unix.AF_INET6, unix.RT_TABLE_MAIN)
	if err != nil {
		errs.Add(fmt.Errorf("undo: uplink %s: %w", l.Name, err))
	}
	for _, r := range routes {
		if r.OIF != l.Index {
			continue
		}
		var what string
		switch {
		case r.Dst.Bits() == 0 && r.Protocol == unix.RTPROT_RA:
			what = "default route via " + r.Gateway.String()
		case slices.Contains(prefixes, r.Dst) && !r.Gateway.IsValid():
			what = "route " + r.Dst.String()
		default:
			continue
		}
		if err := n.RT.DeleteRoute(r); err != nil && !errors.Is(err, unix.ESRCH) {
			errs.Add(fmt.Errorf("undo: uplink %s: %w", l.Name, err))
			continue
		}
		gone = append(gone, what)
	}
	if len(gone) > 0 {
		n.Log.Infof("undo: uplink %s: from router advertisements, removed %s", l.Name, strings.Join(gone, ", "))
	}
}
