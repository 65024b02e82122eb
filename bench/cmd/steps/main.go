// Command steps is the boot benchmark's (bench/cmd/bootbench) minimal Go
// PID 1 doing wgboot's job one kernel request at a time, with a marker in
// the kernel log after each: what every step of the bring-up costs the
// kernel, which no implementation can go below. It uses wgboot's own
// packages (board, internal/kmod, netsetup, netsetup/wg) but none of init's
// phases, policies or logging, then powers off.
package main

import (
	"os"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/wgboot/wgboot/board"
	"github.com/wgboot/wgboot/internal/kmod"
	"github.com/wgboot/wgboot/netsetup"
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
	select {}
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
	for _, t := range p.Tunnels {
		link, err := rt.CreateLink(t.Name, "wireguard")
		if err != nil {
			return err
		}
		mark("link")
		pk, port, mark0 := t.PrivateKey, int(t.ListenPort), t.FwMark
		cfg := wg.Config{PrivateKey: &pk, ListenPort: &port, FirewallMark: &mark0, ReplacePeers: true}
		for _, peer := range t.Peers {
			pc := wg.PeerConfig{PublicKey: peer.PublicKey, Endpoint: peer.Endpoint, ReplaceAllowedIPs: true, AllowedIPs: peer.AllowedIPs}
			if !peer.PresharedKey.IsZero() {
				psk := peer.PresharedKey
				pc.PresharedKey = &psk
			}
			ka := time.Duration(peer.PersistentKeepalive) * time.Second
			pc.PersistentKeepalive = &ka
			cfg.Peers = append(cfg.Peers, pc)
		}
		if err := c.Configure(t.Name, cfg); err != nil {
			return err
		}
		mark("setconf")
		for _, a := range t.Address {
			if err := rt.AddAddress(link.Index, a); err != nil {
				return err
			}
		}
		mark("address")
		if err := rt.SetMTU(link.Index, t.MTU); err != nil {
			return err
		}
		mark("mtu")
		if err := rt.SetLinkUp(link.Index, true); err != nil {
			return err
		}
		mark("up")
		for _, peer := range t.Peers {
			for _, a := range peer.AllowedIPs {
				if err := rt.ReplaceRoute(netsetup.Route{Dst: a.Masked(), OIF: link.Index, Table: uint32(t.Table)}); err != nil {
					return err
				}
			}
		}
		mark("route")
	}
	// After the measured part: the same profile read again, now that
	// its code has run once (under QEMU's TCG, code runs slowly the first
	// time, while it is translated), and what a console line costs.
	mark("profile again start")
	board.Load(os.DirFS("/"), "etc/wgboot/profiles/bench.toml")
	mark("profile again done")
	mark("console start")
	mark(strings.Repeat("0123456789", consoleLine/10))
	mark("console done")
	return nil
}

// consoleLine is the length of the line written to price console output.
const consoleLine = 1000
