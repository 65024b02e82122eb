package main

import (
	"context"
	"net"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv4"

	"github.com/wgboot/wgboot/internal/netnstest"
	"github.com/wgboot/wgboot/netsetup/dhcp"
)

var clientMAC = net.HardwareAddr{0x52, 0x54, 0x00, 0x77, 0x00, 0x02}

func testPool(t *testing.T) *pool {
	p := hubPool()
	p.logf = t.Logf
	return p
}

// TestPoolReply: an OFFER to a DISCOVER, an ACK to a REQUEST for the
// client's address (selecting and renewing), a NAK to one for another,
// silence to a REQUEST for another server.
func TestPoolReply(t *testing.T) {
	p := testPool(t)
	discover, err := dhcpv4.NewDiscovery(clientMAC)
	if err != nil {
		t.Fatal(err)
	}
	offer, err := p.reply(discover)
	if err != nil || offer.MessageType() != dhcpv4.MessageTypeOffer || !offer.YourIPAddr.Equal(net.IPv4(192, 168, 50, 102)) {
		t.Fatalf("reply(DISCOVER) = %v, %v", offer, err)
	}
	request, err := dhcpv4.NewRequestFromOffer(offer)
	if err != nil {
		t.Fatal(err)
	}
	ack, err := p.reply(request)
	if err != nil || ack.MessageType() != dhcpv4.MessageTypeAck {
		t.Fatalf("reply(REQUEST) = %v, %v", ack, err)
	}
	l, err := dhcp.FromACK(ack, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	want := []dhcp.Route{
		{Dst: netip.MustParsePrefix("198.18.0.0/15"), Gateway: netip.MustParseAddr("192.168.50.1")},
		{Dst: netip.MustParsePrefix("0.0.0.0/0"), Gateway: netip.MustParseAddr("192.168.50.1")},
	}
	if l.Address.String() != "192.168.50.102/24" || l.ServerID.String() != "192.168.50.1" || !slices.Equal(l.Routes, want) ||
		l.MTU != 1492 || l.LeaseTime != time.Hour || len(l.DNS) != 1 || len(l.Notes) != 0 {
		t.Errorf("lease %+v", l)
	}
	renew, err := dhcpv4.NewRenewFromAck(ack)
	if err != nil {
		t.Fatal(err)
	}
	if r, err := p.reply(renew); err != nil || r.MessageType() != dhcpv4.MessageTypeAck {
		t.Errorf("reply(renewing REQUEST) = %v, %v", r, err)
	}
	request.UpdateOption(dhcpv4.OptRequestedIPAddress(net.IPv4(192, 168, 50, 7)))
	if r, err := p.reply(request); err != nil || r.MessageType() != dhcpv4.MessageTypeNak {
		t.Errorf("reply(REQUEST for another address) = %v, %v", r, err)
	}
	request.UpdateOption(dhcpv4.OptServerIdentifier(net.IPv4(192, 168, 50, 9)))
	if r, err := p.reply(request); err != nil || r != nil {
		t.Errorf("reply(REQUEST for another server) = %v, %v", r, err)
	}
}

// TestIntegrationServer4: wgboot's client gets its lease from the hub's
// server (insomniacslk's server4) over a veth pair.
func TestIntegrationServer4(t *testing.T) {
	t.Parallel()
	pair := netnstest.NewPair(t)
	netnstest.Run(t, "ip", "-n", pair.Server, "addr", "add", "192.168.50.1/24", "dev", netnstest.ServerLink)
	netnstest.Run(t, "ip", "-n", pair.Client, "link", "set", netnstest.ClientLink, "address", clientMAC.String())
	if err := netnstest.Do(pair.Server, func() error {
		s, err := newServer(testPool(t), netnstest.ServerLink)
		if err != nil {
			return err
		}
		go s.Serve()
		t.Cleanup(func() { s.Close() })
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	var l *dhcp.Lease
	err := netnstest.Do(pair.Client, func() error {
		ifi, err := net.InterfaceByName(netnstest.ClientLink)
		if err != nil {
			return err
		}
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		l, err = dhcp.Obtain(ctx, dhcp.Config{Interface: ifi.Name, Index: int32(ifi.Index), HWAddr: ifi.HardwareAddr, Logf: t.Logf})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if l.Address.String() != "192.168.50.102/24" || l.MTU != 1492 || len(l.Routes) != 2 {
		t.Errorf("lease %+v", l)
	}
}

// TestIntegrationAdvertise: the kernel at the other end, an independent
// reader of RAs, configures an address in the prefix and a default route
// through the hub's link-local address.
func TestIntegrationAdvertise(t *testing.T) {
	t.Parallel()
	pair := netnstest.NewPair(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	t.Cleanup(func() { cancel(); <-done })
	go func() {
		done <- netnstest.Do(pair.Server, func() error { return advertise(ctx, netnstest.ServerLink, "fd50::/64") })
	}()
	deadline := time.Now().Add(15 * time.Second)
	for {
		addr := netnstest.Output(t, "ip", "-n", pair.Client, "-6", "-o", "addr", "show", "dev", netnstest.ClientLink, "scope", "global")
		route := netnstest.Output(t, "ip", "-n", pair.Client, "-6", "route", "show", "default")
		if strings.Contains(addr, "inet6 fd50::") && strings.Contains(route, "via fe80::") && strings.Contains(route, "proto ra") {
			t.Logf("client: %s%s", addr, route)
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no SLAAC address or default route from the RAs:\n%s%s", addr, route)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestRouterAdvertisement pins the RA's bytes.
func TestRouterAdvertisement(t *testing.T) {
	got := routerAdvertisement(net.HardwareAddr{0x52, 0x54, 0, 0x77, 0, 1}, netip.MustParsePrefix("fd50::/64"))
	want := []byte{
		134, 0, 0, 0, 64, 0, 0x07, 0x08, 0, 0, 0, 0, 0, 0, 0, 0,
		1, 1, 0x52, 0x54, 0, 0x77, 0, 1,
		3, 4, 64, 0xc0, 0, 1, 0x51, 0x80, 0, 0, 0x38, 0x40, 0, 0, 0, 0,
		0xfd, 0x50, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	}
	if !slices.Equal(got, want) {
		t.Errorf("routerAdvertisement =\n% x\nwant\n% x", got, want)
	}
}
