package main

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"time"

	"golang.org/x/sys/unix"
)

// Router advertisement values (RFC 4861 section 4.2, 4.6.2).
const (
	routerLifetime    = 1800  // s: the hub is a default router
	validLifetime     = 86400 // s
	preferredLifetime = 14400 // s
	raInterval        = time.Second
)

// routerAdvertisement builds an RA for prefix, from a router whose MAC is
// mac: the default router, the prefix on-link and for autonomous address
// configuration, and the source link-layer address. The kernel computes
// the checksum of raw ICMPv6 sockets.
func routerAdvertisement(mac net.HardwareAddr, prefix netip.Prefix) []byte {
	m := []byte{
		134, 0, 0, 0, // type, code, checksum
		64, 0, 0, 0, // hop limit, flags, router lifetime
		0, 0, 0, 0, // reachable time
		0, 0, 0, 0, // retrans timer
	}
	binary.BigEndian.PutUint16(m[6:8], routerLifetime)
	m = append(m, 1, byte((2+len(mac)+7)/8)) // source link-layer address
	m = append(m, mac...)
	for len(m)%8 != 0 {
		m = append(m, 0)
	}
	pi := make([]byte, 32)                                       // prefix information
	pi[0], pi[1], pi[2], pi[3] = 3, 4, byte(prefix.Bits()), 0xc0 // on-link, autonomous
	binary.BigEndian.PutUint32(pi[4:8], validLifetime)
	binary.BigEndian.PutUint32(pi[8:12], preferredLifetime)
	a := prefix.Masked().Addr().As16()
	copy(pi[16:], a[:])
	return append(m, pi...)
}

// advertise sends router advertisements for prefix on iface to all nodes,
// every raInterval and at once after each router solicitation, until ctx
// ends.
func advertise(ctx context.Context, iface, prefix string) error {
	p, err := netip.ParsePrefix(prefix)
	if err != nil || !p.Addr().Is6() || p.Bits() != 64 {
		return fmt.Errorf("testhub.ra=%s: want an IPv6 /64 prefix", prefix)
	}
	ifi, err := net.InterfaceByName(iface)
	if err != nil {
		return err
	}
	fd, err := unix.Socket(unix.AF_INET6, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.IPPROTO_ICMPV6)
	if err != nil {
		return fmt.Errorf("icmpv6 socket: %w", err)
	}
	defer unix.Close(fd)
	var filter unix.ICMPv6Filter
	for i := range filter.Data {
		filter.Data[i] = ^uint32(0) // block every type …
	}
	filter.Data[133>>5] &^= 1 << (133 & 31) // … but router solicitations
	mreq := &unix.IPv6Mreq{Multiaddr: netip.MustParseAddr("ff02::2").As16(), Interface: uint32(ifi.Index)}
	tv := unix.NsecToTimeval(raInterval.Nanoseconds())
	for _, err := range []error{
		unix.SetsockoptInt(fd, unix.IPPROTO_IPV6, unix.IPV6_MULTICAST_HOPS, 255),
		unix.SetsockoptInt(fd, unix.IPPROTO_IPV6, unix.IPV6_UNICAST_HOPS, 255),
		unix.SetsockoptInt(fd, unix.IPPROTO_IPV6, unix.IPV6_MULTICAST_IF, ifi.Index),
		unix.SetsockoptInt(fd, unix.IPPROTO_IPV6, unix.IPV6_MULTICAST_LOOP, 0),
		unix.SetsockoptICMPv6Filter(fd, unix.SOL_ICMPV6, unix.ICMPV6_FILTER, &filter),
		unix.SetsockoptIPv6Mreq(fd, unix.IPPROTO_IPV6, unix.IPV6_JOIN_GROUP, mreq),
		unix.SetsockoptString(fd, unix.SOL_SOCKET, unix.SO_BINDTODEVICE, iface),
		unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv),
	} {
		if err != nil {
			return fmt.Errorf("icmpv6 socket option: %w", err)
		}
	}
	ra := routerAdvertisement(ifi.HardwareAddr, p)
	all := &unix.SockaddrInet6{Addr: netip.MustParseAddr("ff02::1").As16(), ZoneId: uint32(ifi.Index)}
	fmt.Printf("testhub: ra: advertising %s on %s\n", p, iface)
	buf := make([]byte, 1500)
	var lastErr error
	for ctx.Err() == nil {
		// Until the hub's own link-local address has passed DAD,
		// there is no source address for the RA: retry quietly.
		err := unix.Sendto(fd, ra, 0, all)
		if err != nil && (lastErr == nil || err.Error() != lastErr.Error()) {
			fmt.Printf("testhub: ra: send: %v\n", err)
		}
		lastErr = err
		for deadline := time.Now().Add(raInterval); time.Now().Before(deadline); {
			n, from, err := unix.Recvfrom(fd, buf, 0)
			if errors.Is(err, unix.EAGAIN) || errors.Is(err, unix.EINTR) {
				continue
			}
			if err != nil {
				return fmt.Errorf("receive: %w", err)
			}
			if n > 0 && buf[0] == 133 {
				if sa, ok := from.(*unix.SockaddrInet6); ok {
					fmt.Printf("testhub: ra: solicited by %s\n", netip.AddrFrom16(sa.Addr))
				}
				break
			}
		}
	}
	return nil
}
