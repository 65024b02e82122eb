package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/netip"
	"os"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/wgboot/wgboot/board"
	"github.com/wgboot/wgboot/internal/bootstate"
	"github.com/wgboot/wgboot/internal/clockfile"
	"github.com/wgboot/wgboot/internal/dnsclient"
	"github.com/wgboot/wgboot/internal/persist"
	"github.com/wgboot/wgboot/internal/randseed"
	"github.com/wgboot/wgboot/internal/sntp"
)

// The random seed and the saved clock of [persist] (docs/boot.md, "Random
// seed" and "Clock"): files on the config partition, which the persist
// phase has mounted before the clock and crng phases.
const (
	seedFile  = "wgboot/random-seed"
	clockFile = "wgboot/clock"
)

// persistConf is the [persist] table in force: the image's profile's,
// which says where the partition is, also when one of the partition's
// own profiles runs (its [persist] is ignored).
func (b *boot) persistConf() board.Persist {
	switch {
	case b.image != nil:
		return b.image.Persist
	case b.profile != nil:
		return b.profile.Persist
	}
	return board.Persist{}
}

// errNoPersist is the duties' error when the partition is not mounted.
var errNoPersist = errors.New("the config partition is not mounted")

// clockUp is the clock phase: the build time as the floor (clockFloor),
// then, with save_clock, the saved clock: the clock never goes back past
// the last time the board saved, so that the hub's WireGuard accepts its
// handshakes (a responder drops an initiation whose timestamp is not newer
// than the last it accepted). A saved clock that cannot be read is logged
// and recorded; the boot goes on with the floor.
func (b *boot) clockUp(ctx context.Context) (func(), error) {
	if b.test("clockback") {
		// A board whose clock lost a day: what the saved clock and NTP
		// are for (the e2e tests).
		tv := unix.NsecToTimeval(time.Now().Add(-24 * time.Hour).UnixNano())
		if err := unix.Settimeofday(&tv); err != nil {
			return nil, fmt.Errorf("test: set the clock back: %w", err)
		}
		b.log.Warnf("test: clock set back a day, to %s", time.Now().UTC().Format(time.RFC3339))
	}
	start := time.Now()
	src := "kernel"
	if floor, ok := buildFloor(); ok && start.Before(floor) {
		src = "build"
	}
	if err := b.clockFloor(ctx); err != nil {
		return nil, err
	}
	st := bootstate.Clock{Source: src}
	if !b.persistConf().SaveClock {
		if len(b.profile.Clock.NTP) == 0 {
			return nil, nil
		}
		st.StepNS = int64(clockStep(start, time.Now()))
		return func() { b.state.Clock = st }, nil
	}
	p, ok := b.persistPath(clockFile)
	var saved time.Time
	var err error
	if !ok {
		err = errNoPersist
	} else {
		saved, err = clockfile.Read(p)
	}
	switch {
	case errors.Is(err, fs.ErrNotExist):
		b.log.Infof("clock: no saved clock yet (%s)", p)
	case err != nil:
		b.log.Warnf("clock: saved clock: %v", err)
		st.Error = err.Error()
	default:
		st.Saved = saved
		if now := time.Now(); now.Before(saved) {
			tv := unix.NsecToTimeval(saved.UnixNano())
			if err := unix.Settimeofday(&tv); err != nil {
				return nil, fmt.Errorf("set the clock to the saved %s: %w", saved.UTC().Format(time.RFC3339), err)
			}
			st.Source = "saved"
			b.log.Infof("clock: %s, before the saved clock: set to %s", now.UTC().Format(time.RFC3339), saved.UTC().Format(time.RFC3339))
		}
	}
	st.StepNS = int64(clockStep(start, time.Now()))
	return func() { b.state.Clock = st }, nil
}

// clockStep is how far the wall clock was set between a and b, both read
// with their monotonic readings: the wall difference less the time that
// passed.
func clockStep(a, b time.Time) time.Duration {
	return b.Round(0).Sub(a.Round(0)) - b.Sub(a)
}

// The ntp phase's bounds: each server is asked in turn, each try waiting
// ntpTry, doubled every round (sntp.First), for at most ntpTimeout or half
// the time left to the deadline.
const (
	ntpTimeout = 10 * time.Second
	ntpTry     = time.Second
)

// ntpUp is the ntp phase ([clock] ntp): SNTP over the uplink, before the
// tunnels, so that the first handshake carries a timestamp later than
// the last one the hub accepted, whatever the board's clock was. Host
// names among the servers are looked up first (ntpAddrs); then every
// address is asked in turn (sntp.First). The server's time is taken as it
// is, forward or back. No answer in time is a warning: the boot goes on
// with the clock the clock phase set.
func (b *boot) ntpUp(ctx context.Context) (func(), error) {
	servers := b.profile.Clock.NTP
	if len(servers) == 0 {
		return nil, nil
	}
	nctx, cancel := context.WithTimeout(ctx, min(ntpTimeout, deadlineLeft(ctx)/2))
	defer cancel()
	base, ok := buildFloor()
	if !ok {
		base = time.Now()
	}
	dns := &dnsclient.Client{Servers: b.nameservers(), Logf: b.log.Debugf}
	addrs, names, lerr := b.ntpAddrs(nctx, dns, servers)
	var res sntp.Result
	err := lerr
	if len(addrs) > 0 {
		res, err = sntp.First(nctx, addrs, base, ntpTry)
		if err != nil {
			err = errors.Join(lerr, err)
		}
	}
	if err != nil {
		b.log.Warnf("clock: ntp: no time (%v); the clock stays at %s", err, time.Now().UTC().Format(time.RFC3339))
		msg := err.Error()
		return func() { b.state.Clock.Error = msg }, nil
	}
	before, now := time.Now(), res.Now()
	tv := unix.NsecToTimeval(now.UnixNano())
	if err := unix.Settimeofday(&tv); err != nil {
		return nil, fmt.Errorf("set the clock to NTP's %s: %w", now.UTC().Format(time.RFC3339), err)
	}
	step := now.Sub(before)
	host := names[res.Server]
	server := res.Server.String()
	if host != "" {
		server = host + " at " + server
	}
	b.log.Infof("clock: ntp %s (stratum %d, delay %v): %s, stepped %v", server, res.Stratum,
		res.Delay.Round(time.Microsecond), now.UTC().Format(time.RFC3339Nano), step.Round(time.Millisecond))
	return func() {
		c := &b.state.Clock
		c.Source, c.NTPServer, c.NTPHost, c.StepNS = "ntp", res.Server.String(), host, c.StepNS+int64(step)
	}, nil
}

// ntpAddrs makes the NTP servers into the addresses to ask, in the
// profile's order, each server's in its answer's order (A records
// first): an address as it is, a host name looked up with dns (the boot's
// DNS servers) as the resolve phase looks up the endpoints' (lookupAll),
// all names at once, within half of ctx's time so that the other half is
// left for the servers. names says which name each address came from. A name
// that gives no address is logged and its error returned with the rest.
func (b *boot) ntpAddrs(ctx context.Context, dns *dnsclient.Client, servers []board.Endpoint) (addrs []netip.AddrPort, names map[netip.AddrPort]string, err error) {
	var hosts []string
	for _, s := range servers {
		if s.Host != "" && !slices.Contains(hosts, s.Host) {
			hosts = append(hosts, s.Host)
		}
	}
	var answers map[string]lookup
	var errs []error
	if len(hosts) > 0 {
		if len(dns.Servers) == 0 {
			b.log.Warnf("clock: ntp: no DNS server to ask for %s: none from nameserver=, [uplink] dns or a DHCP lease", strings.Join(hosts, ", "))
		}
		lctx, cancel := context.WithTimeout(ctx, deadlineLeft(ctx)/2)
		answers = b.lookupAll(lctx, dns, hosts)
		cancel()
		names = make(map[netip.AddrPort]string)
	}
	for _, s := range servers {
		if s.Host == "" {
			if !slices.Contains(addrs, s.Addr) {
				addrs = append(addrs, s.Addr)
			}
			continue
		}
		l := answers[s.Host]
		if l.err != nil {
			errs = append(errs, l.err)
			continue
		}
		for _, a := range l.addrs {
			ap := netip.AddrPortFrom(a, s.Port)
			if !slices.Contains(addrs, ap) {
				addrs = append(addrs, ap)
				names[ap] = s.Host
			}
		}
	}
	return addrs, names, errors.Join(errs...)
}

// clockHint explains, after a handshake that did not come, what the
// clock may have to do with it: a peer that accepted a later initiation
// from this board drops every one whose timestamp is not newer. Nothing
// when NTP set the clock.
func (b *boot) clockHint() {
	c := b.state.Clock
	if c.Source == "ntp" {
		return
	}
	why := "neither [clock] ntp nor [persist] save_clock set it"
	switch {
	case c.Source == "saved":
		why = "the saved clock set it; a peer that saw a later handshake from this board still drops older ones"
	case c.Error != "":
		why = "NTP or the saved clock failed: " + c.Error
	}
	b.log.Warnf("clock: %s (%s): a peer that accepted a handshake from this board at a later time drops its initiations until the clock passes that time",
		time.Now().UTC().Format(time.RFC3339), why)
}

// buildFloor is the build time, if the build has one.
func buildFloor() (time.Time, bool) {
	sec, err := strconv.ParseInt(buildTime, 10, 64)
	if err != nil || sec <= 0 {
		return time.Time{}, false
	}
	return time.Unix(sec, 0), true
}

// saveClock writes the clock to the saved clock's file at the end of the
// boot, before the partition is let go of: a clock that NTP or the saved
// one moved is the next boot's floor even if the next stage never saves
// it. The next stage keeps it too (docs/boot.md).
func (b *boot) saveClock() {
	if !b.persistConf().SaveClock {
		return
	}
	p, ok := b.persistPath(clockFile)
	if !ok {
		return
	}
	// Rounded up: the file keeps whole seconds, and a time rounded
	// down could be before the boot's handshake, which the hub would
	// then take as a replay after the next boot's clock phase.
	now := time.Now().Add(time.Second - 1).Truncate(time.Second)
	err := os.MkdirAll(path.Dir(p), 0o700)
	if err == nil {
		err = persist.WriteFile(p, clockfile.Format(now), 0o644)
	}
	if err != nil {
		b.log.Warnf("clock: save: %v", err)
		if b.state.Clock.Error == "" {
			b.state.Clock.Error = err.Error()
		}
		return
	}
	b.state.Clock.SavedNow = now
}

// crngUp is the crng phase: with random_seed, the seed the last boot saved
// is credited to the kernel's pool and replaced at once (a seed is never
// credited twice), then the wait for the CRNG (waitCRNG), which a seed of
// 256 bits ends at once; a first boot, or one whose CRNG was not ready to
// replace the seed, saves a fresh one once it is.
func (b *boot) crngUp(ctx context.Context) (func(), error) {
	if !b.persistConf().RandomSeed {
		return nil, b.waitCRNG(ctx)
	}
	var st bootstate.RandomSeed
	p, ok := b.persistPath(seedFile)
	if !ok {
		st.Error = errNoPersist.Error()
		b.log.Warnf("random seed: %v", errNoPersist)
		return func() { b.state.RandomSeed = st }, b.waitCRNG(ctx)
	}
	s := randseed.Seed{Path: p, Write: persist.WriteFile}
	var errs []error
	if err := os.MkdirAll(path.Dir(p), 0o700); err != nil {
		errs = append(errs, err)
	}
	res, err := s.Use()
	if err != nil {
		errs = append(errs, err)
	}
	st.CreditedBits, st.Renewed = res.Credited, res.Renewed
	if res.Credited > 0 {
		b.log.Infof("random seed: %d bits credited from %s", res.Credited, p)
	} else if err == nil {
		b.log.Infof("random seed: none saved yet (%s)", p)
	}
	werr := b.waitCRNG(ctx)
	pending := false
	if !st.Renewed && err == nil {
		switch err := s.Renew(); {
		case err == nil:
			st.Renewed = true
		case errors.Is(err, randseed.ErrNotReady):
			// Tried again at the end of the boot (saveSeed).
			pending = true
			b.log.Infof("random seed: none saved yet: %v; trying again at the end of the boot", err)
		default:
			errs = append(errs, fmt.Errorf("no new seed: %w", err))
		}
	}
	if err := errors.Join(errs...); err != nil {
		// The boot goes on: the seed only saves it the wait.
		b.log.Warnf("random seed: %v", err)
		st.Error = err.Error()
	}
	return func() {
		b.state.RandomSeed = st
		if pending {
			b.seedPending = p
		}
	}, werr
}

// saveSeed writes the seed that the crng phase could not, at the end of
// the boot, before the partition is let go of: a board without a hardware
// RNG often has its CRNG ready only after the crng phase gave up waiting,
// and without a seed saved now the next boot would wait as long again.
func (b *boot) saveSeed() {
	p := b.seedPending
	b.seedPending = ""
	if p == "" {
		return
	}
	if _, ok := b.persistPath(seedFile); !ok {
		return
	}
	err := randseed.Seed{Path: p, Write: persist.WriteFile}.Renew()
	if err != nil {
		b.log.Warnf("random seed: no new seed at the end of the boot either: %v", err)
		b.state.RandomSeed.Error = err.Error()
		return
	}
	b.state.RandomSeed.Renewed = true
	b.log.Infof("random seed: saved in %s", p)
}
