package main

import (
	"fmt"
	"net"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv4"
	"github.com/insomniacslk/dhcp/dhcpv4/server4"
)

// pool is what the hub's DHCP server hands out.
type pool struct {
	server net.IP // the hub's address: server identifier, router, name server
	mask   net.IPMask
	routes []*dhcpv4.Route // option 121
	mtu    uint16
	lease  time.Duration
	logf   func(format string, args ...any)
}

// hubPool is the QEMU tests' network, 192.168.50.0/24.
func hubPool() *pool {
	hub := net.IPv4(192, 168, 50, 1).To4()
	return &pool{
		server: hub,
		mask:   net.CIDRMask(24, 32),
		routes: []*dhcpv4.Route{
			{Dest: &net.IPNet{IP: net.IPv4(198, 18, 0, 0).To4(), Mask: net.CIDRMask(15, 32)}, Router: hub},
			{Dest: &net.IPNet{IP: net.IPv4zero.To4(), Mask: net.CIDRMask(0, 32)}, Router: hub},
		},
		mtu:   1492,
		lease: time.Hour,
		logf:  func(format string, args ...any) { fmt.Printf("testhub: dhcp: "+format+"\n", args...) },
	}
}

// addressFor gives each client its address from its MAC: the same every
// time, so that a renewal asks for what it has.
func (p *pool) addressFor(mac net.HardwareAddr) net.IP {
	a := p.server.Mask(p.mask).To4()
	last := byte(0)
	if len(mac) > 0 {
		last = mac[len(mac)-1]
	}
	return net.IPv4(a[0], a[1], a[2], 100+last%100).To4()
}

// reply answers a DISCOVER with an OFFER and a REQUEST for the client's
// address (selecting, or renewing with ciaddr) with an ACK, any other
// REQUEST with a NAK; nil for what needs no answer.
func (p *pool) reply(m *dhcpv4.DHCPv4) (*dhcpv4.DHCPv4, error) {
	yours := p.addressFor(m.ClientHWAddr)
	var typ dhcpv4.MessageType
	switch m.MessageType() {
	case dhcpv4.MessageTypeDiscover:
		typ = dhcpv4.MessageTypeOffer
	case dhcpv4.MessageTypeRequest:
		if id := m.ServerIdentifier(); id != nil && !id.Equal(p.server) {
			return nil, nil // the client chose another server
		}
		asked := m.RequestedIPAddress()
		if asked == nil {
			asked = m.ClientIPAddr
		}
		typ = dhcpv4.MessageTypeAck
		if !asked.Equal(yours) {
			typ = dhcpv4.MessageTypeNak
		}
	default:
		return nil, nil
	}
	mods := []dhcpv4.Modifier{
		dhcpv4.WithMessageType(typ),
		dhcpv4.WithServerIP(p.server),
		dhcpv4.WithOption(dhcpv4.OptServerIdentifier(p.server)),
	}
	if typ != dhcpv4.MessageTypeNak {
		mods = append(mods,
			dhcpv4.WithYourIP(yours),
			dhcpv4.WithNetmask(p.mask),
			dhcpv4.WithRouter(p.server),
			dhcpv4.WithOption(dhcpv4.OptDNS(p.server)),
			dhcpv4.WithOption(dhcpv4.OptClasslessStaticRoute(p.routes...)),
			dhcpv4.WithOption(dhcpv4.OptGeneric(dhcpv4.OptionInterfaceMTU, []byte{byte(p.mtu >> 8), byte(p.mtu)})),
			dhcpv4.WithOption(dhcpv4.OptIPAddressLeaseTime(p.lease)),
		)
	}
	return dhcpv4.NewReplyFromRequest(m, mods...)
}

// handle is server4's handler: answer, broadcast (the client has no
// address yet), and log.
func (p *pool) handle(conn net.PacketConn, peer net.Addr, m *dhcpv4.DHCPv4) {
	r, err := p.reply(m)
	if err != nil {
		p.logf("%s from %s: %v", m.MessageType(), m.ClientHWAddr, err)
		return
	}
	if r == nil {
		return
	}
	if _, err := conn.WriteTo(r.ToBytes(), peer); err != nil {
		p.logf("%s to %s: %v", r.MessageType(), m.ClientHWAddr, err)
		return
	}
	p.logf("%s %s to %s", r.MessageType(), r.YourIPAddr, m.ClientHWAddr)
}

// serveDHCP runs the server on iface until it fails.
func serveDHCP(iface string) error {
	s, err := newServer(hubPool(), iface)
	if err != nil {
		return err
	}
	return s.Serve()
}

// newServer opens p's server on iface.
func newServer(p *pool, iface string) (*server4.Server, error) {
	s, err := server4.NewServer(iface, nil, p.handle)
	if err != nil {
		return nil, err
	}
	p.logf("serving on %s", iface)
	return s, nil
}
