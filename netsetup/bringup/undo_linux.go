package bringup

import (
	"errors"
	"net/netip"
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
// addresses and default routes and, when up (what [Net.Uplink] returned,
// or nil) has a DHCP lease, the lease's address and routes: another
// profile's uplink may have other addresses, or none from this server.
// The uplink stays up. What is not there is not an error: the bring-up
// may have stopped anywhere.
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
	if u.Interface == "" {
		return errs.Err()
	}
	l, err := n.RT.LinkByName(u.Interface)
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
		n.Log.Infof("undo: uplink %s: addresses and default routes removed", u.Interface)
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
		n.Log.Infof("undo: uplink %s: dhcp lease %s and its routes removed", u.Interface, plan.Address)
	}
	return errs.Err()
}
