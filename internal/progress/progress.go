// Package progress lets a bounded wait say that the boot is still moving:
// a wait loop that polls for a carrier, a handshake or a lease calls
// [Report] on each round, and whoever put a reporter into the context —
// PID 1, which keeps the hardware watchdog alive with it — hears of it.
//
// A report counts only while the context is live: a wait that has passed
// its deadline, or a phase abandoned by the boot, reports nothing, so that
// a wedged boot still lets the watchdog reset the board.
package progress

import "context"

type key struct{}

// With returns a context whose waits report to fn. fn must be safe for
// concurrent use and cheap: waits call it on every round.
func With(ctx context.Context, fn func()) context.Context {
	return context.WithValue(ctx, key{}, fn)
}

// Report tells ctx's reporter, if it has one, that the wait is still
// within its bounds. It does nothing once ctx is done.
func Report(ctx context.Context) {
	if ctx.Err() != nil {
		return
	}
	if fn, ok := ctx.Value(key{}).(func()); ok {
		fn()
	}
}
