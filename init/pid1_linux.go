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
	// Signals first, before anything else runs. The kernel delivers to
	// PID 1 only the signals it has a handler for, but the Go runtime
	// installs one for nearly every signal, and for some its default is
	// to exit — and the kernel panics when PID 1 exits. bootSignals takes
	// those away from the runtime's defaults: SIGQUIT, SIGABRT, SIGSEGV
	// sent with kill, … are now only logged. (A SIGSEGV from a real
	// fault is still the runtime's panic.) The others, which the runtime
	// drops by itself, are notified once PID 1 parks (see park).
	sigs := make(chan os.Signal, 32)
	notifyBoot(sigs)
	// Ctrl-alt-del becomes SIGINT to PID 1 instead of an immediate hard
	// reboot, so that init decides: ignored while booting, a clean
	// reboot once parked.
	cadErr := unix.Reboot(unix.LINUX_REBOOT_CMD_CAD_OFF)

	log := kmsg.New("wgboot", os.Stderr)
	b := newBoot(log)
	b.sigs = sigs
	if cadErr != nil {
		log.Warnf("ctrl-alt-del stays a hard reboot: %v", cadErr)
	}
	// During the boot one goroutine answers signals: it reaps children and
	// logs the rest. A boot is not interrupted half-way, which would leave
	// the device with neither a tunnel nor a handoff.
	go signalLoop(b, sigs)

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
	b.park()
	for {
		time.Sleep(time.Hour)
	}
}

// park marks PID 1 as staying: from now on, SIGTERM and ctrl-alt-del
// reboot, SIGUSR1 halts and SIGUSR2 powers off. The rescue shell counts as
// parked. A parked PID 1 logs every signal, those the boot left to the Go
// runtime (bootSignals) included.
func (b *boot) park() {
	b.parkOnce.Do(func() {
		if b.sigs != nil {
			signal.Notify(b.sigs)
		}
		close(b.parked)
	})
}

// bootSignals are the signals PID 1 answers during the boot: those whose
// Go runtime default ends the process — SIGHUP, SIGINT and SIGTERM exit,
// SIGQUIT and SIGABRT throw, and so do SIGILL, SIGTRAP, SIGBUS, SIGFPE,
// SIGSEGV, SIGSTKFLT and SIGSYS sent with kill; a write to a closed pipe
// on stdout or stderr exits unless SIGPIPE is notified — and those PID 1
// acts on (SIGCHLD, SIGUSR1, SIGUSR2). The runtime drops the others
// (SIGALRM, SIGPWR, the real-time signals, SIGURG, SIGWINCH, …) by itself,
// without a word, which is all that PID 1 does with them too but log them.
//
// Why not all of them from the start, as signal.Notify with none named
// would: for each signal that the runtime hands to os/signal, enabling it
// is a round trip to a goroutine locked to its own thread (two thread
// switches and a sigprocmask), and 51 of them are. With only these (9 round
// trips), main → the first phase's end takes 0.4 (amd64) and 0.6 (arm64)
// instruction-ms less; docs/benchmarks.md has the boots.
var bootSignals = [...]unix.Signal{
	unix.SIGHUP, unix.SIGINT, unix.SIGTERM, unix.SIGQUIT, unix.SIGABRT, unix.SIGPIPE,
	unix.SIGCHLD, unix.SIGUSR1, unix.SIGUSR2,
	// No round trip for these: the runtime handles them itself and only
	// needs to know that a kill(2) of them is wanted.
	unix.SIGILL, unix.SIGTRAP, unix.SIGBUS, unix.SIGFPE, unix.SIGSEGV, unix.SIGSTKFLT, unix.SIGSYS,
}

// notifyBoot sends bootSignals to c.
func notifyBoot(c chan<- os.Signal) {
	for _, s := range bootSignals {
		signal.Notify(c, s)
	}
}

// sigAction is what PID 1 does with a signal.
type sigAction int

const (
	sigLog      sigAction = iota // log it and go on
	sigQuiet                     // go on without a word
	sigReap                      // collect exited children
	sigReboot                    // once parked: reboot
	sigHalt                      // once parked: halt
	sigPowerOff                  // once parked: power off
)

// signalAction says what PID 1 does with s. The conventions are busybox
// init's: SIGTERM reboots, SIGUSR1 halts, SIGUSR2 powers off, and the
// kernel's ctrl-alt-del (SIGINT with CAD off) reboots — but only once PID 1
// is parked; during the boot each is logged and ignored.
func signalAction(s os.Signal) sigAction {
	switch s {
	case unix.SIGCHLD:
		return sigReap
	case unix.SIGURG, unix.SIGWINCH:
		// SIGURG is the Go runtime's own preemption signal, delivered to
		// every process constantly; SIGWINCH is a console resize.
		return sigQuiet
	case unix.SIGTERM, unix.SIGINT:
		return sigReboot
	case unix.SIGUSR1:
		return sigHalt
	case unix.SIGUSR2:
		return sigPowerOff
	}
	return sigLog
}

// signalLoop reaps children and answers signals for as long as PID 1 lives.
func signalLoop(b *boot, sigs chan os.Signal) {
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
			b.onSignal(s)
		case <-tick.C:
			reap() // in case a SIGCHLD was coalesced away
		}
	}
}

func (b *boot) onSignal(s os.Signal) {
	a := signalAction(s)
	switch a {
	case sigReap:
		reap()
		return
	case sigQuiet:
		return
	case sigLog:
		if remoteBuild && s == unix.SIGHUP && b.onRetrySignal() {
			return
		}
		b.log.Infof("signal %v ignored", s)
		return
	}
	select {
	case <-b.parked:
	default:
		b.log.Warnf("signal %v during boot: ignored, the boot goes on", s)
		return
	}
	switch a {
	case sigReboot:
		if remoteBuild && b.remoteReboot(s) {
			return // the remote rescue ends its sessions first
		}
		b.log.Warnf("signal %v: rebooting", s)
		rebootNow(b)
	case sigHalt:
		b.log.Warnf("signal %v: halting", s)
		unix.Sync()
		unix.Reboot(unix.LINUX_REBOOT_CMD_HALT)
	case sigPowerOff:
		b.log.Warnf("signal %v: powering off", s)
		powerOff(b)
	}
}

// catchable are the signals a test sends PID 1 to check that none ends
// it: every signal but SIGKILL and SIGSTOP (which the kernel never delivers
// to PID 1 from its own namespace), the ones that act once parked
// (SIGTERM, SIGINT, SIGUSR1, SIGUSR2) included, and two real-time signals.
func catchable() []unix.Signal {
	var out []unix.Signal
	for s := unix.Signal(1); s <= 31; s++ {
		if s != unix.SIGKILL && s != unix.SIGSTOP {
			out = append(out, s)
		}
	}
	return append(out, 34, 64)
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
