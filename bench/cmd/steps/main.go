// Command steps is the boot benchmark's (bench/cmd/bootbench) minimal Go
// PID 1 doing wgboot's job with the code PID 1 runs (netsetup/bringup),
// with a marker in the kernel log after each step of the bring-up: what
// every step costs, without init's phases, policies or logging. Then it
// powers off.
package main

import (
	"net/netip"
	"os"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/wgboot/wgboot/board"
	"github.com/wgboot/wgboot/internal/kmod"
	"github.com/wgboot/wgboot/netsetup"
	"github.com/wgboot/wgboot/netsetup/bringup"
	"github.com/wgboot/wgboot/netsetup/wg"
)

var kmsg = -1

func mark(s string) {
	if kmsg >= 0 {
		unix.Write(kmsg, []byte("<6>steps: "+s))
	}
}

func main() {
	unix.Mount("devtmpfs", "/dev", "devtmpfs", unix.MS_NOSUID, "mode=0755")
	kmsg, _ = unix.Open("/dev/kmsg", unix.O_WRONLY|unix.O_CLOEXEC, 0)
	mark("main")
	if err := run(); err != nil {
		mark("FAILED " + err.Error())
	}
	unix.Reboot(unix.LINUX_REBOOT_CMD_POWER_OFF)
	// Reached only if the power-off failed. A PID 1 in select{} with no
	// other goroutine is a deadlock the runtime exits on: a kernel panic.
	for {
		time.Sleep(time.Hour)
	}
}

func run() error {
	unix.Mount("proc", "/proc", "proc", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, "")
	unix.Mount("sysfs", "/sys", "sysfs", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, "")
	unix.Mount("tmpfs", "/run", "tmpfs", unix.MS_NOSUID|unix.MS_NODEV, "mode=0755")
	mark("profile start")
	p, diags := board.Load(os.DirFS("/"), "etc/wgboot/profiles/bench.toml")
	if err := diags.Err(); err != nil {
		return err
	}
	mark("profile done")
	mark("modules start")
	l, err := kmod.New(nil)
	if err != nil {
		return err
	}
	if _, err := l.LoadAll(p.Board.Modules); err != nil {
		return err
	}
	mark("modules done")
	rt, err := netsetup.Open()
	if err != nil {
		return err
	}
	c, err := wg.Open()
	if err != nil {
		return err
	}
	mark("sockets")
	n := &bringup.Net{RT: rt, WG: c, Log: nopLog{}, Trace: mark}
	for i := range p.Tunnels {
		if _, err := n.TunnelUp(&p.Tunnels[i]); err != nil {
			return err
		}
	}
	// After the measured part: the same profile read again, now that
	// its code has run once (under QEMU's TCG, code runs slowly the first
	// time, while it is translated), and what a console line costs.
	mark("profile again start")
	p2, _ := board.Load(os.DirFS("/"), "etc/wgboot/profiles/bench.toml")
	mark("profile again done")
	// And the same bring-up again, for a second tunnel: what each step
	// costs once its code, and the kernel's, has run (the first tunnel's
	// steps include everything that runs for the first time in this boot).
	// Another name, port and address, and no routes, so that nothing
	// clashes with the first.
	if p2 != nil && len(p2.Tunnels) > 0 {
		t := p2.Tunnels[0]
		t.Name, t.ListenPort, t.Table = "wg1", t.ListenPort+1, board.TableOff
		t.Address = []netip.Prefix{netip.MustParsePrefix("10.78.0.2/24")}
		n.Trace = func(step string) { mark("again " + step) }
		mark("again start")
		if _, err := n.TunnelUp(&t); err != nil {
			return err
		}
	}
	mark("console start")
	mark(strings.Repeat("0123456789", consoleLine/10))
	mark("console done")
	return nil
}

// consoleLine is the length of the line written to price console output.
const consoleLine = 1000

// nopLog discards the bring-up's log lines: the markers are the output.
type nopLog struct{}

func (nopLog) Infof(string, ...any)  {}
func (nopLog) Warnf(string, ...any)  {}
func (nopLog) Errorf(string, ...any) {}
