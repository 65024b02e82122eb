package main

import (
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/wgboot/wgboot/board"
)

// rebootDelay gives a person at the console time to read why.
const rebootDelay = 3 * time.Second

// failurePolicy carries out the profile's on_failure action other than
// continue. It returns only when PID 1 is to stay parked.
func (b *boot) failurePolicy(p board.OnFailure) {
	switch p {
	case board.FailShell:
		b.park()
		b.shell()
	case board.FailReboot:
		b.log.Outcomef(levelWarn, "rebooting in %v", rebootDelay)
		time.Sleep(rebootDelay)
		rebootNow(b)
	case board.FailHalt:
		b.disarmForHalt()
		powerOff(b)
	case board.FailRemote:
		if remoteBuild { // the default /init's noRemote made it remote_fallback
			b.remote()
		}
	}
}

// handoffFailed decides what follows a handoff that failed: the device has
// nothing to run, so unless the policy asks for a shell or a halt it
// reboots, giving the boot loader a chance to pick another image.
func (b *boot) handoffFailed() {
	switch b.policy {
	case board.FailShell, board.FailHalt, board.FailRemote:
		b.failurePolicy(b.policy)
	default:
		b.log.Outcomef(levelErr, "nothing to hand off to: rebooting")
		b.failurePolicy(board.FailReboot)
	}
}

// remoteFallbackOf is p's remote_fallback, or the default where p has none
// (no profile, or one that could not be read).
func remoteFallbackOf(p *board.Profile) board.OnFailure {
	if p != nil && p.Handoff.RemoteFallback.Valid() && p.Handoff.RemoteFallback != board.FailRemote {
		return p.Handoff.RemoteFallback
	}
	return board.DefaultRemoteFallback
}

// shells are tried in order; u-root images have gosh under /bbin.
var shells = []string{"/bin/sh", "/bbin/gosh", "/bin/gosh", "/bbin/sh"}

// shellEnv is the whole environment of the rescue shell: u-root's /bbin on
// the PATH, and, as for the next stage, no variable of init's own and never
// a secret.
var shellEnv = []string{
	"PATH=/bbin:/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin",
	"TERM=linux",
	"HOME=/",
}

// shellBanner is printed on the console before each shell.
const shellBanner = "\nwgboot rescue shell: `wgboot show` shows the WireGuard tunnels, `wgboot state` the boot;\n" +
	"`dmesg`, `ip addr`, `ip route` and `ps` the rest. `reboot` reboots; `exit` starts a new shell.\n\n"

// shell runs a shell on the console, restarting it when it exits. Without
// one in the image it says so and returns, leaving PID 1 parked.
func (b *boot) shell() {
	sh := ""
	for _, s := range shells {
		if _, err := os.Stat(s); err == nil {
			sh = s
			break
		}
	}
	if sh == "" {
		msg := "shell: this image has no shell (none of " + strings.Join(shells, ", ") +
			"); rebuild it with RESCUE=1 (mkimage -rescue) to get one. Waiting; ctrl-alt-del or SIGTERM reboots"
		b.log.Errorf("%s", msg)
		// On the console too: the last kmsg record can wait in the kernel
		// until the next one, and a parked board logs nothing more.
		if c, err := os.OpenFile("/dev/console", os.O_WRONLY, 0); err == nil {
			c.WriteString("wgboot: " + msg + "\n")
			c.Close()
		}
		return
	}
	for {
		console, err := os.OpenFile("/dev/console", os.O_RDWR, 0)
		if err != nil {
			b.log.Errorf("shell: open /dev/console: %v", err)
			return
		}
		b.log.Warnf("shell: starting %s on the console", sh)
		// The banner goes to the console itself: a kmsg record can wait
		// in the kernel until the next one before the console shows it.
		console.WriteString(shellBanner + b.watchdogShellHint())
		fd := console.Fd()
		_, done, err := startChild(sh, []string{sh}, &syscall.ProcAttr{
			Env:   shellEnv,
			Files: []uintptr{fd, fd, fd},
			// A session of its own with the console as its controlling
			// terminal, so that job control and ^C work.
			Sys: &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0},
		})
		console.Close()
		if err != nil {
			b.log.Errorf("shell: start %s: %v", sh, err)
			return
		}
		ws := <-done
		b.log.Warnf("shell exited (%v); starting it again", exitText(ws))
		time.Sleep(time.Second)
	}
}

func exitText(ws unix.WaitStatus) string {
	if ws.Signaled() {
		return "signal " + ws.Signal().String()
	}
	return "status " + strconv.Itoa(ws.ExitStatus())
}

// rebootNow syncs and reboots at once.
func rebootNow(b *boot) {
	b.persistRelease()
	unix.Sync()
	if err := unix.Reboot(unix.LINUX_REBOOT_CMD_RESTART); err != nil {
		b.log.Errorf("reboot: %v", err)
	}
}

// powerOff syncs and powers off, or halts where power-off is not possible.
// The tests replace it.
var powerOff = func(b *boot) {
	b.persistRelease()
	unix.Sync()
	if err := unix.Reboot(unix.LINUX_REBOOT_CMD_POWER_OFF); err != nil {
		b.log.Errorf("power off: %v; halting", err)
		unix.Reboot(unix.LINUX_REBOOT_CMD_HALT)
	}
}
