package dhcp

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/wgboot/wgboot/internal/netnstest"
)

// Privileged tests against the host kernel and a real, independent DHCP
// server: Debian's dnsmasq, in a network namespace of its own at one end
// of a veth pair; the client runs in a second namespace at the other end.
// They skip unless root (and fail without dnsmasq when WGBOOT_E2E is
// "required", as in make test). See internal/netnstest.

// link returns the client end's index and MAC, from inside its namespace.
func link(t testing.TB, p *netnstest.Pair) Config {
	t.Helper()
	var c Config
	if err := netnstest.Do(p.Client, func() error {
		ifi, err := net.InterfaceByName(netnstest.ClientLink)
		if err != nil {
			return err
		}
		c = Config{Interface: ifi.Name, Index: int32(ifi.Index), HWAddr: ifi.HardwareAddr}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return c
}

// TestIntegrationObtainDnsmasq gets a lease from dnsmasq over a packet
// socket and reads it: the address from the range with its mask, the
// router, option 121 (which then replaces option 3 in the plan), the MTU
// (option 26), the name server, the server identifier and the times.
func TestIntegrationObtainDnsmasq(t *testing.T) {
	t.Parallel()
	p := netnstest.NewPair(t)
	netnstest.Run(t, "ip", "-n", p.Server, "addr", "add", "192.0.2.1/24", "dev", netnstest.ServerLink)
	netnstest.Dnsmasq(t, p.Server, netnstest.ServerLink, "DHCP, IP range",
		"--dhcp-range=192.0.2.10,192.0.2.20,255.255.255.0,1h",
		"--dhcp-option=option:router,192.0.2.1",
		"--dhcp-option=option:dns-server,192.0.2.53,198.51.100.53",
		"--dhcp-option=121,10.0.0.0/8,192.0.2.254,0.0.0.0/0,192.0.2.1",
		"--dhcp-option=26,1400",
	)
	c := link(t, p)
	var lines []string
	c.Logf = func(format string, args ...any) { lines = append(lines, fmt.Sprintf(format, args...)) }
	var l *Lease
	start := time.Now()
	err := netnstest.Do(p.Client, func() (err error) {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		l, err = Obtain(ctx, c)
		return err
	})
	if err != nil {
		t.Fatalf("Obtain() error = %v (log %q)", err, lines)
	}
	t.Logf("lease in %v: %+v", time.Since(start).Round(time.Millisecond), *l)
	if a := l.Address.Addr(); l.Address.Bits() != 24 || a.Less(netip.MustParseAddr("192.0.2.10")) || netip.MustParseAddr("192.0.2.20").Less(a) {
		t.Errorf("address %s, want one of 192.0.2.10-20/24", l.Address)
	}
	want := []Route{
		{Dst: netip.MustParsePrefix("10.0.0.0/8"), Gateway: netip.MustParseAddr("192.0.2.254")},
		{Dst: netip.MustParsePrefix("0.0.0.0/0"), Gateway: netip.MustParseAddr("192.0.2.1")},
	}
	if l.ServerID != netip.MustParseAddr("192.0.2.1") || l.Router != netip.MustParseAddr("192.0.2.1") ||
		!l.StaticRoutes || !slices.Equal(l.Routes, want) || l.MTU != 1400 ||
		!slices.Equal(l.DNS, addrs("192.0.2.53", "198.51.100.53")) ||
		l.LeaseTime != time.Hour || l.Renew != 30*time.Minute || l.Rebind != 3150*time.Second || len(l.Notes) != 0 {
		t.Errorf("lease %+v, want server and router 192.0.2.1, routes %v, MTU 1400, two name servers, 1h/30m/52m30s", *l, want)
	}
}

// TestIntegrationObtainSilent: nothing answers on the link; Obtain gives
// up at its deadline with the count of DISCOVERs, and leaves no socket
// behind.
func TestIntegrationObtainSilent(t *testing.T) {
	t.Parallel()
	p := netnstest.NewPair(t)
	c := link(t, p)
	c.Retransmit = func(int) time.Duration { return 300 * time.Millisecond }
	start := time.Now()
	err := netnstest.Do(p.Client, func() error {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_, err := Obtain(ctx, c)
		return err
	})
	took := time.Since(start)
	if err == nil || !strings.Contains(err.Error(), "no lease within") || !strings.Contains(err.Error(), "4 DHCPDISCOVER unanswered") {
		t.Errorf("Obtain() error = %v", err)
	}
	if took > 3*time.Second {
		t.Errorf("Obtain() returned after %v, past its 1s deadline", took)
	}
}
