package main

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync/atomic"
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
		return phase{name, func(context.Context) (func(), error) { ran = append(ran, name); return nil, err }}
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
	err := r.run(context.Background(), []phase{{"p", func(context.Context) (func(), error) {
		var m map[string]int
		m["x"] = 1 // nil map write panics
		return nil, nil
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
		{"stuck", func(context.Context) (func(), error) { <-stuck; return nil, nil }}, // ignores ctx, like a wedged syscall
		{"after", func(context.Context) (func(), error) { ranAfter = true; return nil, nil }},
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

// TestRunnerLatePhaseChangesNothing: a phase that outlives the deadline and
// then finishes never has its results applied, while the boot goes on to
// read and write the same state. Run with -race (make test does): the
// phase's goroutine and the boot must not share anything but what the
// runner hands over.
func TestRunnerLatePhaseChangesNothing(t *testing.T) {
	r := testRunner(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	release := make(chan struct{})
	finished := make(chan struct{})
	state := []string{"early"}
	err := r.run(ctx, []phase{{"late", func(ctx context.Context) (func(), error) {
		defer close(finished)
		<-release // stuck past the deadline
		local := append([]string(nil), "late result")
		return func() { state = append(state, local...) }, nil
	}}})
	if !errors.Is(err, errDeadline) {
		t.Fatalf("run = %v, want the deadline", err)
	}
	// The boot goes on (finish writes the state file) while the phase
	// wakes up and completes.
	close(release)
	state = append(state, "finish")
	<-finished
	time.Sleep(10 * time.Millisecond)
	if got := strings.Join(state, ","); got != "early,finish" {
		t.Errorf("state = %s, want the late phase's result discarded", got)
	}
	if len(r.results) != 1 || r.results[0].Err != errDeadline.Error() {
		t.Errorf("results = %+v", r.results)
	}
}

// TestRunnerCommitsFailedPhase: a phase that fails in time still has its
// partial result recorded.
func TestRunnerCommitsFailedPhase(t *testing.T) {
	r := testRunner(t)
	var got []string
	boom := errors.New("tunnel wg1: boom")
	err := r.run(context.Background(), []phase{{"tunnels", func(context.Context) (func(), error) {
		return func() { got = append(got, "wg0") }, boom
	}}})
	if !errors.Is(err, boom) {
		t.Fatalf("run = %v", err)
	}
	if len(got) != 1 {
		t.Errorf("the partial result was not committed")
	}
}

// TestRunnerStartsNothingAfterDeadline: once the deadline has passed, no
// phase starts, and the state file says which one did not.
func TestRunnerStartsNothingAfterDeadline(t *testing.T) {
	r := testRunner(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	started := false
	err := r.run(ctx, []phase{{"tunnels", func(context.Context) (func(), error) { started = true; return nil, nil }}})
	if !errors.Is(err, errDeadline) || started {
		t.Fatalf("run = %v, started = %v; want the deadline and nothing started", err, started)
	}
	if len(r.results) != 1 || r.results[0].Name != "tunnels" || r.results[0].Err == "" {
		t.Errorf("results = %+v", r.results)
	}
}

// TestRunnerIdlePhase: a phase the idle hook says has nothing to do is
// not started, its commit is made, it counts as done (results, the done
// hook) and it logs no "done" line; a panic in the hook is recovered and
// the phase then runs.
func TestRunnerIdlePhase(t *testing.T) {
	r := testRunner(t)
	var lines []string
	r.logf = func(level int, format string, args ...any) {
		if level <= levelInfo {
			lines = append(lines, fmt.Sprintf(format, args...))
		}
	}
	var done, ran []string
	committed := false
	r.done = func(name string) { done = append(done, name) }
	r.idle = func(name string) (func(), bool) {
		switch name {
		case "ntp":
			return func() { committed = true }, true
		case "bad":
			var m map[string]int
			m["x"] = 1 // nil map write panics
		}
		return nil, false
	}
	step := func(name string) phase {
		return phase{name, func(context.Context) (func(), error) { ran = append(ran, name); return nil, nil }}
	}
	if err := r.run(context.Background(), []phase{step("uplink"), step("ntp"), step("bad")}); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(ran, ","); got != "uplink,bad" {
		t.Errorf("ran %s, want uplink,bad (ntp idle, bad's hook panicked)", got)
	}
	if !committed {
		t.Errorf("the idle phase's commit was not made")
	}
	if got := strings.Join(done, ","); got != "uplink,ntp,bad" {
		t.Errorf("done hook for %s, want uplink,ntp,bad", got)
	}
	if len(r.results) != 3 || r.results[1].Name != "ntp" || r.results[1].Err != "" {
		t.Errorf("results = %+v", r.results)
	}
	for _, l := range lines {
		if strings.Contains(l, "ntp") {
			t.Errorf("the idle phase logged %q", l)
		}
	}
	if len(lines) != 2 {
		t.Errorf("lines %q, want uplink's and bad's done lines", lines)
	}
}

// resource stands for what a phase opens and its commit hands over (a
// socket): it counts how often it was taken over and released.
type resource struct {
	committed, released atomic.Int32
	closed              chan struct{} // closed by the first release
}

func newResource() *resource { return &resource{closed: make(chan struct{})} }

func (res *resource) release() {
	if res.released.Add(1) == 1 {
		close(res.closed)
	}
}

// settle reports how often res was committed and released, once the
// phase's goroutine has had the time to release it.
func (res *resource) settle(t *testing.T, wantRelease bool) (committed, released int32) {
	t.Helper()
	if wantRelease {
		select {
		case <-res.closed:
		case <-time.After(5 * time.Second):
			t.Error("not released 5s after the phase returned")
		}
	}
	time.Sleep(20 * time.Millisecond) // a second release would come now
	return res.committed.Load(), res.released.Load()
}

// TestRunnerReleasesDroppedPhase: what a phase registered with onDrop is
// released exactly once when its commit is not made — it returned past the
// deadline, panicked, or returned no commit — and never when the commit is
// made. The phase's goroutine releases it once run has returned, while the
// runner and the boot go on: run with -race.
func TestRunnerReleasesDroppedPhase(t *testing.T) {
	for _, tc := range []struct {
		name     string
		late     bool // returns after the deadline
		panics   bool
		noCommit bool
		wantErr  error
	}{
		{name: "past the deadline", late: true, wantErr: errDeadline},
		{name: "panic", panics: true},
		{name: "no commit", noCommit: true},
		{name: "in time"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := testRunner(t)
			deadline := time.Minute // in time, however loaded the machine
			if tc.late {
				deadline = 20 * time.Millisecond
			}
			ctx, cancel := context.WithTimeout(context.Background(), deadline)
			defer cancel()
			res := newResource()
			wake := make(chan struct{})
			err := r.run(ctx, []phase{{"tunnels", func(ctx context.Context) (func(), error) {
				onDrop(ctx, res.release) // opened
				if tc.late {
					<-wake // a call stuck past the deadline
				}
				if tc.panics {
					panic("boom")
				}
				if tc.noCommit {
					return nil, errors.New("failed, handing nothing over")
				}
				return func() { res.committed.Add(1) }, nil
			}}})
			switch {
			case tc.wantErr != nil && !errors.Is(err, tc.wantErr):
				t.Fatalf("run = %v, want %v", err, tc.wantErr)
			case tc.panics || tc.noCommit:
				if err == nil {
					t.Fatal("run = nil, want the phase's failure")
				}
			case tc.wantErr == nil && err != nil && !tc.noCommit:
				t.Fatalf("run = %v", err)
			}
			close(wake) // the boot goes on; the late phase returns
			inTime := !tc.late && !tc.panics && !tc.noCommit
			committed, released := res.settle(t, !inTime)
			if inTime {
				if committed != 1 || released != 0 {
					t.Errorf("in time: committed %d, released %d times; want 1, 0", committed, released)
				}
				return
			}
			if committed != 0 || released != 1 {
				t.Errorf("committed %d, released %d times; want 0, exactly 1", committed, released)
			}
		})
	}
}

// TestRunnerReleaseOrCommit: a phase that returns as the deadline passes
// has its result either committed or released, never both nor neither:
// the runner and the phase's goroutine must agree on who owns it.
func TestRunnerReleaseOrCommit(t *testing.T) {
	commits := 0
	for i := range 200 {
		r := testRunner(t)
		r.logf = func(int, string, ...any) {}
		d := time.Duration(i%20) * 50 * time.Microsecond
		ctx, cancel := context.WithTimeout(context.Background(), time.Millisecond)
		res := newResource()
		r.run(ctx, []phase{{"tunnels", func(ctx context.Context) (func(), error) {
			onDrop(ctx, res.release)
			time.Sleep(500*time.Microsecond + d) // around the deadline
			return func() { res.committed.Add(1) }, nil
		}}})
		cancel()
		// Settled once the release has run, or at once when the runner
		// committed.
		if res.committed.Load() == 0 {
			select {
			case <-res.closed:
			case <-time.After(2 * time.Second):
			}
		}
		c, rel := res.committed.Load(), res.released.Load()
		if c+rel != 1 {
			t.Fatalf("phase %d, returning %v after a 1ms deadline: committed %d, released %d times; want one of the two, once", i, 500*time.Microsecond+d, c, rel)
		}
		commits += int(c)
	}
	t.Logf("%d of 200 committed, the others released", commits)
}

// goid is the calling goroutine's number, from its stack trace's header.
func goid() string {
	buf := make([]byte, 64)
	buf = buf[:runtime.Stack(buf, false)]
	id, _, _ := strings.Cut(strings.TrimPrefix(string(buf), "goroutine "), " ")
	return id
}

// TestRunnerReusesWorker: the phases run one after another on one
// goroutine, not the runner's, which keeps its grown stack from phase to
// phase; a panic, recovered, does not cost it.
func TestRunnerReusesWorker(t *testing.T) {
	r := testRunner(t)
	var ids []string
	step := func(name string) phase {
		return phase{name, func(context.Context) (func(), error) { ids = append(ids, goid()); return nil, nil }}
	}
	panics := phase{"panics", func(context.Context) (func(), error) { ids = append(ids, goid()); panic("boom") }}
	if err := r.run(context.Background(), []phase{step("a"), step("b"), panics}); err == nil {
		t.Fatal("the panic was not reported")
	}
	if err := r.run(context.Background(), []phase{step("c")}); err != nil {
		t.Fatal(err)
	}
	if len(ids) != 4 {
		t.Fatalf("ran on %v", ids)
	}
	for _, id := range ids {
		if id != ids[0] || id == goid() {
			t.Fatalf("phases ran on goroutines %v (the runner's: %s), want one worker", ids, goid())
		}
	}
}

// TestRunnerGivesUpStuckWorker: after a phase is given up at the deadline,
// the next run starts a new worker, and the stuck one ends once its phase
// returns.
func TestRunnerGivesUpStuckWorker(t *testing.T) {
	r := testRunner(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	stuck := make(chan struct{})
	stuckIDs := make(chan string, 1) // the phase was given up: no other sync with it
	var afterID string
	err := r.run(ctx, []phase{{"stuck", func(context.Context) (func(), error) { stuckIDs <- goid(); <-stuck; return nil, nil }}})
	if !errors.Is(err, errDeadline) {
		t.Fatalf("run = %v, want the deadline", err)
	}
	stuckID := <-stuckIDs
	err = r.run(context.Background(), []phase{{"after", func(context.Context) (func(), error) { afterID = goid(); return nil, nil }}})
	if err != nil {
		t.Fatal(err)
	}
	if afterID == "" || afterID == stuckID {
		t.Fatalf("the phase after ran on goroutine %q, the stuck one is %q", afterID, stuckID)
	}
	close(stuck)
	for end := time.Now().Add(5 * time.Second); ; time.Sleep(time.Millisecond) {
		buf := make([]byte, 1<<20)
		if !strings.Contains(string(buf[:runtime.Stack(buf, true)]), "goroutine "+stuckID+" [") {
			break
		}
		if time.Now().After(end) {
			t.Fatal("the stuck worker did not end after its phase returned")
		}
	}
}
