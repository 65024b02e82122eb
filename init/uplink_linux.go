package main

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"time"

	"github.com/wgboot/wgboot/internal/bootstate"
	"github.com/wgboot/wgboot/netsetup"
	"github.com/wgboot/wgboot/netsetup/bringup"
	"github.com/wgboot/wgboot/netsetup/dhcp"
)

// uplinkUp opens rtnetlink and brings up the underlay interface: IPv6
// settings, link up, carrier (bounded), static addresses and default
// routes, a DHCP lease and router advertisements (each bounded), the wait
// for duplicate address detection. Its commit leaves the name servers for
// the resolve phase in b.net.dns and the uplink in the state file.
func (b *boot) uplinkUp(ctx context.Context) (func(), error) {
	rt, err := netsetup.Open()
	if err != nil {
		return nil, fmt.Errorf("open rtnetlink: %w", err)
	}
	onDrop(ctx, func() { rt.Close() }) // if the commit, which hands it over, is dropped
	n := &network{Net: bringup.Net{RT: rt, Log: b.log}}
	n.Bind(ctx) // a kernel call that never answers ends with the phase
	up, err := n.Uplink(ctx, b.profile.Uplink, b.profile.NeedsIPv6())
	dns := nameServers(b.profile.Uplink.DNS, up)
	st := uplinkState(up, b.profile.Uplink.AcceptRA, time.Now())
	commit := func() {
		n.uplink, n.dns = up, dns
		b.net = n
		b.state.Uplink = st
		b.state.DNSServers = addrStrings(dns)
	}
	if len(dns) > 0 {
		b.log.Infof("name servers: %s", joinAddrs(dns))
	}
	return commit, err
}

// noUplink is the uplink phase of a profile without an uplink (neither
// interface nor mac), for the runner's idle hook: nothing to bring up, so
// no goroutine and no rtnetlink socket yet (the tunnels phase opens it;
// see tunnelsUp). Its commit leaves the name servers of the profile and
// the command line in b.net.dns, as uplinkUp does. Under wgboot.test=hang
// the phase runs, to hang.
func (b *boot) noUplink() (func(), bool) {
	u := b.profile.Uplink
	if u.Interface != "" || !u.MAC.IsZero() || b.test("hang") {
		return nil, false
	}
	b.log.Infof("uplink: none in the profile") // as bringup.Net.Uplink says it
	dns := nameServers(u.DNS, nil)
	if len(dns) > 0 {
		b.log.Infof("name servers: %s", joinAddrs(dns))
	}
	return func() {
		b.net = &network{Net: bringup.Net{Log: b.log}, dns: dns}
		b.state.Uplink = nil
		b.state.DNSServers = addrStrings(dns)
	}, true
}

// nameServers are the servers the resolve phase asks, in order, each
// once: the profile's [uplink] dns (which the command line's nameserver=
// come first in, see board.Profile.ApplyOverrides), then the lease's.
func nameServers(profile []netip.Addr, up *bringup.Uplink) []netip.Addr {
	var out []netip.Addr
	add := func(as []netip.Addr) {
		for _, a := range as {
			if !slices.Contains(out, a) {
				out = append(out, a)
			}
		}
	}
	add(profile)
	if up != nil && up.Lease != nil {
		add(up.Lease.DNS)
	}
	return out
}

// uplinkState is the uplink for the state file, nil without one, or when
// the bring-up failed before it had the link (what it returned then is
// for the undo). now converts the lease's time to CLOCK_BOOTTIME.
func uplinkState(up *bringup.Uplink, acceptRA bool, now time.Time) *bootstate.Uplink {
	if up == nil || up.Index == 0 {
		return nil
	}
	s := &bootstate.Uplink{Interface: up.Interface, Index: up.Index, MTU: up.MTU, AcceptRA: acceptRA,
		Addresses: prefixStrings(up.Addresses), Gateways: addrStrings(up.Gateways)}
	if l := up.Lease; l != nil {
		s.DHCP = &bootstate.Lease{
			Address: l.Address.String(), Routes: routeStrings(l), DNS: addrStrings(l.DNS), MTU: l.MTU,
			LeaseTimeS: seconds(l.LeaseTime), RenewS: seconds(l.Renew), RebindS: seconds(l.Rebind),
			Obtained: l.Obtained.Round(0), ObtainedUptimeNS: uptime() - now.Sub(l.Obtained),
		}
		if l.ServerID.IsValid() {
			s.DHCP.ServerID = l.ServerID.String()
		}
		if l.Router.IsValid() {
			s.DHCP.Router = l.Router.String()
		}
	}
	return s
}

func seconds(d time.Duration) int64 { return int64(d / time.Second) }

func routeStrings(l *dhcp.Lease) []string {
	var out []string
	for _, r := range l.Routes {
		out = append(out, r.String())
	}
	return out
}

func addrStrings(as []netip.Addr) []string {
	var out []string
	for _, a := range as {
		out = append(out, a.String())
	}
	return out
}

func prefixStrings(ps []netip.Prefix) []string {
	var out []string
	for _, p := range ps {
		out = append(out, p.String())
	}
	return out
}

func joinAddrs(as []netip.Addr) string {
	s := ""
	for i, a := range as {
		if i > 0 {
			s += ", "
		}
		s += a.String()
	}
	return s
}
