package main

import (
	"os"
	"os/signal"
	"runtime/debug"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/wgboot/wgboot/internal/kmsg"
)

// pid1 runs the boot and never returns: it ends in the next stage (exec),
// in a reboot or power-off, or parked in its reaping loop.
func pid1() {
	// Signals first, before anything else runs: the Go runtime installs
	// handlers, so without Notify a SIGTERM, SIGINT or SIGHUP would make
	// this process exit, and the kernel panics when PID 1 exits.
	sigs := make(chan os.Signal, 16)
	signal.Notify(sigs, unix.SIGTERM, unix.SIGINT, unix.SIGHUP, unix.SIGCHLD, unix.SIGUSR1, unix.SIGUSR2, unix.SIGPIPE)

	log := kmsg.New("wgboot", os.Stderr)
	b := newBoot(log)
	// During the boot one goroutine answers signals: it reaps children and
	// logs the rest. A boot is not interrupted half-way, which would leave
	// the device with neither a tunnel nor a handoff.
	parked := make(chan struct{})
	go signalLoop(b, sigs, parked)

	func() {
		defer func() {
			if v := recover(); v != nil {
				log.Errorf("FATAL: panic outside a phase: %v\n%s", v, debug.Stack())
			}
		}()
		b.main()
	}()
	// Only reached when the boot chose to stay: policy shell without a
	// shell, halt that could not power off, or a failed handoff.
	close(parked)
	for {
		time.Sleep(time.Hour)
	}
}

// signalLoop reaps children and answers signals for as long as PID 1 lives.
// While booting, termination signals are logged and ignored. Once parked
// (after a failure that left nothing to hand off to), SIGTERM and SIGINT —
// the kernel sends SIGINT on ctrl-alt-del — reboot the board.
func signalLoop(b *boot, sigs chan os.Signal, parked chan struct{}) {
	defer func() {
		if v := recover(); v != nil {
			b.log.Errorf("signal loop: panic: %v\n%s", v, debug.Stack())
		}
	}()
	tick := time.NewTicker(30 * time.Second)
	defer tick.Stop()
	for {
		select {
		case s := <-sigs:
			switch s {
			case unix.SIGCHLD:
				reap()
			case unix.SIGTERM, unix.SIGINT:
				select {
				case <-parked:
					b.log.Warnf("signal %v: rebooting", s)
					rebootNow(b)
				default:
					b.log.Warnf("signal %v during boot: ignored, the boot goes on", s)
				}
			default:
				b.log.Infof("signal %v ignored", s)
			}
		case <-tick.C:
			reap() // in case a SIGCHLD was coalesced away
		}
	}
}

// reap collects every exited child without blocking. It is the only
// caller of wait4 in PID 1: children that init waits for itself are started
// with startChild, and their status is handed over through the table.
func reap() {
	for {
		var ws unix.WaitStatus
		pid, err := unix.Wait4(-1, &ws, unix.WNOHANG, nil)
		if pid <= 0 || err != nil {
			return
		}
		children.Lock()
		if ch, ok := children.m[pid]; ok {
			ch <- ws
			delete(children.m, pid)
		}
		children.Unlock()
	}
}

// children maps the PIDs init waits for to where their status goes.
var children = struct {
	sync.Mutex
	m map[int]chan unix.WaitStatus
}{m: make(map[int]chan unix.WaitStatus)}

// startChild starts a program and returns a channel that receives its exit
// status from reap. The table is locked across the fork so that reap cannot
// collect the child before it is registered.
func startChild(argv0 string, argv []string, attr *syscall.ProcAttr) (int, <-chan unix.WaitStatus, error) {
	children.Lock()
	defer children.Unlock()
	pid, err := syscall.ForkExec(argv0, argv, attr)
	if err != nil {
		return 0, nil, err
	}
	ch := make(chan unix.WaitStatus, 1)
	children.m[pid] = ch
	return pid, ch, nil
}
