package main

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"time"

	"github.com/wgboot/wgboot/internal/wgkey"
	"github.com/wgboot/wgboot/netsetup/bringup"
	"github.com/wgboot/wgboot/netsetup/wg"
)

// network is what the network phases leave for the ones after them, set
// only by their commits.
type network struct {
	bringup.Net
	uplink *bringup.Uplink // what the uplink came up with; nil without one
	// dns are the name servers endpoint names are resolved with, in the
	// order asked: the command line's nameserver=, the profile's
	// [uplink] dns, the DHCP lease's (see uplinkUp).
	dns     []netip.Addr
	tunnels []bringup.Tunnel // the tunnels brought up, in profile order
	since   time.Time        // when configuring the tunnels began
}

// tunnelsUp creates and configures every tunnel of the profile. A tunnel
// that fails is deleted again, so that nothing is left half-configured.
func (b *boot) tunnelsUp(ctx context.Context) (func(), error) {
	c, err := wg.Open()
	if err != nil {
		return nil, err
	}
	n := b.net.Net
	n.WG = c
	n.Bind(ctx)
	// Handshakes count from here: the first can complete while later
	// steps (addresses, routes, other tunnels) are still being applied.
	since := time.Now()
	var up []bringup.Tunnel
	commit := func() { b.net.WG, b.net.since, b.net.tunnels = c, since, up }
	if b.test("stale") && len(b.profile.Tunnels) > 0 {
		name := b.profile.Tunnels[0].Name
		if _, _, err := n.RT.EnsureWireGuardLink(name); err != nil {
			return commit, fmt.Errorf("test: create a stale %s: %w", name, err)
		}
		b.log.Infof("test: created a stale %s", name)
	}
	for i := range b.profile.Tunnels {
		t := &b.profile.Tunnels[i]
		if err := ctx.Err(); err != nil {
			return commit, err
		}
		res, err := n.TunnelUp(t)
		if err != nil {
			return commit, fmt.Errorf("tunnel %s: %w", t.Name, err)
		}
		up = append(up, res)
		b.log.Infof("tunnel %s: up, index %d, public key %s, %d peer(s), listen port %d",
			res.Name, res.Index, res.PublicKey, res.Peers, res.ListenPort)
	}
	return commit, nil
}

// verifyTunnels reads each device back and compares it with what was
// applied: the kernel silently ignores some inputs.
func (b *boot) verifyTunnels(ctx context.Context) (func(), error) {
	var errs []error
	var devs []*wg.Device
	b.net.Bind(ctx)
	for _, t := range b.net.tunnels {
		dev, err := b.net.Verify(t)
		if err != nil {
			errs = append(errs, fmt.Errorf("tunnel %s: %w", t.Name, err))
			continue
		}
		devs = append(devs, dev)
		b.log.Infof("tunnel %s: verified: public key %s, %d peer(s)", t.Name, dev.PublicKey, len(dev.Peers))
	}
	commit := func() {
		for _, dev := range devs {
			b.state.addTunnel(dev)
		}
	}
	return commit, errors.Join(errs...)
}

// handshakeGate waits, bounded by the profile's wait_handshake and the boot
// deadline, until every peer with an endpoint has completed a handshake
// since the configuration was applied.
func (b *boot) handshakeGate(ctx context.Context) (func(), error) {
	wait := b.profile.Handoff.WaitHandshake
	if wait <= 0 {
		return nil, nil
	}
	ctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	b.net.Bind(ctx)
	var errs []error
	seen := make(map[string]map[wgkey.Key]time.Time)
	for i := range b.profile.Tunnels {
		t := &b.profile.Tunnels[i]
		start := time.Now()
		got, n, err := b.net.Handshakes(ctx, t, b.net.since)
		seen[t.Name] = got
		if err != nil {
			errs = append(errs, fmt.Errorf("tunnel %s: no handshake with every peer within %v: %w", t.Name, wait, err))
			continue
		}
		if n > 0 {
			b.log.Infof("tunnel %s: handshake with %d peer(s) in %v", t.Name, n, round(time.Since(start)))
		}
	}
	commit := func() {
		for name, got := range seen {
			b.state.setHandshakes(name, got)
		}
	}
	return commit, errors.Join(errs...)
}
