// Command testroot is the /sbin/init of the root disk that the QEMU
// end-to-end tests hand off to. It checks what wgboot promised the main
// system — the tunnel still up with its peer, the state file, a clean
// environment, no descriptor inherited but the console's — pings the hub
// through the tunnel, prints one verdict line and powers off.
//
// Kernel command line: testroot.ping=ADDR[,ADDR...] (the hub's tunnel
// addresses, each pinged 10 times), testroot.tunnel=NAME (default wg0),
// testroot.persist=DEV (the config partition, which must not be mounted
// any more), testroot.hold=DURATION (wait that long before powering off:
// a watchdog left armed resets the guest first). The verdict says whether
// the watchdog wgboot may have left armed runs (watchdog=active|inactive,
// from /sys/class/watchdog/watchdog0/state; none without one) and what the
// state file says of it. It ends with what the state file says of a fleet
// boot: from=image|persist, the fallback's profile, and
// key=TUNNEL:PUBLIC-KEY[:new] for each key file.
//
// Every peer the state file gives an endpoint_from (a host name or
// fallback endpoints were involved) must have, in the kernel, the endpoint
// the state file says, and is printed: "testroot: endpoint wg0 PEER
// 192.168.50.1:51820 from hub.wgboot.test:51820".
//
// When the disk has the board's profile at /etc/wgboot-expect/profile.toml
// (put there by the test, without keys), every tunnel's kernel state —
// link, MTU, addresses, routes, rules, peers — is checked against what
// netsetup/bringup makes of it, the code PID 1 ran.
package main

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/wgboot/wgboot/board"
	"github.com/wgboot/wgboot/internal/bootstate"
	"github.com/wgboot/wgboot/netsetup"
	"github.com/wgboot/wgboot/netsetup/bringup"
	"github.com/wgboot/wgboot/netsetup/wg"
)

// inherited are the descriptors above stderr that testroot started with,
// taken before it opens any: what wgboot's exec let through, which must be
// nothing (every descriptor PID 1 opens is close-on-exec). The runtime's
// own (cgroup files, for GOMAXPROCS) do not count.
var inherited = func() []string {
	var out []string
	for fd := 3; fd < 1024; fd++ {
		if _, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0); err != nil {
			continue
		}
		what, _ := os.Readlink(fmt.Sprintf("/proc/self/fd/%d", fd))
		if !strings.HasPrefix(what, "/sys/fs/cgroup/") {
			out = append(out, fmt.Sprintf("%d (%s)", fd, what))
		}
	}
	return out
}()

func main() {
	hold, err := run()
	if err != nil {
		fmt.Printf("testroot: FAIL %v\n", err)
	}
	if hold > 0 {
		fmt.Printf("testroot: holding for %v\n", hold)
		time.Sleep(hold)
	}
	unix.Sync()
	unix.Reboot(unix.LINUX_REBOOT_CMD_POWER_OFF)
	for {
		time.Sleep(time.Hour)
	}
}

func run() (hold time.Duration, err error) {
	fmt.Printf("testroot: running as PID %d\n", os.Getpid())
	raw, err := os.ReadFile("/proc/cmdline")
	if err != nil {
		return 0, fmt.Errorf("/proc not moved into the new root: %w", err)
	}
	params := map[string]string{}
	for _, f := range strings.Fields(string(raw)) {
		k, v, _ := strings.Cut(f, "=")
		params[k] = v
	}
	if h := params["testroot.hold"]; h != "" {
		if hold, err = time.ParseDuration(h); err != nil {
			return 0, err
		}
	}
	return hold, check(params)
}

func check(params map[string]string) error {
	tunnel := params["testroot.tunnel"]
	if tunnel == "" {
		tunnel = "wg0"
	}
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if k != "PATH" && k != "TERM" && k != "HOME" {
			return fmt.Errorf("unexpected environment variable %s", k)
		}
	}
	if len(inherited) > 0 {
		return fmt.Errorf("descriptors inherited from wgboot (not close-on-exec): %s", strings.Join(inherited, ", "))
	}
	var st bootstate.State
	data, err := os.ReadFile(bootstate.Path)
	if err != nil {
		return fmt.Errorf("state file: %w", err)
	}
	if err := json.Unmarshal(data, &st); err != nil {
		return fmt.Errorf("state file: %w", err)
	}
	h, err := netsetup.Open()
	if err != nil {
		return err
	}
	link, err := h.LinkByName(tunnel)
	if err != nil {
		return fmt.Errorf("tunnel %s after switch_root: %w", tunnel, err)
	}
	if link.Flags&unix.IFF_UP == 0 {
		return fmt.Errorf("tunnel %s is down after switch_root", tunnel)
	}
	c, err := wg.Open()
	if err != nil {
		return err
	}
	dev, err := c.Device(tunnel)
	if err != nil {
		return err
	}
	if len(dev.Peers) == 0 {
		return fmt.Errorf("tunnel %s has no peer after switch_root", tunnel)
	}
	checked, err := checkProfile(h, c)
	if err != nil {
		return err
	}
	if err := secretsGone(); err != nil {
		return err
	}
	endpoints, err := checkEndpoints(c, &st)
	if err != nil {
		return err
	}
	if dev := params["testroot.persist"]; dev != "" {
		if err := notMounted(dev); err != nil {
			return err
		}
	}
	lease := ""
	if st.Uplink != nil && st.Uplink.DHCP != nil {
		if lease, err = leaseHeld(h, st.Uplink.Interface, st.Uplink.DHCP.Address, st.Uplink.DHCP.ServerID); err != nil {
			return err
		}
	}
	replies, sent := 0, 0
	if targets := params["testroot.ping"]; targets != "" && st.Ready {
		for target := range strings.SplitSeq(targets, ",") {
			addr, err := netip.ParseAddr(target)
			if err != nil {
				return err
			}
			n, err := ping(addr, 10)
			if err != nil {
				return err
			}
			replies, sent = replies+n, sent+10
		}
	} else {
		sent = 10
	}
	wd := "none"
	if b, err := os.ReadFile("/sys/class/watchdog/watchdog0/state"); err == nil {
		wd = strings.TrimSpace(string(b))
	}
	// Which profile ran, and the keys for enrollment (issue 13).
	fleet := ""
	if st.ProfileFrom != "" {
		fleet += " from=" + st.ProfileFrom
	}
	if st.Fallback.Profile != "" {
		fleet += " fallback=" + st.Fallback.Profile
	}
	for _, k := range st.Keys {
		fleet += " key=" + k.Tunnel + ":" + k.PublicKey
		if k.Generated {
			fleet += ":new"
		}
	}
	fmt.Printf("testroot: OK tunnel=%s up peers=%d handshake=%v pings=%d/%d ready=%v checked=%d secrets=0 args=%q watchdog=%s state.watchdog=%q endpoints=%d%s%s\n",
		tunnel, len(dev.Peers), !dev.Peers[0].LastHandshake.IsZero(), replies, sent, st.Ready, checked, os.Args[1:], wd, st.Watchdog.Handoff, endpoints, lease, fleet)
	return nil
}

// checkEndpoints compares, for every peer that the state file says where
// its endpoint came from, the kernel's endpoint with the state file's, and
// prints each; it returns how many it checked.
func checkEndpoints(c *wg.Client, st *bootstate.State) (int, error) {
	n := 0
	for _, t := range st.Tunnels {
		var dev *wg.Device
		for _, p := range t.Peers {
			if p.EndpointFrom == "" {
				continue
			}
			if dev == nil {
				var err error
				if dev, err = c.Device(t.Name); err != nil {
					return n, err
				}
			}
			var got string
			for _, kp := range dev.Peers {
				if kp.PublicKey.String() == p.PublicKey {
					got = kp.Endpoint.String()
				}
			}
			if got != p.Endpoint {
				return n, fmt.Errorf("tunnel %s peer %s: the kernel has endpoint %q, the state file %q", t.Name, p.PublicKey, got, p.Endpoint)
			}
			fmt.Printf("testroot: endpoint %s %s %s from %s tried %v\n", t.Name, p.PublicKey, p.Endpoint, p.EndpointFrom, p.EndpointsTried)
			n++
		}
	}
	return n, nil
}

// leaseHeld checks that the DHCP lease of the state file is what the
// kernel has: the address on the uplink, with a finite lifetime that
// counts the lease down. It returns " lease=ADDR server=ID valid=Ns" for
// the verdict.
func leaseHeld(h *netsetup.Handle, uplink, addr, server string) (string, error) {
	p, err := netip.ParsePrefix(addr)
	if err != nil {
		return "", fmt.Errorf("state file: lease address: %w", err)
	}
	l, err := h.LinkByName(uplink)
	if err != nil {
		return "", err
	}
	addrs, err := h.Addresses(l.Index)
	if err != nil {
		return "", err
	}
	for _, a := range addrs {
		if a.Prefix != p {
			continue
		}
		if a.Valid <= 0 || a.Valid == netsetup.Forever {
			return "", fmt.Errorf("leased address %s has lifetime %v, want the lease's", p, a.Valid)
		}
		return fmt.Sprintf(" lease=%s server=%s valid=%ds", p, server, int(a.Valid.Seconds())), nil
	}
	return "", fmt.Errorf("leased address %s is not on %s after switch_root", p, uplink)
}

// secretsGone fails if the next stage can read what wgboot had to keep
// from it: /etc/wgboot (profiles, which may hold inline keys) or any key
// file (*.key, *.psk) on the root file system.
func secretsGone() error {
	if _, err := os.Lstat("/etc/wgboot"); err == nil {
		return errors.New("/etc/wgboot is still there")
	}
	var root unix.Stat_t
	if err := unix.Stat("/", &root); err != nil {
		return err
	}
	var found []string
	filepath.WalkDir("/", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		var st unix.Stat_t
		if unix.Lstat(p, &st) != nil || st.Dev != root.Dev {
			return fs.SkipDir // another file system: /proc, /sys, /dev, /run
		}
		if !d.IsDir() && (strings.HasSuffix(p, ".key") || strings.HasSuffix(p, ".psk")) {
			found = append(found, p)
		}
		return nil
	})
	if len(found) > 0 {
		return fmt.Errorf("key files left for the next stage: %v", found)
	}
	return nil
}

// notMounted fails if dev, the board's config partition, is still mounted:
// wgboot unmounts it before the handoff.
func notMounted(dev string) error {
	data, err := os.ReadFile("/proc/self/mounts")
	if err != nil {
		return err
	}
	for _, line := range strings.Split(string(data), "\n") {
		if f := strings.Fields(line); len(f) > 1 && f[0] == dev {
			return fmt.Errorf("the config partition %s is still mounted on %s", dev, f[1])
		}
	}
	return nil
}

// expectPath is where the tests put the board's profile on the root disk.
const expectPath = "/etc/wgboot-expect/profile.toml"

// checkProfile checks every tunnel of the profile at expectPath against
// the kernel and returns how many it checked; 0 without a profile.
func checkProfile(h *netsetup.Handle, c *wg.Client) (int, error) {
	data, err := os.ReadFile(expectPath)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	p, diags := board.Parse(expectPath, data)
	if err := diags.Err(); err != nil {
		return 0, err
	}
	n := bringup.Net{RT: h, WG: c}
	for i := range p.Tunnels {
		if err := n.Check(&p.Tunnels[i]); err != nil {
			return i, fmt.Errorf("kernel state differs from the profile: %w", err)
		}
	}
	return len(p.Tunnels), nil
}

// ping sends n ICMP echo requests to dst over a raw socket, one at a time,
// and counts the replies that come within a second each.
func ping(dst netip.Addr, n int) (int, error) {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.IPPROTO_ICMP)
	if err != nil {
		return 0, fmt.Errorf("icmp socket: %w", err)
	}
	defer unix.Close(fd)
	tv := unix.Timeval{Sec: 1}
	unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv)
	sa := &unix.SockaddrInet4{Addr: dst.As4()}
	id := uint16(os.Getpid())
	got := 0
	for seq := 1; seq <= n; seq++ {
		msg := []byte{8, 0, 0, 0, byte(id >> 8), byte(id), byte(seq >> 8), byte(seq), 'w', 'g', 'b', 'o', 'o', 't'}
		binary.BigEndian.PutUint16(msg[2:], checksum(msg))
		if err := unix.Sendto(fd, msg, 0, sa); err != nil {
			return got, fmt.Errorf("send echo %d: %w", seq, err)
		}
		buf := make([]byte, 1500)
		deadline := time.Now().Add(time.Second)
		for time.Now().Before(deadline) {
			m, _, err := unix.Recvfrom(fd, buf, 0)
			if err != nil {
				break
			}
			ihl := int(buf[0]&0x0f) * 4
			if m < ihl+8 {
				continue
			}
			icmp := buf[ihl:m]
			if icmp[0] == 0 && binary.BigEndian.Uint16(icmp[4:]) == id && binary.BigEndian.Uint16(icmp[6:]) == uint16(seq) {
				got++
				break
			}
		}
	}
	return got, nil
}

func checksum(b []byte) uint16 {
	var s uint32
	for i := 0; i+1 < len(b); i += 2 {
		s += uint32(b[i])<<8 | uint32(b[i+1])
	}
	if len(b)%2 == 1 {
		s += uint32(b[len(b)-1]) << 8
	}
	for s > 0xffff {
		s = s>>16 + s&0xffff
	}
	return ^uint16(s)
}
