package netsetup

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"golang.org/x/sys/unix"

	"github.com/wgboot/wgboot/internal/progress"
	"github.com/wgboot/wgboot/netsetup/internal/nl"
)

// carrierPoll bounds each wait for a link event, so that a context without
// a deadline is still noticed when it is cancelled.
const carrierPoll = 250 * time.Millisecond

// WaitCarrier waits until the link has carrier (see [Link.Carrier]) or ctx
// ends; give ctx a deadline. It does not bring the link up.
//
// It subscribes to RTNLGRP_LINK first and reads the link's state second, so
// a carrier change between the two cannot be missed; then it waits for
// link notifications, not polling the state. When notifications were lost
// (ENOBUFS) it reads the state again.
func (h *Handle) WaitCarrier(ctx context.Context, index int32) error {
	sub, err := h.subscribe(unix.RTNLGRP_LINK)
	if err != nil {
		return fmt.Errorf("wait for carrier on link %d: subscribe to link events: %w", index, err)
	}
	// Only notifications were read from this socket; a close error
	// changes nothing for the caller.
	defer sub.Close()

	l, err := h.LinkByIndex(index)
	if err != nil {
		return fmt.Errorf("wait for carrier: %w", err)
	}
	what := fmt.Sprintf("wait for carrier on %s (index %d)", l.Name, index)
	if l.Carrier() {
		return nil
	}
	start := time.Now()
	for {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("%s: none after %v: %w", what, time.Since(start).Round(time.Millisecond), context.Cause(ctx))
		}
		progress.Report(ctx) // waiting in bounds: the boot moves
		deadline := time.Now().Add(carrierPoll)
		if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
			deadline = d
		}
		msgs, err := sub.Receive(deadline)
		switch {
		case errors.Is(err, os.ErrDeadlineExceeded):
			continue
		case errors.Is(err, unix.ENOBUFS):
			// The queue overflowed and events were lost: look again.
			if l, err = h.LinkByIndex(index); err != nil {
				return fmt.Errorf("%s: %w", what, err)
			}
			if l.Carrier() {
				return nil
			}
			continue
		case err != nil:
			return fmt.Errorf("%s: %w", what, err)
		}
		done, err := carrierEvent(msgs, index)
		if err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		if done {
			return nil
		}
	}
}

// errLinkDeleted is returned when the awaited link disappears.
var errLinkDeleted = errors.New("link deleted")

// carrierEvent reports whether msgs, link notifications, show carrier on
// the link; an error if they show it deleted.
func carrierEvent(msgs []nl.Message, index int32) (bool, error) {
	for _, m := range msgs {
		if m.Type != unix.RTM_NEWLINK && m.Type != unix.RTM_DELLINK {
			continue
		}
		l, err := parseLink(m)
		if err != nil {
			return false, fmt.Errorf("link notification: %w", err)
		}
		if l.Index != index {
			continue
		}
		if m.Type == unix.RTM_DELLINK {
			return false, errLinkDeleted
		}
		if l.Carrier() {
			return true, nil
		}
	}
	return false, nil
}
