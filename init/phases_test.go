package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

func testRunner(t *testing.T) *runner {
	return &runner{
		start: time.Now(),
		now:   time.Now,
		logf: func(level int, format string, args ...any) {
			t.Logf("<%d> %s", level, fmt.Sprintf(format, args...))
		},
	}
}

func TestRunnerOrderAndStop(t *testing.T) {
	r := testRunner(t)
	var ran []string
	step := func(name string, err error) phase {
		return phase{name, func(context.Context) error { ran = append(ran, name); return err }}
	}
	boom := errors.New("boom")
	err := r.run(context.Background(), []phase{step("a", nil), step("b", boom), step("c", nil)})
	if !errors.Is(err, boom) || !strings.HasPrefix(err.Error(), "b: ") {
		t.Fatalf("run = %v, want b: boom", err)
	}
	if got := strings.Join(ran, ","); got != "a,b" {
		t.Errorf("ran %s, want a,b", got)
	}
	if len(r.results) != 2 || r.results[1].Err != "boom" || r.results[0].Err != "" {
		t.Errorf("results = %+v", r.results)
	}
}

func TestRunnerRecoversPanic(t *testing.T) {
	r := testRunner(t)
	err := r.run(context.Background(), []phase{{"p", func(context.Context) error {
		var m map[string]int
		m["x"] = 1 // nil map write panics
		return nil
	}}})
	var pe *panicError
	if !errors.As(err, &pe) {
		t.Fatalf("run = %v, want a recovered panic", err)
	}
	if !strings.Contains(string(pe.stack), "phases_test.go") {
		t.Errorf("panic stack does not show where it happened:\n%s", pe.stack)
	}
}

func TestRunnerDeadline(t *testing.T) {
	r := testRunner(t)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	stuck := make(chan struct{})
	defer close(stuck)
	start := time.Now()
	var ranAfter bool
	err := r.run(ctx, []phase{
		{"stuck", func(context.Context) error { <-stuck; return nil }}, // ignores ctx, like a wedged syscall
		{"after", func(context.Context) error { ranAfter = true; return nil }},
	})
	if !errors.Is(err, errDeadline) {
		t.Fatalf("run = %v, want the deadline", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("run returned after %v, long past the deadline", d)
	}
	if ranAfter {
		t.Error("a phase ran after the deadline")
	}
}
