package dhcp

import (
	"encoding/binary"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv4"
)

// FuzzLease feeds DHCPACKs with arbitrary options (the bytes after the
// magic cookie, as a server sends them) and yiaddr to FromACK and Plan.
// Nothing may panic, and what comes out must be kernel state that makes
// sense: a usable host address, routes to masked prefixes whose gateways
// are on the subnet or reached by an earlier host route, option 3 unused
// when option 121 is there, lifetimes and times in order, an MTU of at
// least 68 (1280 when IPv6 stays).
func FuzzLease(f *testing.F) {
	seeds := []map[dhcpv4.OptionCode][]byte{
		nil,
		{dhcpv4.OptionRouter: b(192, 0, 2, 1), dhcpv4.OptionClasslessStaticRoute: b(8, 10, 192, 0, 2, 254, 0, 203, 0, 113, 1)},
		{dhcpv4.OptionSubnetMask: b(255, 255, 255, 255), dhcpv4.OptionRouter: b(203, 0, 113, 1)},
		{dhcpv4.OptionInterfaceMTU: b(0x05, 0xdc), dhcpv4.OptionDomainNameServer: b(192, 0, 2, 53)},
		{dhcpv4.OptionRenewTimeValue: b(0, 0, 1, 0), dhcpv4.OptionRebindingTimeValue: b(0, 0, 0, 1)},
		{dhcpv4.OptionIPAddressLeaseTime: b(0xff, 0xff, 0xff, 0xff)},
	}
	for _, s := range seeds {
		m := ack(f, "192.0.2.10", s)
		f.Add(uint32(0xc000020a), m.Options.ToBytes(), false)
		f.Add(uint32(0xcb007107), m.Options.ToBytes(), true)
	}
	now := t0.Add(1234 * time.Millisecond)
	f.Fuzz(func(t *testing.T, yiaddr uint32, opts []byte, keepIPv6 bool) {
		var ip [4]byte
		binary.BigEndian.PutUint32(ip[:], yiaddr)
		m, err := dhcpv4.New(dhcpv4.WithYourIP(net.IP(ip[:])))
		if err != nil {
			t.Fatal(err)
		}
		if err := m.Options.FromBytes(opts); err != nil {
			return
		}
		if !m.Options.Has(dhcpv4.OptionDHCPMessageType) {
			m.UpdateOption(dhcpv4.OptMessageType(dhcpv4.MessageTypeAck))
		}
		l, err := FromACK(m, t0)
		if err != nil {
			return
		}
		checkLease(t, l)
		checkPlan(t, l, l.Plan(7, now, keepIPv6), keepIPv6)
	})
}

func checkLease(t *testing.T, l *Lease) {
	a := l.Address.Addr()
	if !usableHost(a) || l.Address.Bits() < 1 || l.Address.Bits() > 32 {
		t.Fatalf("address %s", l.Address)
	}
	if l.ServerID.IsValid() && !usableHost(l.ServerID) {
		t.Fatalf("server id %s", l.ServerID)
	}
	if l.Router.IsValid() && (!usableHost(l.Router) || l.Router == a) {
		t.Fatalf("router %s for %s", l.Router, l.Address)
	}
	seen := map[netip.Addr]bool{}
	for _, d := range l.DNS {
		if !usableHost(d) || seen[d] {
			t.Fatalf("name servers %v", l.DNS)
		}
		seen[d] = true
	}
	if l.MTU != 0 && l.MTU < MinMTU {
		t.Fatalf("MTU %d", l.MTU)
	}
	if l.LeaseTime <= 0 || l.LeaseTime > Infinite {
		t.Fatalf("lease time %v", l.LeaseTime)
	}
	if l.LeaseTime == Infinite {
		if l.Renew != Infinite || l.Rebind != Infinite {
			t.Fatalf("infinite lease with T1 %v, T2 %v", l.Renew, l.Rebind)
		}
	} else if l.Renew <= 0 || l.Renew > l.Rebind || l.Rebind >= l.LeaseTime {
		t.Fatalf("T1 %v, T2 %v, lease %v", l.Renew, l.Rebind, l.LeaseTime)
	}
	if !l.StaticRoutes && len(l.Routes) > 0 {
		t.Fatalf("routes %v without option 121", l.Routes)
	}
}

func checkPlan(t *testing.T, l *Lease, p Plan, keepIPv6 bool) {
	if p.Address != l.Address {
		t.Fatalf("plan address %s, lease %s", p.Address, l.Address)
	}
	if p.Valid != p.Preferred || p.Valid < time.Second || p.Valid > Infinite || p.Valid%time.Second != 0 {
		t.Fatalf("lifetimes %v/%v", p.Valid, p.Preferred)
	}
	onLink := map[netip.Addr]bool{}
	for _, r := range p.Routes {
		if !r.Dst.IsValid() || r.Dst.Masked() != r.Dst || !r.Dst.Addr().Is4() || r.OIF != 7 {
			t.Fatalf("route %v", r)
		}
		if !r.Gateway.IsValid() {
			if r.Dst.Bits() == 32 {
				onLink[r.Dst.Addr()] = true
			}
			continue
		}
		if !l.Address.Contains(r.Gateway) && !onLink[r.Gateway] {
			t.Fatalf("route %v: gateway neither on %s nor reached by an earlier route in %v", r, l.Address, p.Routes)
		}
		if l.StaticRoutes && r.Dst.Bits() == 0 && r.Gateway == l.Router {
			found := false
			for _, s := range l.Routes {
				found = found || (s.Dst.Bits() == 0 && s.Gateway == r.Gateway)
			}
			if !found {
				t.Fatalf("option 3's router %s used with option 121 %v", l.Router, l.Routes)
			}
		}
	}
	if !l.StaticRoutes && l.Router.IsValid() && len(p.Routes) == 0 {
		t.Fatalf("router %s and no route", l.Router)
	}
	if p.MTU != 0 && (p.MTU < MinMTU || keepIPv6 && p.MTU < IPv6MinMTU) {
		t.Fatalf("MTU %d (keep IPv6 %v)", p.MTU, keepIPv6)
	}
}
