package main

import (
	"context"
	"fmt"
	"time"

	"github.com/wgboot/wgboot/board"
	"github.com/wgboot/wgboot/internal/bootstate"
	"github.com/wgboot/wgboot/internal/progress"
	"github.com/wgboot/wgboot/netsetup"
	"github.com/wgboot/wgboot/netsetup/bringup"
	"github.com/wgboot/wgboot/netsetup/wg"
)

// bringUp runs the bring-up phases until end with the profile chosen. When
// that is the config partition's and it fails, what it did is undone and
// the phases from keys on run again with the image's profile, the
// last-known-good one, before the same end. The partition's profile has at
// most half of the time left, so that the image's always has the other.
func (b *boot) bringUp(end time.Time) error {
	phases := []phase{
		{"clock", b.clockUp},             // no RTC: not before the build, nor the saved clock
		{"crng", b.crngUp},               // WireGuard needs a seeded CRNG; the saved seed
		{"keys", b.keysUp},               // the key files on the config partition, made when missing
		{"modules", only(b.loadModules)}, // wireguard + the board's, with dependencies
		{"uplink", b.uplinkUp},           // carrier, addresses, default routes
		{"ntp", b.ntpUp},                 // optional: the time, before the handshakes
		{"resolve", b.resolveEndpoints},  // endpoint host names, fallback endpoints
		{"tunnels", b.tunnelsUp},         // links, keys and peers, addresses, routes
		{"verify", b.verifyTunnels},      // read back what the kernel took
		{"handshake", b.handshakeGate},   // optional: wait for every peer
	}
	b.r.idle = b.phaseIdle // uplink, ntp, resolve: see phaseIdle
	if b.image == nil {
		return b.runUntil(end, phases)
	}
	first := b.start.Add(b.profile.Handoff.Deadline)
	if half := time.Now().Add(time.Until(end) / 2); half.Before(first) {
		first = half
	}
	err := b.runUntil(first, phases)
	if err == nil {
		return nil
	}
	failed := b.profile
	b.log.Errorf("profile %s failed (%v): undoing it and falling back to the image's %s", failed.File(), err, b.image.File())
	// The undo is a phase: bounded, and a netlink call stuck in it cannot
	// take PID 1 along. Whatever it leaves, the image's profile is tried.
	undoEnd := time.Now().Add(undoTimeout)
	if undoEnd.After(end) {
		undoEnd = end
	}
	b.runUntil(undoEnd, []phase{{"undo", b.undo(failed)}})
	failed.Wipe()
	b.state.Fallback = bootstate.Fallback{Profile: failed.File(), Reason: err.Error()}
	made := b.state.Keys // a key the failed profile made is new to the hub all the same
	b.state.Tunnels, b.state.Keys = nil, nil
	// The failed profile's endpoint plan and names are not the image's.
	b.endpoints, b.state.Names = nil, nil
	b.useProfile(b.image, "image")
	b.image = nil
	err = b.runUntil(end, phases[2:]) // from keys: the clock and the CRNG are as they were
	markGenerated(b.state.Keys, made)
	return err
}

// markGenerated marks the keys read from a file that made says this boot
// generated (an earlier attempt's keys), so that the state file tells the
// enrollment that they are new.
func markGenerated(keys, made []bootstate.Key) {
	for i := range keys {
		for _, m := range made {
			if m.Generated && m.File == keys[i].File && m.PublicKey == keys[i].PublicKey {
				keys[i].Generated = true
			}
		}
	}
}

// runUntil runs phases under a deadline.
func (b *boot) runUntil(end time.Time, phases []phase) error {
	// Bounded waits report their progress to the watchdog (see phaseDone).
	ctx, cancel := context.WithDeadline(progress.With(context.Background(), b.reportProgress), end)
	defer cancel()
	if b.test("hang") {
		b.hangPhase(phases, "uplink")
	}
	return b.r.run(ctx, phases)
}

// undoTimeout bounds the undoing of a failed bring-up.
const undoTimeout = 5 * time.Second

// undo returns a phase that removes from the kernel what a bring-up of p
// did: its tunnels' links (with their addresses and routes), its policy
// rules, and its uplink's addresses and default routes, a DHCP lease's and
// router advertisements' included, with the uplink's IPv6 settings and
// MTU put back (bringup.Net.Undo). It closes the
// bring-up's handles and opens its own: a phase that passed its deadline
// may have left none, or one in use.
func (b *boot) undo(p *board.Profile) func(context.Context) (func(), error) {
	old := b.net
	return func(ctx context.Context) (func(), error) {
		commit := func() { b.net = nil }
		if old != nil {
			if old.WG != nil {
				old.WG.Close()
			}
			if old.RT != nil { // none without an uplink, before the tunnels phase
				old.RT.Close()
			}
		}
		rt, err := netsetup.Open()
		if err != nil {
			return commit, fmt.Errorf("open rtnetlink: %w", err)
		}
		defer rt.Close()
		n := bringup.Net{RT: rt, Log: b.log}
		if c, err := wg.Open(); err == nil { // without the module there is no tunnel to empty
			defer c.Close()
			n.WG = c
		}
		n.Bind(ctx) // a kernel call that never answers ends with the phase

		var up *bringup.Uplink // what the uplink phase got or did before it failed, a DHCP lease included
		if old != nil {
			up = old.uplink
		}
		return commit, n.Undo(p, up)
	}
}
