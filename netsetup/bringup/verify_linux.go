package bringup

import (
	"context"
	"fmt"
	"net/netip"
	"time"

	"golang.org/x/sys/unix"

	"github.com/wgboot/wgboot/board"
	"github.com/wgboot/wgboot/internal/wgkey"
	"github.com/wgboot/wgboot/netsetup/wg"
)

// Verify reads the tunnel's device back and compares it with what
// TunnelUp applied: the kernel silently ignores some inputs (a peer whose
// key is the device's own, an endpoint of the wrong size). The device's
// public key is the kernel's derivation from the private key; it is
// compared with t.PublicKey only where that is known. A peer whose key is
// the device's own is expected to be missing (see [wg.Verify]): the
// caller decides whether that is an error ([board.Profile.SelfPeers]).
func (n *Net) Verify(t Tunnel) (*wg.Device, error) {
	dev, err := n.WG.Device(t.Name)
	if err != nil {
		return nil, fmt.Errorf("read back: %w", err)
	}
	if !dev.HasPrivateKey || dev.PublicKey.IsZero() || (!t.PublicKey.IsZero() && dev.PublicKey != t.PublicKey) {
		want := "a private key"
		if !t.PublicKey.IsZero() {
			want = t.PublicKey.String()
		}
		return dev, fmt.Errorf("read back: %w: public key %s, want %s", wg.ErrMismatch, dev.PublicKey, want)
	}
	if err := wg.Verify(t.Expect, dev); err != nil {
		return dev, fmt.Errorf("read back: %w", err)
	}
	return dev, nil
}

// Handshakes waits, bounded by ctx, until every peer of t that has an
// endpoint has completed a handshake after since. Peers without a
// persistent keepalive first get one packet into the tunnel (see [Kick]) so
// that the kernel starts a handshake. It returns the handshake times seen,
// and the number of peers waited for.
func (n *Net) Handshakes(ctx context.Context, t *board.Tunnel, since time.Time) (map[wgkey.Key]time.Time, int, error) {
	var keys []wgkey.Key
	for i := range t.Peers {
		p := &t.Peers[i]
		if !p.Endpoint.IsValid() {
			continue
		}
		keys = append(keys, p.PublicKey)
		if p.PersistentKeepalive == 0 {
			Kick(t.Name, p.AllowedIPs)
		}
	}
	if len(keys) == 0 {
		return nil, 0, nil
	}
	got, err := n.WG.WaitHandshake(ctx, t.Name, since, keys)
	return got, len(keys), err
}

// Kick sends one empty UDP datagram into the tunnel ifname, to the discard
// port of an address in the peer's first allowed IP prefix, so that the
// kernel starts a handshake with that peer. Errors are not reported: a
// kick that does not go out only means the handshake waits for a
// keepalive or for traffic, and the handshake wait reports that.
func Kick(ifname string, allowed []netip.Prefix) {
	dst, ok := kickTarget(allowed)
	if !ok {
		return
	}
	family, sa := unix.AF_INET6, unix.Sockaddr(&unix.SockaddrInet6{Port: 9, Addr: dst.As16()})
	if dst.Is4() {
		family, sa = unix.AF_INET, &unix.SockaddrInet4{Port: 9, Addr: dst.As4()}
	}
	fd, err := unix.Socket(family, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC|unix.SOCK_NONBLOCK, 0)
	if err != nil {
		return
	}
	defer unix.Close(fd)
	// Bound to the tunnel, so that the packet goes in even when the
	// profile adds no routes (table = "off").
	if unix.BindToDevice(fd, ifname) == nil {
		unix.Sendto(fd, nil, 0, sa)
	}
}

// kickTarget picks the address a kick goes to, inside the first allowed IP
// prefix so that WireGuard sends it to that peer: the address after the
// prefix's network address (its first host), or, where that is not a
// unicast address a packet can go to (0.0.0.1 of 0.0.0.0/0, ::1 of ::/0),
// a documentation address inside the prefix (RFC 5737, RFC 3849), which is
// no real host, or else the first host of the prefix's upper half. IPv4 and
// IPv6 alike.
func kickTarget(allowed []netip.Prefix) (netip.Addr, bool) {
	if len(allowed) == 0 || !allowed[0].IsValid() {
		return netip.Addr{}, false
	}
	p := allowed[0].Masked()
	dst := p.Addr()
	if p.Bits() < dst.BitLen() {
		if next := dst.Next(); next.IsValid() {
			dst = next
		}
	}
	if usable(dst) {
		return dst, true
	}
	for _, doc := range []netip.Addr{netip.AddrFrom4([4]byte{192, 0, 2, 1}), netip.MustParseAddr("2001:db8::1")} {
		if p.Contains(doc) {
			return doc, true
		}
	}
	// The first host of the prefix's upper half: 64.0.0.1 of 0.0.0.0/1.
	if p.Bits() < dst.BitLen() {
		b := p.Addr().AsSlice()
		b[p.Bits()/8] |= 0x80 >> (p.Bits() % 8)
		if mid, ok := netip.AddrFromSlice(b); ok && mid.Next().IsValid() {
			return mid.Next(), true
		}
	}
	return dst, true
}

// usable reports whether a can be the destination of a kick.
func usable(a netip.Addr) bool {
	if a.IsUnspecified() || a.IsLoopback() || a.IsMulticast() {
		return false
	}
	// 0.0.0.0/8 is "this network": never a destination.
	return !a.Is4() || a.As4()[0] != 0
}
