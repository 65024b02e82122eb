package main

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"time"

	"golang.org/x/sys/unix"

	"github.com/wgboot/wgboot/board"
	"github.com/wgboot/wgboot/internal/wgkey"
	"github.com/wgboot/wgboot/netsetup"
	"github.com/wgboot/wgboot/netsetup/wg"
)

// network holds the kernel handles the network phases share.
type network struct {
	rt      *netsetup.Handle
	wg      *wg.Client
	applied time.Time            // when applying the tunnels' configuration began
	configs map[string]wg.Config // per tunnel, what was applied (no private keys kept)
}

func (b *boot) openNetwork() error {
	if b.net != nil {
		return nil
	}
	rt, err := netsetup.Open()
	if err != nil {
		return fmt.Errorf("open rtnetlink: %w", err)
	}
	b.net = &network{rt: rt, configs: make(map[string]wg.Config)}
	return nil
}

// uplinkUp brings up the underlay interface: link up, carrier (bounded),
// addresses, default routes.
func (b *boot) uplinkUp(ctx context.Context) error {
	u := b.profile.Uplink
	if u.Interface == "" {
		b.log.Infof("uplink: none in the profile")
		return nil
	}
	if err := b.openNetwork(); err != nil {
		return err
	}
	return b.net.rt.BringUpUplink(ctx, netsetup.Uplink{
		Interface:      u.Interface,
		Addresses:      u.Address,
		Gateways:       u.Gateway,
		CarrierTimeout: u.CarrierTimeout,
	}, b.log.Infof)
}

// tunnelsUp creates and configures every tunnel of the profile. A tunnel
// that fails is deleted again when this boot created it, so that nothing is
// left half-configured.
func (b *boot) tunnelsUp(ctx context.Context) error {
	if err := b.openNetwork(); err != nil {
		return err
	}
	c, err := wg.Open()
	if err != nil {
		return err
	}
	b.net.wg = c
	// Handshakes count from here: the first can complete while later
	// steps (addresses, routes, other tunnels) are still being applied.
	b.net.applied = time.Now()
	if b.test("stale") && len(b.profile.Tunnels) > 0 {
		name := b.profile.Tunnels[0].Name
		if _, _, err := b.net.rt.EnsureWireGuardLink(name); err != nil {
			return fmt.Errorf("test: create a stale %s: %w", name, err)
		}
		b.log.Infof("test: created a stale %s", name)
	}
	for i := range b.profile.Tunnels {
		t := &b.profile.Tunnels[i]
		if err := b.tunnelUp(t); err != nil {
			return fmt.Errorf("tunnel %s: %w", t.Name, err)
		}
	}
	return nil
}

func (b *boot) tunnelUp(t *board.Tunnel) error {
	rt := b.net.rt
	link, created, err := rt.EnsureWireGuardLink(t.Name)
	if err != nil {
		return err
	}
	if !created {
		// A wireguard link with this name before init configured one is
		// stale (left by an earlier run): start from a clean link. Its
		// peers go first: deleting a link with thousands of peers takes
		// the kernel minutes, emptying it first takes a second.
		b.log.Warnf("tunnel %s: already present (index %d): deleting it and creating it anew", t.Name, link.Index)
		if err := b.net.wg.Configure(t.Name, wg.Config{ReplacePeers: true}); err != nil {
			b.log.Warnf("tunnel %s: empty the stale link: %v", t.Name, err)
		}
		if err := rt.DeleteLink(link.Index); err != nil {
			return fmt.Errorf("delete stale link: %w", err)
		}
		if link, created, err = rt.EnsureWireGuardLink(t.Name); err != nil {
			return err
		}
	}
	cfg := wgConfig(t)
	pub := t.PrivateKey.PublicKey()
	err = b.net.wg.Configure(t.Name, cfg)
	t.PrivateKey.Zero() // the kernel has it; init needs it no more
	cfg.PrivateKey = nil
	b.net.configs[t.Name] = cfg
	if err == nil {
		err = rt.ConfigureTunnelLink(netsetup.TunnelLink{
			Name:      t.Name,
			MTU:       t.MTU,
			Addresses: t.Address,
			Routes:    routesFor(t),
			Table:     uint32(t.Table),
		})
	}
	if err == nil {
		err = b.tunnelRules(t)
	}
	if err != nil {
		if derr := rt.DeleteLink(link.Index); derr != nil {
			b.log.Errorf("tunnel %s: undo: delete link: %v", t.Name, derr)
		}
		return err
	}
	b.log.Infof("tunnel %s: up, index %d, public key %s, %d peer(s), listen port %d", t.Name, link.Index, pub, len(t.Peers), t.ListenPort)
	return nil
}

// wgConfig translates a profile tunnel into a WireGuard device
// configuration that replaces whatever the device had.
func wgConfig(t *board.Tunnel) wg.Config {
	cfg := wg.Config{ReplacePeers: true}
	pk := t.PrivateKey
	cfg.PrivateKey = &pk
	port := int(t.ListenPort)
	cfg.ListenPort = &port
	mark := t.FwMark
	cfg.FirewallMark = &mark
	for _, p := range t.Peers {
		pc := wg.PeerConfig{
			PublicKey:         p.PublicKey,
			Endpoint:          p.Endpoint,
			ReplaceAllowedIPs: true,
			AllowedIPs:        p.AllowedIPs,
		}
		if !p.PresharedKey.IsZero() {
			psk := p.PresharedKey
			pc.PresharedKey = &psk
		}
		ka := time.Duration(p.PersistentKeepalive) * time.Second
		pc.PersistentKeepalive = &ka
		cfg.Peers = append(cfg.Peers, pc)
	}
	return cfg
}

// tunnelRules adds wg-quick's policy rules for a tunnel whose routes go to
// a table of their own with a firewall mark — the way a full tunnel
// (0.0.0.0/0 through the tunnel) avoids routing its own encrypted packets
// into itself: packets without the tunnel's mark look up its table, and the
// main table is consulted first for everything but its default route.
func (b *boot) tunnelRules(t *board.Tunnel) error {
	if t.Table == board.TableMain || t.Table == board.TableOff || t.FwMark == 0 {
		return nil
	}
	families := map[uint8]bool{}
	for _, p := range routesFor(t) {
		if p.Addr().Is4() {
			families[unix.AF_INET] = true
		} else {
			families[unix.AF_INET6] = true
		}
	}
	for _, fam := range []uint8{unix.AF_INET, unix.AF_INET6} {
		if !families[fam] {
			continue
		}
		rules := []netsetup.Rule{
			{Family: fam, Table: uint32(t.Table), Mark: t.FwMark, Invert: true},
			{Family: fam, Table: unix.RT_TABLE_MAIN, SuppressPrefixLen: new(0)},
		}
		for _, r := range rules {
			if err := b.net.rt.AddRule(r); err != nil {
				return fmt.Errorf("add rule %v: %w", r, err)
			}
		}
	}
	return nil
}

// routesFor lists the prefixes routed into a tunnel: its peers' allowed IPs,
// unless the profile's table is "off".
func routesFor(t *board.Tunnel) []netip.Prefix {
	if t.Table == board.TableOff {
		return nil
	}
	var out []netip.Prefix
	for _, p := range t.Peers {
		out = append(out, p.AllowedIPs...)
	}
	return out
}

// verifyTunnels reads each device back and compares it with what was
// applied: the kernel silently ignores some inputs.
func (b *boot) verifyTunnels(ctx context.Context) error {
	var errs []error
	for _, t := range b.profile.Tunnels {
		dev, err := b.net.wg.Device(t.Name)
		if err != nil {
			errs = append(errs, fmt.Errorf("tunnel %s: read back: %w", t.Name, err))
			continue
		}
		if err := wg.Verify(b.net.configs[t.Name], dev); err != nil {
			errs = append(errs, fmt.Errorf("tunnel %s: read back: %w", t.Name, err))
			continue
		}
		b.state.addTunnel(t, dev)
		b.log.Infof("tunnel %s: verified: public key %s, %d peer(s)", t.Name, dev.PublicKey, len(dev.Peers))
	}
	return errors.Join(errs...)
}

// handshakeGate waits, bounded by the profile's wait_handshake and the boot
// deadline, until every peer with an endpoint has completed a handshake
// since the configuration was applied. Peers without a persistent
// keepalive get one packet into the tunnel to start the handshake.
func (b *boot) handshakeGate(ctx context.Context) error {
	wait := b.profile.Handoff.WaitHandshake
	if wait <= 0 {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	var errs []error
	for _, t := range b.profile.Tunnels {
		var keys []wgkey.Key
		for _, p := range t.Peers {
			if !p.Endpoint.IsValid() {
				continue
			}
			keys = append(keys, p.PublicKey)
			if p.PersistentKeepalive == 0 {
				kick(t.Name, p.AllowedIPs)
			}
		}
		if len(keys) == 0 {
			continue
		}
		start := time.Now()
		got, err := b.net.wg.WaitHandshake(ctx, t.Name, b.net.applied, keys)
		for k, at := range got {
			b.state.setHandshake(t.Name, k, at)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("tunnel %s: no handshake with every peer within %v: %w", t.Name, wait, err))
			continue
		}
		b.log.Infof("tunnel %s: handshake with %d peer(s) in %v", t.Name, len(keys), round(time.Since(start)))
	}
	return errors.Join(errs...)
}

// kick sends one UDP datagram into the tunnel, towards the first address of
// the peer's first allowed IP, so that the kernel starts a handshake. The
// payload is empty and goes to the discard port.
func kick(ifname string, allowed []netip.Prefix) {
	if len(allowed) == 0 {
		return
	}
	dst := allowed[0].Addr()
	if allowed[0].Bits() < dst.BitLen() {
		dst = dst.Next()
	}
	family, sa := unix.AF_INET, unix.Sockaddr(&unix.SockaddrInet4{Port: 9, Addr: dst.As4()})
	if dst.Is6() {
		family, sa = unix.AF_INET6, &unix.SockaddrInet6{Port: 9, Addr: dst.As16()}
	}
	fd, err := unix.Socket(family, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC|unix.SOCK_NONBLOCK, 0)
	if err != nil {
		return
	}
	defer unix.Close(fd)
	// Bound to the tunnel so that the packet goes in even when the
	// profile adds no routes (table = "off"). Errors are not reported: a
	// kick that does not go out only means the handshake waits for a
	// keepalive or for traffic, and the gate reports that.
	if unix.BindToDevice(fd, ifname) == nil {
		unix.Sendto(fd, nil, 0, sa)
	}
}
