package main

import (
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/wgboot/wgboot/netsetup/bringup"
	"github.com/wgboot/wgboot/netsetup/dhcp"
)

// TestNameServers: the profile's (with nameserver= first, see
// board.Profile.ApplyOverrides), then the lease's, each once.
func TestNameServers(t *testing.T) {
	a := netip.MustParseAddr
	profile := []netip.Addr{a("198.51.100.53"), a("192.0.2.53")}
	up := &bringup.Uplink{Lease: &dhcp.Lease{DNS: []netip.Addr{a("192.0.2.53"), a("192.168.50.1")}}}
	got := nameServers(profile, up)
	if want := []netip.Addr{a("198.51.100.53"), a("192.0.2.53"), a("192.168.50.1")}; !slices.Equal(got, want) {
		t.Errorf("nameServers = %v, want %v", got, want)
	}
	if got := nameServers(nil, nil); got != nil {
		t.Errorf("nameServers without any = %v", got)
	}
	if got := nameServers(profile, &bringup.Uplink{}); !slices.Equal(got, profile) {
		t.Errorf("nameServers without a lease = %v", got)
	}
}

// TestUplinkState: the lease for the next stage, its obtained time on
// CLOCK_BOOTTIME too.
func TestUplinkState(t *testing.T) {
	if uplinkState(nil, false, time.Now()) != nil {
		t.Error("uplinkState(nil) is not nil")
	}
	// An uplink that failed before it had the link (no such link, no
	// carrier) returns what it changed, for the undo; the state file
	// has no uplink.
	if s := uplinkState(&bringup.Uplink{Interface: "eth7"}, true, time.Now()); s != nil {
		t.Errorf("uplinkState of a link never found = %+v, want nil", s)
	}
	now := time.Now()
	l := &dhcp.Lease{Address: netip.MustParsePrefix("192.168.50.102/24"), ServerID: netip.MustParseAddr("192.168.50.1"),
		Router: netip.MustParseAddr("192.168.50.1"), StaticRoutes: true,
		Routes: []dhcp.Route{{Dst: netip.MustParsePrefix("0.0.0.0/0"), Gateway: netip.MustParseAddr("192.168.50.1")}, {Dst: netip.MustParsePrefix("198.51.100.0/24")}},
		DNS:    []netip.Addr{netip.MustParseAddr("192.168.50.1")},
		MTU:    1492, LeaseTime: time.Hour, Renew: 30 * time.Minute, Rebind: 3150 * time.Second, Obtained: now.Add(-2 * time.Second)}
	s := uplinkState(&bringup.Uplink{Interface: "eth0", Index: 2, MTU: 1492, Lease: l,
		Addresses: []netip.Prefix{netip.MustParsePrefix("192.168.50.102/24")}, Gateways: []netip.Addr{netip.MustParseAddr("192.168.50.1")}}, true, now)
	d := s.DHCP
	if s.Interface != "eth0" || s.Index != 2 || s.MTU != 1492 || !s.AcceptRA || !slices.Equal(s.Addresses, []string{"192.168.50.102/24"}) ||
		!slices.Equal(s.Gateways, []string{"192.168.50.1"}) || d == nil {
		t.Fatalf("uplinkState = %+v", s)
	}
	if d.Address != "192.168.50.102/24" || d.ServerID != "192.168.50.1" || d.Router != "192.168.50.1" || d.MTU != 1492 ||
		!slices.Equal(d.Routes, []string{"0.0.0.0/0 via 192.168.50.1", "198.51.100.0/24 on-link"}) ||
		!slices.Equal(d.DNS, []string{"192.168.50.1"}) || d.LeaseTimeS != 3600 || d.RenewS != 1800 || d.RebindS != 3150 ||
		!d.Obtained.Equal(l.Obtained) {
		t.Errorf("lease state = %+v", d)
	}
	if up := uptime(); d.ObtainedUptimeNS > up-2*time.Second+100*time.Millisecond || d.ObtainedUptimeNS < up-3*time.Second {
		t.Errorf("obtained at uptime %v, now %v: want 2 s before", d.ObtainedUptimeNS, up)
	}
	l.LeaseTime, l.Renew, l.Rebind = dhcp.Infinite, dhcp.Infinite, dhcp.Infinite
	if d := uplinkState(&bringup.Uplink{Index: 2, Lease: l}, false, now).DHCP; d.LeaseTimeS != 4294967295 || d.RenewS != 4294967295 {
		t.Errorf("infinite lease state = %+v", d)
	}
}
