package bringup

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"github.com/wgboot/wgboot/board"
	"github.com/wgboot/wgboot/internal/errcap"
	"github.com/wgboot/wgboot/netsetup"
	"github.com/wgboot/wgboot/netsetup/dhcp"
)

// Uplink is what the uplink came up with: for the phases after it and the
// state file.
type Uplink struct {
	Interface string
	Index     int32
	MTU       int
	// Lease is the DHCP lease applied; nil without dhcp, or when none
	// came.
	Lease *dhcp.Lease
	// Router is what router advertisements configured; zero without
	// accept_ra, or when none came.
	Router netsetup.IPv6Router
	// Addresses and Gateways are the link's addresses and the next hops
	// of its default routes in the main table, whatever set them.
	Addresses []netip.Prefix
	Gateways  []netip.Addr
	// Warnings are the methods that failed without failing the uplink
	// (see Net.Uplink).
	Warnings []error

	// What the bring-up changed on the link besides addresses and
	// routes, with the values from before, for Undo: the IPv6 settings
	// in the order they were set, and the MTU before a lease's (0 when
	// no lease set one).
	oldIPv6Conf []ipv6Setting
	oldMTU      int
}

// Uplink brings up the profile's uplink: IPv6 settings, link up, carrier
// (bounded by the profile and ctx), static addresses and default routes,
// and, when needIPv6 (see board.Profile.NeedsIPv6) and the profile has
// static IPv6 addresses, the wait (netsetup's, at most board.DADTimeout:
// board.Uplink.DADWait) until the link's addresses have passed duplicate
// address detection, unless dad = false: a first handshake from a
// tentative address is lost. Without it the
// kernel finishes DAD on its own, and the boot does not wait the second
// or two it takes. Then, at the same time, a DHCPv4 lease (dhcp, bounded
// by dhcp_timeout) and IPv6 by router advertisements (accept_ra, bounded
// by ra_timeout; SLAAC addresses count once usable). A profile without an
// uplink interface leaves the underlay alone and returns nil.
//
// The kernel refusing an address or a route, a missing carrier, a
// duplicate address and an address still tentative after
// board.DADTimeout fail the uplink. No lease or no router within its
// time fails it only when the link is left without a usable global
// address; otherwise the failure is logged, returned in Warnings, and the
// boot goes on over what did come up (a DHCP network without IPv6, or the
// reverse).
//
// A profile that gives the uplink's mac instead of its interface gets the
// link whose permanent address is that (netsetup.LinkByMAC): kernel names
// move between kernels and NICs. An interface name, such as ip='s, wins.
//
// When the uplink fails after it changed the link, the Uplink returned
// with the error holds what it got to, so that Undo can put the link's
// settings back.
func (n *Net) Uplink(ctx context.Context, u board.Uplink, needIPv6 bool) (*Uplink, error) {
	name := u.Interface
	if name == "" && !u.MAC.IsZero() {
		l, err := n.RT.LinkByMAC(u.MAC)
		if err != nil {
			return nil, fmt.Errorf("uplink mac %s: %w", u.MAC, err)
		}
		name = l.Name
		n.Log.Infof("uplink: %s has the address %s", name, u.MAC)
	}
	if name == "" {
		n.Log.Infof("uplink: none in the profile")
		return nil, nil
	}
	res := &Uplink{Interface: name}
	var errs errcap.List
	// Before the link comes up: the kernel solicits routers and starts
	// duplicate address detection when it does.
	if u.AcceptRA {
		for _, s := range []ipv6Setting{{"disable_ipv6", 0}, {"accept_ra", 2}, {"autoconf", 1}, {"accept_ra_defrtr", 1}, {"accept_ra_pinfo", 1}} {
			if err := res.setIPv6Conf(s); err != nil {
				errs.Add(fmt.Errorf("uplink %s: accept_ra: %w", name, err))
			}
		}
	}
	if u.NoDAD {
		if err := res.setIPv6Conf(ipv6Setting{"accept_dad", 0}); err != nil {
			errs.Add(fmt.Errorf("uplink %s: dad = false: %w", name, err))
		}
	}
	if err := errs.Err(); err != nil {
		return res, err
	}
	nu := netsetup.Uplink{
		Interface:      name,
		Addresses:      u.Address,
		Gateways:       u.Gateway,
		CarrierTimeout: u.CarrierTimeout,
		NoDAD:          u.NoDAD,
		DADTimeout:     u.DADWait(needIPv6),
	}
	err := n.RT.BringUpUplink(ctx, nu, n.Log.Infof)
	if err != nil {
		return res, err
	}
	l, err := n.RT.LinkByName(name)
	if err != nil {
		return res, fmt.Errorf("uplink: %w", err)
	}
	res.Index = l.Index

	// Sockets are opened here, on the calling thread, and only the
	// exchanges run elsewhere: a bring-up inside a network namespace (the
	// tests') stays there.
	var cl *dhcp.Client
	if u.DHCP {
		cl, err = dhcp.Open(dhcp.Config{Interface: name, Index: l.Index, HWAddr: net.HardwareAddr(l.MAC[:]), Logf: n.Log.Infof})
		if err != nil {
			return res, err
		}
		defer cl.Close()
	}
	var wg sync.WaitGroup
	var dhcpErr, dhcpSoft, raErr error
	keepIPv6 := u.AcceptRA || slices.ContainsFunc(u.Address, func(p netip.Prefix) bool { return p.Addr().Is6() })
	if cl != nil {
		wg.Go(func() {
			dctx, cancel := context.WithTimeout(ctx, u.DHCPTimeout)
			defer cancel()
			start := time.Now()
			lease, err := cl.Obtain(dctx)
			if err != nil {
				dhcpSoft = err
				return
			}
			n.Log.Infof("uplink %s: dhcp: lease %s from %s for %v (renew %v, rebind %v) after %v", name, lease.Address,
				lease.ServerID, leaseTime(lease.LeaseTime), leaseTime(lease.Renew), leaseTime(lease.Rebind), round(time.Since(start)))
			res.Lease = lease
			var mtuSet bool
			mtuSet, dhcpErr = n.applyLease(l, lease, keepIPv6)
			if mtuSet {
				res.oldMTU = int(l.MTU)
			}
		})
	}
	if u.AcceptRA {
		rctx, cancel := context.WithTimeout(ctx, u.RATimeout)
		start := time.Now()
		r, err := n.RT.WaitIPv6Router(rctx, l.Index)
		cancel()
		if err != nil {
			raErr = fmt.Errorf("uplink %s: accept_ra: no IPv6 router within %v: %w", name, u.RATimeout, err)
		} else {
			res.Router = r
			n.Log.Infof("uplink %s: ipv6: %s, default route via %s after %v", name, joinPrefixes(r.Addresses), r.Gateway, round(time.Since(start)))
		}
	}
	wg.Wait()
	if dhcpErr != nil {
		errs.Add(dhcpErr)
	}
	if err := n.readUplink(res); err != nil {
		errs.Add(fmt.Errorf("uplink %s: %w", name, err))
	}
	for _, soft := range []error{dhcpSoft, raErr} {
		if soft == nil {
			continue
		}
		if len(res.Addresses) == 0 || !hasGlobal(res.Addresses) {
			errs.Add(soft)
			continue
		}
		n.Log.Warnf("%v; going on with %s", soft, joinPrefixes(globals(res.Addresses)))
		res.Warnings = append(res.Warnings, soft)
	}
	return res, errs.Err()
}

// applyLease puts a lease into the kernel: the address with the lease's
// lifetimes, the routes, the MTU; mtuSet says whether it changed l's MTU.
// An MTU the kernel refuses is logged and left; an address or route it
// refuses fails the uplink.
func (n *Net) applyLease(l netsetup.Link, lease *dhcp.Lease, keepIPv6 bool) (mtuSet bool, err error) {
	name := l.Name
	p := lease.Plan(l.Index, time.Now(), keepIPv6)
	for _, note := range append(slices.Clip(lease.Notes), p.Notes...) {
		n.Log.Warnf("uplink %s: dhcp: %s", name, note)
	}
	if err := n.RT.AddAddress(l.Index, p.Address, netsetup.Lifetimes(p.Valid, p.Preferred)); err != nil {
		return false, fmt.Errorf("uplink %s: dhcp: %w", name, err)
	}
	var errs errcap.List
	for _, r := range p.Routes {
		if err := n.RT.ReplaceRoute(r); err != nil {
			errs.Add(fmt.Errorf("uplink %s: dhcp: %w", name, err))
		}
	}
	var what []string
	if p.MTU != 0 && p.MTU != int(l.MTU) {
		if err := n.RT.SetMTU(l.Index, p.MTU); err != nil {
			n.Log.Warnf("uplink %s: dhcp: mtu %d not set: %v", name, p.MTU, err)
		} else {
			mtuSet = true
			what = append(what, fmt.Sprintf("mtu %d", p.MTU))
		}
	}
	if len(p.Routes) > 0 {
		rs := make([]string, len(p.Routes))
		for i, r := range p.Routes {
			rs[i] = routeString(r)
		}
		what = append(what, "routes "+strings.Join(rs, ", "))
	}
	if len(lease.DNS) > 0 {
		what = append(what, "name servers "+joinAddrs(lease.DNS))
	}
	if len(what) > 0 {
		n.Log.Infof("uplink %s: dhcp: %s", name, strings.Join(what, ", "))
	}
	return mtuSet, errs.Err()
}

// ipv6Setting is one of a link's IPv6 settings (netsetup.SetIPv6Conf)
// and a value of it.
type ipv6Setting struct {
	key   string
	value int
}

// setIPv6Conf sets one of the uplink's IPv6 settings and, when that
// changes it, records the value it had in up.oldIPv6Conf for Undo.
func (up *Uplink) setIPv6Conf(s ipv6Setting) error {
	old, err := netsetup.IPv6Conf(up.Interface, s.key)
	if err != nil || old == s.value {
		return err
	}
	if err := netsetup.SetIPv6Conf(up.Interface, s.key, s.value); err != nil {
		return err
	}
	up.oldIPv6Conf = append(up.oldIPv6Conf, ipv6Setting{s.key, old})
	return nil
}

// readUplink fills in what the link has at the end of the phase.
func (n *Net) readUplink(res *Uplink) error {
	l, err := n.RT.LinkByIndex(res.Index)
	if err != nil {
		return err
	}
	res.MTU = int(l.MTU)
	addrs, err := n.RT.Addresses(res.Index)
	if err != nil {
		return err
	}
	res.Addresses = res.Addresses[:0]
	for _, a := range addrs {
		if a.Flags&(unix.IFA_F_TENTATIVE|unix.IFA_F_DADFAILED) != 0 && a.Flags&unix.IFA_F_OPTIMISTIC == 0 {
			continue
		}
		res.Addresses = append(res.Addresses, a.Prefix)
	}
	routes, err := n.RT.Routes(unix.AF_UNSPEC, unix.RT_TABLE_MAIN)
	if err != nil {
		return err
	}
	for _, r := range routes {
		if r.Dst.Bits() == 0 && r.OIF == res.Index && r.Gateway.IsValid() && !slices.Contains(res.Gateways, r.Gateway) {
			res.Gateways = append(res.Gateways, r.Gateway)
		}
	}
	return nil
}

// globals returns the global (not link-local, not loopback) prefixes.
func globals(ps []netip.Prefix) []netip.Prefix {
	var out []netip.Prefix
	for _, p := range ps {
		if a := p.Addr(); a.IsGlobalUnicast() {
			out = append(out, p)
		}
	}
	return out
}

func hasGlobal(ps []netip.Prefix) bool { return len(globals(ps)) > 0 }

// leaseTime formats a lease duration, "infinite" for dhcp.Infinite.
func leaseTime(d time.Duration) string {
	if d == dhcp.Infinite {
		return "infinite"
	}
	return d.String()
}

func round(d time.Duration) time.Duration {
	if d > time.Second {
		return d.Round(time.Millisecond)
	}
	return d.Round(10 * time.Microsecond)
}

// routeString is a route as the log shows it: "10.0.0.0/8 via 192.0.2.1",
// "192.0.2.1/32 on-link".
func routeString(r netsetup.Route) string {
	if r.Gateway.IsValid() {
		return r.Dst.String() + " via " + r.Gateway.String()
	}
	return r.Dst.String() + " on-link"
}

func joinAddrs(as []netip.Addr) string {
	s := make([]string, len(as))
	for i, a := range as {
		s[i] = a.String()
	}
	return strings.Join(s, ", ")
}

func joinPrefixes(ps []netip.Prefix) string {
	s := make([]string, len(ps))
	for i, p := range ps {
		s[i] = p.String()
	}
	return strings.Join(s, ", ")
}
