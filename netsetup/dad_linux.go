package netsetup

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"slices"
	"sort"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/wgboot/wgboot/netsetup/internal/nl"
)

// ErrDADFailed is wrapped by the error WaitDAD returns when duplicate
// address detection found an address in use by another host
// (IFA_F_DADFAILED): the kernel keeps it on the link, tentative, and never
// sends from it.
var ErrDADFailed = errors.New("duplicate address detected")

// WaitDAD waits until none of the link's addresses is tentative, or ctx
// ends; give ctx a deadline. With addrs, it waits for those only, and each
// must be on the link. An IPv6 address is tentative (IFA_F_TENTATIVE)
// while duplicate address detection runs, from when it is added, or from
// when the link gets carrier, for about a second with the default
// settings; meanwhile the kernel does not send from it, so a WireGuard
// handshake initiation from it is lost and retried only after
// REKEY_TIMEOUT, 5 s. Optimistic addresses (IFA_F_OPTIMISTIC, RFC 4429)
// are usable while tentative and are not waited for. IPv4 addresses are
// never tentative.
//
// An address whose detection failed (IFA_F_DADFAILED) ends the wait with
// an error wrapping ErrDADFailed that names it. On timeout the error wraps
// ctx's cause and names the addresses still tentative.
//
// Like WaitCarrier, it subscribes to address events first and reads the
// addresses second, so that a change in between is not missed, then waits
// for events rather than polling; when events were lost (ENOBUFS) it reads
// the addresses again.
func (h *Handle) WaitDAD(ctx context.Context, index int32, addrs ...netip.Addr) error {
	what := fmt.Sprintf("wait for duplicate address detection on link %d", index)
	sub, err := h.subscribe(unix.RTNLGRP_IPV6_IFADDR)
	if err != nil {
		return fmt.Errorf("%s: subscribe to address events: %w", what, err)
	}
	// Only notifications were read from this socket; a close error
	// changes nothing for the caller.
	defer sub.Close()

	w := dadWait{index: index, only: addrs}
	if err := w.read(h); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	start := time.Now()
	for {
		if err := w.check(); err != nil || len(w.tentative) == 0 {
			if err != nil {
				err = fmt.Errorf("%s: %w", what, err)
			}
			return err
		}
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("%s: %s still tentative after %v: %w", what, w.pending(), time.Since(start).Round(time.Millisecond), context.Cause(ctx))
		}
		deadline := time.Now().Add(carrierPoll)
		if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
			deadline = d
		}
		msgs, err := sub.Receive(deadline)
		switch {
		case errors.Is(err, os.ErrDeadlineExceeded):
			continue
		case errors.Is(err, unix.ENOBUFS):
			// Events were lost: look again.
			if err := w.read(h); err != nil {
				return fmt.Errorf("%s: %w", what, err)
			}
			continue
		case err != nil:
			return fmt.Errorf("%s: %w", what, err)
		}
		if err := w.event(msgs); err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
	}
}

// dadWait is the state of one WaitDAD.
type dadWait struct {
	index int32
	only  []netip.Addr // the addresses waited for; all if empty
	// tentative are the addresses waited for whose detection runs.
	tentative map[netip.Addr]bool
	// failed is an address whose detection failed.
	failed netip.Prefix
	// missing are addresses of only not on the link.
	missing []netip.Addr
}

// wanted reports whether a is waited for.
func (w *dadWait) wanted(a netip.Addr) bool {
	return len(w.only) == 0 || slices.Contains(w.only, a)
}

// update records the state of one address.
func (w *dadWait) update(a Address) {
	ip := a.Prefix.Addr()
	if !w.wanted(ip) {
		return
	}
	switch {
	case a.Flags&unix.IFA_F_DADFAILED != 0:
		w.failed = a.Prefix
		delete(w.tentative, ip)
	case a.Flags&unix.IFA_F_TENTATIVE != 0 && a.Flags&unix.IFA_F_OPTIMISTIC == 0:
		w.tentative[ip] = true
	default:
		delete(w.tentative, ip)
	}
}

// read sets the state from a dump of the link's addresses.
func (w *dadWait) read(h *Handle) error {
	addrs, err := h.Addresses(w.index)
	if err != nil {
		return err
	}
	w.tentative = make(map[netip.Addr]bool)
	w.missing = nil
	for _, a := range addrs {
		w.update(a)
	}
	for _, want := range w.only {
		if !slices.ContainsFunc(addrs, func(a Address) bool { return a.Prefix.Addr() == want }) {
			w.missing = append(w.missing, want)
		}
	}
	return nil
}

// event updates the state from address notifications.
func (w *dadWait) event(msgs []nl.Message) error {
	for _, m := range msgs {
		if m.Type != unix.RTM_NEWADDR && m.Type != unix.RTM_DELADDR {
			continue
		}
		a, err := parseAddress(m)
		if errors.Is(err, errOtherFamily) {
			continue
		}
		if err != nil {
			return fmt.Errorf("address notification: %w", err)
		}
		if a.Index != w.index {
			continue
		}
		if m.Type == unix.RTM_DELADDR {
			if w.wanted(a.Prefix.Addr()) && w.tentative[a.Prefix.Addr()] {
				// Removed while tentative: nothing left to wait for,
				// but not usable either.
				w.missing = append(w.missing, a.Prefix.Addr())
			}
			delete(w.tentative, a.Prefix.Addr())
			continue
		}
		w.update(a)
	}
	return nil
}

// check returns the error the state calls for, if any.
func (w *dadWait) check() error {
	if w.failed.IsValid() {
		return fmt.Errorf("%s: %w", w.failed, ErrDADFailed)
	}
	if len(w.missing) > 0 {
		return fmt.Errorf("%v not on the link", w.missing)
	}
	return nil
}

// pending names the tentative addresses, sorted.
func (w *dadWait) pending() string {
	var s []string
	for a := range w.tentative {
		s = append(s, a.String())
	}
	// sort.Sort, whose code /init has anyway, rather than slices.Sort's
	// own copy for strings: 2.9 KB of /init (xz).
	sort.Sort(sort.StringSlice(s))
	return strings.Join(s, ", ")
}
