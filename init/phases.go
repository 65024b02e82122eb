package main

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"sync/atomic"
	"time"

	"github.com/wgboot/wgboot/internal/bootstate"
	"github.com/wgboot/wgboot/internal/krule"
)

// A phase is one step of the boot. Phases run in order; the first one that
// fails ends the bring-up, and the failure policy decides what follows.
//
// run does the work on a goroutine of its own and must not write state
// that outlives it: it returns what it did as commit, which the runner
// calls on its own goroutine once run has returned — and never if the
// deadline passed first (the runner gave up on it). A phase left running
// past the deadline can then change nothing that the boot reads
// afterwards (the state file, the handoff). commit may be nil, and is
// called even when run fails, so that a partial result (the tunnels that
// did come up) is recorded.
//
// What a commit hands over that must not outlive an uncommitted phase (a
// socket, a device, keys in memory) run registers with onDrop as it gets
// it: the runner then closes or wipes it when the commit is not made, as
// soon as run has returned. Otherwise a phase that returns past the
// deadline leaves it open, with nothing to close it, into the next stage.
type phase struct {
	name string
	run  func(ctx context.Context) (commit func(), err error)
}

// phaseResult is what one phase did, for the log and the state file.
type phaseResult = bootstate.Phase

// errDeadline is the cause when the boot deadline passes inside a phase.
var errDeadline = errors.New("boot deadline exceeded")

// panicError is a recovered panic, with its stack for the log.
type panicError struct {
	value any
	stack []byte
}

func (e *panicError) Error() string { return fmt.Sprintf("panic: %v", e.value) }

// runner runs phases under one deadline and records what happened.
type runner struct {
	start   time.Time
	now     func() time.Time
	logf    func(level int, format string, args ...any)
	results []phaseResult
	// done, if not nil, is called on the runner's goroutine after each
	// phase that succeeded, its commit made: the boot has progressed.
	done func(name string)
	// idle, if not nil, says on the runner's goroutine, without a system
	// call, whether a phase has nothing to do, and its commit then (see
	// boot.phaseIdle). Such a phase is not started as a goroutine and logs
	// no "done" line (with debug on, "nothing to do"): both cost the boot
	// about 25 instruction-µs a phase, for nothing. It counts as done, in
	// the results and for the done hook.
	idle func(name string) (commit func(), ok bool)
	// worker is the goroutine that ran the last phase, waiting for the
	// next; nil before the first phase and after one was given up on
	// (see work).
	worker chan func()
}

// run runs phases in order until one fails or ctx ends. Each phase runs in
// its own goroutine with a recover, so that neither a panic nor a call stuck
// past the deadline can take PID 1 with it: run returns at the deadline and
// the stuck goroutine is left behind, its results discarded (and what it
// registered with onDrop released, should it return). Once ctx is
// done, no phase starts.
func (r *runner) run(ctx context.Context, phases []phase) error {
	for _, p := range phases {
		if err := r.one(ctx, p); err != nil {
			return fmt.Errorf("%s: %w", p.name, err)
		}
	}
	return nil
}

// outcome is what a phase's goroutine hands back.
type outcome struct {
	commit func()
	err    error
}

// Where a phase's goroutine stands with the runner: a phase's result is
// the runner's if it returned before the runner gave up on it (the
// deadline), and its own to release if not. One compare-and-swap from
// pending decides, so that the two never both own it, nor neither.
const (
	phasePending   int32 = iota
	phaseReturned        // by the goroutine: the runner takes the outcome
	phaseAbandoned       // by the runner: the goroutine releases what it holds
)

// drops is what a running phase registered with onDrop. Only the phase's
// goroutine touches it.
type drops struct{ release []func() }

type dropsKey struct{}

// onDrop registers release to be called if the phase running with ctx
// does not have its commit made: it returned after the deadline, it
// panicked, or it returned no commit. release then runs on the phase's
// goroutine once run has returned (never while run may still use what it
// releases), each at most once, in reverse order; a panic in it is
// recovered. Call it from run's goroutine, not from one run starts.
// Outside the runner (a test calling a phase directly) it does nothing.
func onDrop(ctx context.Context, release func()) {
	if d, ok := ctx.Value(dropsKey{}).(*drops); ok {
		d.release = append(d.release, release)
	}
}

// releaseAll calls what the phase registered, last first.
func (d *drops) releaseAll() {
	for i := len(d.release) - 1; i >= 0; i-- {
		func() {
			defer func() { recover() }() // PID 1 must not die of a close
			d.release[i]()
		}()
	}
	d.release = nil
}

func (r *runner) one(ctx context.Context, p phase) error {
	start := r.now()
	res := phaseResult{Name: p.name, Start: start.Sub(r.start)}
	if ctx.Err() != nil {
		res.Err = errDeadline.Error()
		r.logf(levelErr, "phase %s: not started: %v", p.name, errDeadline)
		r.results = append(r.results, res)
		return errDeadline
	}
	if commit, ok := r.isIdle(p.name); ok {
		if commit != nil {
			commit()
		}
		res.Dur = r.now().Sub(start)
		r.logf(levelDebug, "phase %s: nothing to do", p.name)
		r.results = append(r.results, res)
		if r.done != nil {
			r.done(p.name)
		}
		return nil
	}
	r.logf(levelDebug, "phase %s: start", p.name)
	done := make(chan outcome, 1) // never blocks the worker, once the runner has gone
	var stage atomic.Int32
	w := r.work(func() {
		d := new(drops)
		var o outcome
		defer func() {
			if v := recover(); v != nil {
				o = outcome{err: &panicError{value: v, stack: debug.Stack()}}
			}
			if o.commit == nil || !stage.CompareAndSwap(phasePending, phaseReturned) {
				d.releaseAll()
			}
			done <- o
		}()
		o.commit, o.err = p.run(context.WithValue(ctx, dropsKey{}, d))
	})
	var err error
	select {
	case o := <-done:
		r.worker = w // it has returned: the next phase can have it
		err = o.apply()
	case <-ctx.Done():
		err = errDeadline
		if stage.CompareAndSwap(phasePending, phaseAbandoned) {
			// Given up on: its worker ends once the phase returns, if ever.
			close(w)
		} else {
			// It returned as the deadline passed: in time.
			err = (<-done).apply()
			r.worker = w
		}
	}
	d := r.now().Sub(start)
	res.Dur = d
	var pe *panicError
	switch {
	case errors.As(err, &pe):
		r.logf(levelErr, "phase %s: %v\n%s", p.name, pe, pe.stack)
		res.Err = err.Error()
	case err != nil:
		r.logf(levelErr, "phase %s failed after %v: %v", p.name, round(d), err)
		res.Err = err.Error()
	default:
		r.logf(levelInfo, "phase %s: done in %v", p.name, round(d))
	}
	r.results = append(r.results, res)
	if err == nil && r.done != nil {
		r.done(p.name)
	}
	return err
}

// apply makes the phase's commit, if it has one, and returns its error.
func (o outcome) apply() error {
	if o.commit != nil {
		o.commit()
	}
	return o.err
}

// work runs f on a goroutine of its own and returns that goroutine's
// queue: the worker that ran the last phase when there is one, else a new
// one. Each phase runs on its own goroutine as before, only not on a new
// one each time: a new goroutine starts on a small stack and grows it,
// copying it each time, in every phase (fmt, the syscalls, the parser);
// the worker keeps the stack it has grown. The caller hands the worker
// back (r.worker) once f has returned, or closes the queue when it gives
// up waiting.
func (r *runner) work(f func()) chan func() {
	w := r.worker
	r.worker = nil
	if w == nil {
		w = make(chan func())
		go func() {
			for f := range w {
				f()
			}
		}()
	}
	w <- f
	return w
}

// isIdle asks r.idle about the phase name. A panic in it, on the runner's
// goroutine, would end PID 1: it is recovered, and the phase then runs as
// any other (where its own panic is reported).
func (r *runner) isIdle(name string) (commit func(), ok bool) {
	if r.idle == nil {
		return nil, false
	}
	defer func() {
		if recover() != nil {
			commit, ok = nil, false
		}
	}()
	return r.idle(name)
}

// round makes durations readable in the log.
func round(d time.Duration) time.Duration {
	switch {
	case d > time.Second:
		return d.Round(time.Millisecond)
	case d > time.Millisecond:
		return d.Round(10 * time.Microsecond)
	}
	return d.Round(time.Microsecond)
}

// Log levels, as syslog numbers.
const (
	levelErr   = krule.LogErr
	levelWarn  = krule.LogWarning
	levelInfo  = krule.LogInfo
	levelDebug = krule.LogDebug
)
