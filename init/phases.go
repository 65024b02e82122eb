package main

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"time"

	"github.com/wgboot/wgboot/internal/krule"
)

// A phase is one step of the boot. Phases run in order; the first one that
// fails ends the bring-up, and the failure policy decides what follows.
type phase struct {
	name string
	run  func(ctx context.Context) error
}

// phaseResult is what one phase did, for the log and the state file.
type phaseResult struct {
	Name  string        `json:"name"`
	Start time.Duration `json:"start_ns"` // since init started
	Dur   time.Duration `json:"duration_ns"`
	Err   string        `json:"error,omitempty"`
}

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
}

// run runs phases in order until one fails or ctx ends. Each phase runs in
// its own goroutine with a recover, so that neither a panic nor a call stuck
// past the deadline can take PID 1 with it: run returns at the deadline and
// the stuck goroutine is left behind.
func (r *runner) run(ctx context.Context, phases []phase) error {
	for _, p := range phases {
		if err := r.one(ctx, p); err != nil {
			return fmt.Errorf("%s: %w", p.name, err)
		}
	}
	return nil
}

func (r *runner) one(ctx context.Context, p phase) error {
	start := r.now()
	r.logf(levelDebug, "phase %s: start", p.name)
	done := make(chan error, 1)
	go func() {
		defer func() {
			if v := recover(); v != nil {
				done <- &panicError{value: v, stack: debug.Stack()}
			}
		}()
		done <- p.run(ctx)
	}()
	var err error
	if ctx.Err() != nil {
		err = errDeadline
	} else {
		select {
		case err = <-done:
		case <-ctx.Done():
			err = errDeadline
		}
	}
	d := r.now().Sub(start)
	res := phaseResult{Name: p.name, Start: start.Sub(r.start), Dur: d}
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
	return err
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
