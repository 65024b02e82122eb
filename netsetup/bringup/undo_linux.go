package bringup

import (
	"errors"
	"net/netip"

	"golang.org/x/sys/unix"

	"github.com/wgboot/wgboot/board"
	"github.com/wgboot/wgboot/internal/errcap"
	"github.com/wgboot/wgboot/netsetup"
	"github.com/wgboot/wgboot/netsetup/wg"
)

// Undo removes from the kernel what a bring-up of p did, so that another
// profile can be brought up in its place: each tunnel's wireguard link
// (emptied of its peers first, as a stale link is; its addresses and
// routes go with it), the tunnels' policy rules, and the uplink's
// addresses and default routes. The uplink stays up. What is not there is
// not an error: the bring-up may have stopped anywhere.
func (n *Net) Undo(p *board.Profile) error {
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
	return errs.Err()
}
