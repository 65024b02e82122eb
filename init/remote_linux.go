//go:build rescue

package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/netip"
	"os"
	"path"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/wgboot/wgboot/board"
	"github.com/wgboot/wgboot/internal/persist"
)

// on_failure = "remote" (docs/boot.md, "Remote rescue"): PID 1 starts the
// rescue image's SSH server, wgboot-remote, on the tunnels' own addresses
// and keeps the time. Only a rescue image's /init has this file (the
// rescue build tag: make image RESCUE=1); the default /init has
// noremote_linux.go instead. /init has no SSH code: the server, its host key and
// its authentication are the rescue layer's. PID 1 reads one pipe of the
// server's: its log ("remote: …"), copied to the kernel log, and its
// status lines (hostkey, listen, open, idle; see cmd/wgboot-remote).

// remoteServer is where a rescue image has the server (image.RemoteServer).
const remoteServer = "/bbin/wgboot-remote"

// remotePort is the SSH port on the tunnels' addresses.
const remotePort = 22

// remoteHostKey is the host key's file on the config partition.
var remoteHostKey = persist.Dir + "/wgboot/ssh_host_ed25519_key"

// remoteStopWait bounds the wait for the server to exit when told to, and
// for a session's last words after `wgboot retry`.
const remoteStopWait = 3 * time.Second

// remotePing is how often the watchdog is fed while the rescue runs, at
// most (see remotePingEvery).
const remotePing = 5 * time.Second

// remotePingEvery is how often the rescue feeds d: every remotePing, or
// twice within the timeout the driver granted when that is shorter. The
// lint takes a watchdog_timeout from 1 s, and a driver may grant less
// than was asked: pinged every 5 s, such a watchdog would reset the board
// under the operator.
func remotePingEvery(d watchdogDevice) time.Duration {
	if d == nil {
		return remotePing
	}
	if half := d.Info().Timeout / 2; half > 0 && half < remotePing {
		return half
	}
	return remotePing
}

// remote runs the remote rescue until it ends in a reboot or a handoff. It
// falls back to remote_fallback when it cannot offer one: no tunnel came
// up, the image has no server, the profile names no keys.
func (b *boot) remote() {
	for {
		err := b.remoteOnce()
		if err == nil {
			return // a retry handed off, or the board reboots
		}
		if errors.Is(err, errRetryFailed) {
			continue // the handoff failed again: the operator may try more
		}
		b.remoteFallback(err)
		return
	}
}

var errRetryFailed = errors.New("the handoff failed again")

// remoteBuild is true: this /init has the remote rescue.
const remoteBuild = true

// remoteHooks are where a running remote rescue takes PID 1's signals.
type remoteHooks struct {
	retry  atomic.Pointer[chan struct{}]  // `wgboot retry` (SIGHUP with retryRequest)
	reboot atomic.Pointer[chan os.Signal] // a reboot signal: the server ends first
}

func init() {
	policyText[board.FailRemote] = "starting the SSH server on the tunnel's addresses"
}

// noRemote leaves on_failure = "remote" as it is: this /init has the
// rescue (the default /init's replaces it with remote_fallback).
func (b *boot) noRemote() {}

// remoteFallback follows remote_fallback when on_failure = "remote" cannot
// offer a rescue; err says why: no tunnel came up, the image has no server
// or its /init no rescue (noremote_linux.go), the profile names no keys.
func (b *boot) remoteFallback(err error) {
	fb := remoteFallbackOf(b.profile)
	b.log.Outcomef(levelErr, "remote rescue: %v; remote_fallback %s: %s", err, fb, policyText[fb])
	b.state.Rescue.Error = err.Error()
	b.state.Policy = string(fb)
	b.writeState()
	if fb == board.FailContinue {
		if herr := b.handoff(); herr != nil {
			b.log.Outcomef(levelErr, "handoff failed: %v", herr)
			b.failurePolicy(board.FailReboot)
		}
		return
	}
	b.failurePolicy(fb)
}

// remoteAddrs are the server's listen addresses: the addresses of the
// tunnels that came up, as the profile gives them. None when the tunnels
// phase committed no tunnel.
func (b *boot) remoteAddrs() []string {
	if b.net == nil || b.profile == nil {
		return nil
	}
	var out []string
	for _, up := range b.net.tunnels {
		for i := range b.profile.Tunnels {
			t := &b.profile.Tunnels[i]
			if t.Name != up.Name {
				continue
			}
			for _, a := range t.Address {
				out = append(out, netip.AddrPortFrom(a.Addr(), remotePort).String())
			}
		}
	}
	return out
}

// remoteOnce starts the server and waits for how it ends: a reboot
// (timeout, the session over, the server gone) returns nil after the
// reboot was asked for; a retry that handed off never returns; one that
// failed returns errRetryFailed. Any other error means no rescue could be
// offered.
func (b *boot) remoteOnce() error {
	addrs := b.remoteAddrs()
	if len(addrs) == 0 {
		return errors.New("no tunnel came up: nobody could reach the board")
	}
	if _, err := os.Stat(remoteServer); err != nil {
		return errors.New("this image has no " + remoteServer + ": rebuild it with RESCUE=1 (mkimage -rescue)")
	}
	rs := b.profile.Rescue
	if rs.AuthorizedKeysFile == "" {
		return errors.New("the profile has no [rescue] authorized_keys_file")
	}
	timeout := rs.Timeout
	if timeout <= 0 {
		timeout = board.DefaultRescueTimeout
	}
	sh := ""
	for _, s := range shells {
		if _, err := os.Stat(s); err == nil {
			sh = s
			break
		}
	}
	args := []string{remoteServer, "-authorized-keys", rs.AuthorizedKeysFile, "-status-fd", "3"}
	if sh != "" {
		args = append(args, "-shell", sh)
	}
	if _, ok := b.persistPath("wgboot"); ok {
		args = append(args, "-host-key", remoteHostKey)
	}
	for _, a := range addrs {
		args = append(args, "-listen", a)
	}

	// One pipe for the server's log and its status lines, each line
	// written whole: the log's lines start with "remote: ".
	r, w, err := os.Pipe()
	if err != nil {
		return err
	}
	pid, done, err := startChild(remoteServer, args, &syscall.ProcAttr{
		Env:   shellEnv,
		Files: []uintptr{w.Fd(), w.Fd(), w.Fd(), w.Fd()}, // stdin write-only: it reads nothing
		Sys:   &syscall.SysProcAttr{Setsid: true},
	})
	w.Close()
	if err != nil {
		r.Close()
		return err
	}
	b.log.Warnf("remote rescue: %s started (pid %d) on %s", remoteServer, pid, strings.Join(addrs, " "))
	b.state.Policy = string(board.FailRemote)
	b.state.Rescue.Listen, b.state.Rescue.Error = nil, ""
	status := make(chan string, 8)
	// quit ends the reader when this server's loop is over (a failed
	// retry starts another): a status line nobody will read must not
	// hold it, and the pipe, for ever.
	quit := make(chan struct{})
	defer close(quit)
	go readRemote(r, status, quit, func(l string) { b.log.Infof("%s", l) })

	dog := b.remoteWatchdog()
	ping := time.NewTicker(remotePingEvery(dog))
	defer ping.Stop()
	wait := time.NewTimer(timeout)
	defer wait.Stop()
	retry := make(chan struct{}, 1)
	b.setRetry(retry)
	defer b.setRetry(nil)
	// A reboot from a session (`reboot` signals PID 1) ends the server,
	// and with it the sessions, before the board reboots.
	rebootSig := make(chan os.Signal, 1)
	b.rescue.reboot.Store(&rebootSig)
	defer b.rescue.reboot.Store(nil)
	b.park() // SIGTERM and ctrl-alt-del reboot from here on

	// keep feeds the watchdog: every wait below is fed on ping's ticks,
	// for a retry's waits together (up to a drain, a stop and killAll's
	// 0.6 s) can outlast a short timeout the driver granted.
	keep := func() {
		if dog != nil {
			dog.Keepalive()
		}
	}
	stop := func() {
		if done == nil {
			return // exited and reaped: the pid may be another's by now
		}
		stopFed(pid, done, remoteStopWait, ping.C, keep)
	}
	reboot := func(why string) error {
		stop()
		b.log.Outcomef(levelWarn, "remote rescue: %s: rebooting", why)
		b.releaseRemoteWatchdog(dog)
		rebootNow(b)
		return nil
	}
	open := false
	for {
		select {
		case l, ok := <-status:
			if !ok {
				status = nil
				continue
			}
			switch f := strings.Fields(l); {
			case len(f) >= 2 && f[0] == "hostkey":
				b.state.Rescue.HostKey = f[1]
				if len(f) >= 3 && f[2] != "-" {
					b.state.Rescue.HostKeyFile = f[2]
				}
				b.log.Outcomef(levelWarn, "remote rescue: ssh root@%s (host key %s); %s without a login reboots",
					strings.Join(addrs, " or "), f[1], timeout)
			case len(f) == 2 && f[0] == "listen":
				b.state.Rescue.Listen = append(b.state.Rescue.Listen, f[1])
				b.writeState()
			case l == "open":
				open = true
				wait.Stop()
			case l == "idle" && open:
				return reboot("the session ended")
			}
		case <-wait.C:
			if !open {
				return reboot("no login within " + timeout.String())
			}
		case ws := <-done:
			done = nil
			b.log.Errorf("remote rescue: %s exited (%s)", remoteServer, exitText(ws))
			return reboot("the server is gone")
		case s := <-rebootSig:
			if open {
				return reboot("signal " + s.String() + " (reboot) with a session open: the session ends")
			}
			return reboot("signal " + s.String() + " (reboot)")
		case <-ping.C:
			keep()
		case <-retry:
			b.log.Outcomef(levelWarn, "remote rescue: retry: the handoff runs again")
			// The session's last words (`wgboot retry`'s answer) reach
			// the client before the server goes.
			deadline := time.After(remoteStopWait)
		drain:
			for status != nil {
				select {
				case l, ok := <-status:
					if !ok || l == "idle" {
						break drain
					}
				case <-ping.C:
					keep()
				case <-deadline:
					break drain
				}
			}
			stop()
			killAll(keep)
			b.releaseRemoteWatchdog(dog)
			// The next stage reads a boot that got there.
			failure := b.state.Failure
			b.state.Failure, b.state.Policy = "", ""
			b.writeState()
			if err := b.handoff(); err != nil {
				b.log.Outcomef(levelErr, "remote rescue: handoff failed: %v; starting the SSH server again", err)
				// What the next session's `wgboot state` reads: this
				// failure, counted, and the policy that still holds.
				b.state.Failure, b.state.Policy = err.Error(), string(board.FailRemote)
				b.state.Rescue.Retries++
				if failure != "" && failure != b.state.Failure {
					b.log.Infof("remote rescue: the failure before the retry: %s", failure)
				}
				b.writeState()
				return errRetryFailed
			}
			return nil // not reached: handoff execs
		}
	}
}

// killAll ends every process but PID 1 (the rescue sessions' shells and
// what they started) before a handoff: none may live on in the next
// stage. The kernel does not deliver to PID 1 its own kill(-1).
// readRemote reads the server's pipe until its end or quit: log lines
// (they start with "remote: ") go to logf, the others to status, which
// it closes when it returns, with r.
func readRemote(r io.ReadCloser, status chan<- string, quit <-chan struct{}, logf func(string)) {
	defer close(status)
	defer r.Close()
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		if l := sc.Text(); strings.HasPrefix(l, "remote: ") {
			logf(l)
		} else {
			select {
			case status <- l:
			case <-quit:
				return
			}
		}
	}
}

// keep feeds the watchdog before and between its waits.
func killAll(keep func()) {
	keep()
	unix.Kill(-1, unix.SIGTERM)
	time.Sleep(500 * time.Millisecond)
	keep()
	unix.Kill(-1, unix.SIGKILL)
	time.Sleep(100 * time.Millisecond)
	reap()
	keep()
}

// stopFed ends the child pid: SIGTERM, and SIGKILL if done has not come
// within wait. It calls keep on every tick meanwhile, so that the
// watchdog is fed through the wait.
func stopFed(pid int, done <-chan unix.WaitStatus, wait time.Duration, tick <-chan time.Time, keep func()) {
	unix.Kill(pid, unix.SIGTERM)
	t := time.NewTimer(wait)
	defer t.Stop()
	for {
		select {
		case <-done:
			return
		case <-tick:
			keep()
		case <-t.C:
			unix.Kill(pid, unix.SIGKILL)
			return
		}
	}
}

// remoteWatchdog opens the watchdog again for the rescue, if the boot
// left it armed: PID 1 feeds it while the rescue runs, a bounded wait of
// its own, so that the board is not reset under an operator. It is the
// device the boot armed, as the state file records it, with the timeout
// the driver granted: the profile that ran may name none, or another (a
// config partition's profile runs after the image's opened its own).
func (b *boot) remoteWatchdog() watchdogDevice {
	wd := b.state.Watchdog
	if wd.Device == "" || wd.Handoff != "armed" {
		return nil
	}
	d, err := openWatchdogDevice(wd.Device, time.Duration(wd.TimeoutS)*time.Second)
	if d == nil {
		b.log.Warnf("remote rescue: watchdog %s: %v", wd.Device, err)
		return nil
	}
	d.Keepalive()
	b.log.Infof("remote rescue: watchdog %s fed while the rescue runs", d.Path())
	return d
}

// releaseRemoteWatchdog lets go of the watchdog as the boot did.
func (b *boot) releaseRemoteWatchdog(d watchdogDevice) {
	if d == nil {
		return
	}
	d.Keepalive()
	if p := b.watchdogProfile(); p != nil && p.Board.WatchdogHandoff == board.WatchdogDisarm {
		d.Disarm()
	} else {
		d.Release()
	}
}

// remoteReboot hands a reboot signal to a running remote rescue, which
// stops its server before the reboot; it reports whether one took it.
func (b *boot) remoteReboot(s os.Signal) bool {
	ch := b.rescue.reboot.Load()
	if ch == nil {
		return false
	}
	select {
	case *ch <- s:
	default:
	}
	return true
}

// retryRequest is the file `wgboot retry` creates before it sends PID 1
// SIGHUP; PID 1 removes it when it takes the request. A SIGHUP without it
// (from a habit of reloading init) is only logged.
var retryRequest = path.Join(path.Dir(statePath), "retry")

// setRetry says where a retry request goes; nil: nowhere, none is taken.
func (b *boot) setRetry(ch chan struct{}) {
	if ch == nil {
		b.rescue.retry.Store(nil)
		return
	}
	b.rescue.retry.Store(&ch)
}

// onRetrySignal takes a retry request, on SIGHUP; it reports whether
// there was one to take.
func (b *boot) onRetrySignal() bool {
	ch := b.rescue.retry.Load()
	if ch == nil {
		return false
	}
	if err := os.Remove(retryRequest); err != nil {
		return false
	}
	select {
	case *ch <- struct{}{}:
	default:
	}
	return true
}

// retryWait bounds how long `wgboot retry` waits for PID 1 to take its
// request.
var retryWait = 10 * time.Second

// signalInit sends PID 1 the retry signal; the tests replace it.
var signalInit = func() error { return unix.Kill(1, unix.SIGHUP) }

// retryCmd is `wgboot retry`: it asks PID 1, in a remote rescue, to run the
// handoff again, and says whether it took the request. The session ends
// when the handoff begins.
func retryCmd(stdout, stderr io.Writer, args []string) int {
	if len(args) > 0 {
		fmt.Fprint(stderr, usage())
		return 2
	}
	if err := os.WriteFile(retryRequest, nil, 0o600); err != nil {
		fmt.Fprintln(stderr, "wgboot retry:", err)
		return 1
	}
	if err := signalInit(); err != nil {
		os.Remove(retryRequest)
		fmt.Fprintln(stderr, "wgboot retry: signal init:", err)
		return 1
	}
	for end := time.Now().Add(retryWait); time.Now().Before(end); time.Sleep(100 * time.Millisecond) {
		if _, err := os.Stat(retryRequest); errors.Is(err, fs.ErrNotExist) {
			fmt.Fprintln(stdout, "wgboot retry: init runs the handoff again; this session ends now (`wgboot state` tells why if it fails again)")
			return 0
		}
	}
	os.Remove(retryRequest)
	fmt.Fprintf(stderr, "wgboot retry: init did not take the request within %v: it takes one only in a remote rescue (on_failure = \"remote\")\n", retryWait)
	return 1
}
