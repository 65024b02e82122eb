package main

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"sync"
	"time"

	"github.com/wgboot/wgboot/board"
	"github.com/wgboot/wgboot/internal/bootstate"
	"github.com/wgboot/wgboot/internal/wgkey"
	"github.com/wgboot/wgboot/netsetup"
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
	n := b.net.Net
	if n.RT == nil {
		// Without an uplink no phase has opened rtnetlink (see noUplink).
		rt, err := netsetup.Open()
		if err != nil {
			return nil, fmt.Errorf("open rtnetlink: %w", err)
		}
		// The commit hands it over, to the later phases and the undo;
		// if the commit is dropped (past the deadline), it is closed.
		onDrop(ctx, func() { rt.Close() })
		n.RT = rt
	}
	c, err := wg.Open()
	if err != nil {
		return func() { b.net.RT = n.RT }, err
	}
	onDrop(ctx, func() { c.Close() })
	n.WG = c
	n.Bind(ctx)
	// Handshakes count from here: the first can complete while later
	// steps (addresses, routes, other tunnels) are still being applied.
	since := time.Now()
	var up []bringup.Tunnel
	commit := func() { b.net.RT, b.net.WG, b.net.since, b.net.tunnels = n.RT, c, since, up }
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
		// The public key, derived by the kernel, is logged when verified.
		b.log.Infof("tunnel %s: up, index %d, %d peer(s), listen port %d",
			res.Name, res.Index, res.Peers, res.ListenPort)
	}
	return commit, nil
}

// verifyTunnels reads each device back and compares it with what was
// applied: the kernel silently ignores some inputs. The device's public
// key is the kernel's derivation from the private key: the boot derives
// none of its own (but for a key file on the config partition), and checks
// here that no peer of the profile has it, which the kernel would ignore
// (board.ErrSelfPeer, at the peer's file:line:col).
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
		if err := b.selfPeers(dev); err != nil {
			errs = append(errs, fmt.Errorf("tunnel %s: %w", t.Name, err))
		}
	}
	commit := func() {
		for _, dev := range devs {
			setKeyPublic(b.state.Keys, dev.Name, dev.PublicKey)
			b.state.addTunnel(dev)
			// Where the endpoints of planned peers come from (the gate,
			// if it switches, says more).
			first := make(map[wgkey.Key]bringup.PeerEndpoint)
			for ref, f := range b.endpoints {
				if ref.tunnel == dev.Name {
					first[ref.key] = bringup.PeerEndpoint{Current: f.Candidates[0], Tried: f.Candidates[:1]}
				}
			}
			b.state.setEndpoints(dev.Name, first, nil)
		}
	}
	return commit, errors.Join(errs...)
}

// handshakeGate waits, bounded by the profile's wait_handshake and the boot
// deadline, until every peer with an endpoint has completed a handshake
// since the configuration was applied. Tunnels are waited for at the same
// time, so that each peer's endpoint_timeout runs from its own start. A
// peer with fallback endpoints (see resolveEndpoints) is switched to the
// next when one stays silent.
func (b *boot) handshakeGate(ctx context.Context) (func(), error) {
	wait := b.profile.Handoff.WaitHandshake
	if wait <= 0 {
		return nil, nil
	}
	ctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	b.net.Bind(ctx)
	type result struct {
		gate bringup.Gate
		dev  *wg.Device // read after switching endpoints, for the state file
		took time.Duration
		err  error
	}
	tunnels := b.profile.Tunnels
	results := make([]result, len(tunnels))
	var running sync.WaitGroup
	for i := range tunnels {
		t := &tunnels[i]
		fb := b.fallbacks(t)
		running.Go(func() {
			r := &results[i]
			start := time.Now()
			if len(fb) == 0 {
				got, n, err := b.net.Handshakes(ctx, t, b.net.since)
				r.gate, r.err = bringup.Gate{Handshakes: got, Waited: n}, err
			} else {
				r.gate, r.err = b.net.HandshakesWithFallback(ctx, t, b.net.since, fb)
				var err error
				if r.dev, err = b.net.WG.Device(t.Name); err != nil {
					b.log.Warnf("tunnel %s: read back the endpoints: %v", t.Name, err)
				}
			}
			r.took = time.Since(start)
		})
	}
	running.Wait()
	var errs []error
	for i, r := range results {
		name := tunnels[i].Name
		if r.err != nil {
			errs = append(errs, fmt.Errorf("tunnel %s: no handshake with every peer within %v: %w", name, wait, r.err))
		} else if r.gate.Waited > 0 {
			b.log.Infof("tunnel %s: handshake with %d peer(s) in %v", name, r.gate.Waited, round(r.took))
		}
	}
	if len(errs) > 0 {
		b.clockHint()
	}
	commit := func() {
		for i, r := range results {
			b.state.setHandshakes(tunnels[i].Name, r.gate.Handshakes)
			b.state.setEndpoints(tunnels[i].Name, r.gate.Endpoints, r.dev)
		}
	}
	return commit, errors.Join(errs...)
}

// fallbacks are the candidate endpoints of t's peers that have more than
// one, by public key.
func (b *boot) fallbacks(t *board.Tunnel) map[wgkey.Key]bringup.Fallback {
	var fb map[wgkey.Key]bringup.Fallback
	for ref, f := range b.endpoints {
		if ref.tunnel == t.Name && len(f.Candidates) > 1 {
			if fb == nil {
				fb = make(map[wgkey.Key]bringup.Fallback)
			}
			fb[ref.key] = f
		}
	}
	return fb
}

// selfPeers reports the profile's peers of dev's tunnel whose public key is
// dev's own, as the kernel derived it: the kernel left them out.
func (b *boot) selfPeers(dev *wg.Device) error {
	for i := range b.profile.Tunnels {
		if b.profile.Tunnels[i].Name == dev.Name {
			return b.profile.SelfPeers(i, dev.PublicKey).Err()
		}
	}
	return nil
}

// setKeyPublic fills in the public key of tunnel's key file in keys, the
// state file's, where the keys phase did not derive it.
func setKeyPublic(keys []bootstate.Key, tunnel string, pub wgkey.Key) {
	for i := range keys {
		if keys[i].Tunnel == tunnel && keys[i].PublicKey == "" && !pub.IsZero() {
			keys[i].PublicKey = pub.String()
		}
	}
}
