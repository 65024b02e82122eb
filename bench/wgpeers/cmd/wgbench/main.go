// Command wgbench times configuring N WireGuard peers inside one guest
// with three tools: wgboot's netsetup/wg (profile parsed by package board),
// Debian's `wg setconf` and wgctrl-go. Each run gets a fresh link; the
// tools take turns within a run, and the median of the runs is reported as
// a markdown table with ratios and the per-peer slope.
//
// It runs as the test program of image/testinit (see ../../bench_test.go):
//
//	wgbench -n=1,100,1000,10000 -runs=3 -wg=/usr/bin/wg
//
// -tools=wgboot,setconf runs only wgboot and wg setconf: at 10,000 peers
// wgctrl-go alone takes four times as long as both. The "wgboot as /init"
// column (-tools=...,init) does what PID 1 does with its profile: read it
// as board.LoadDir does, lint it (Validate), convert it with
// bringup.DeviceConfig, configure.
package main

import (
	"crypto/rand"
	"encoding/binary"
	"flag"
	"fmt"
	"io/fs"
	"net/netip"
	"os"
	"os/exec"
	"runtime"
	"runtime/metrics"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/wgboot/wgboot/board"
	"github.com/wgboot/wgboot/internal/gchold"
	"github.com/wgboot/wgboot/internal/wgkey"
	"github.com/wgboot/wgboot/netsetup/bringup"
	"github.com/wgboot/wgboot/netsetup/wg"
	"golang.zx2c4.com/wireguard/wgctrl"
	"golang.zx2c4.com/wireguard/wgctrl/wgtypes"
)

const link = "wgbench0"

// parsed and lastParse record how long runWgboot spent reading and
// converting the profile, so that the table can show the netlink part
// alone.
var (
	parsed    time.Time
	lastParse time.Duration
)

// tool configures link from the files written for one N.
type tool struct {
	name string
	run  func(files files) error
}

// files are one N's configuration: a profile, the same in a directory of
// its own (as /init's profile directory, relative to /), and a wg(8) file.
type files struct{ toml, conf, dir string }

func main() {
	ns := flag.String("n", "1,100,1000,10000", "peer counts")
	runs := flag.Int("runs", 3, "runs per tool and N (median reported)")
	wgPath := flag.String("wg", "/usr/bin/wg", "wg(8) binary")
	only := flag.String("tools", "", "comma-separated `names` of the tools to run (wgboot, setconf, wgctrl, 4k); empty: all")
	flag.Parse()
	if err := run(*ns, *runs, *wgPath, *only); err != nil {
		fmt.Printf("wgbench: FAIL: %v\n", err)
		os.Exit(1)
	}
}

func run(nList string, runs int, wgPath, only string) error {
	var counts []int
	for _, s := range strings.Split(nList, ",") {
		n, err := strconv.Atoi(s)
		if err != nil {
			return err
		}
		counts = append(counts, n)
	}
	if out, err := exec.Command(wgPath, "--version").CombinedOutput(); err != nil {
		return fmt.Errorf("%s: %v: %s", wgPath, err, out)
	} else {
		fmt.Printf("wgbench: %s", out)
	}
	all := []struct {
		short string
		tool
	}{
		{"wgboot", tool{"wgboot", func(f files) error { return runWgboot(f, 0) }}},
		{"setconf", tool{"wg setconf", func(f files) error { return runWg(wgPath, f) }}},
		{"wgctrl", tool{"wgctrl-go", runWgctrl}},
		{"4k", tool{"wgboot 4KiB msgs", func(f files) error { return runWgboot(f, 4096) }}},
		{"init", tool{"wgboot as /init", runInit}},
	}
	var tools []tool
	for _, t := range all {
		if only == "" || slices.Contains(strings.Split(only, ","), t.short) {
			tools = append(tools, t.tool)
		}
	}
	if len(tools) == 0 || tools[0].name != "wgboot" || !slices.ContainsFunc(tools, func(t tool) bool { return t.name == "wg setconf" }) {
		return fmt.Errorf("-tools=%s: wgboot and setconf are needed (the table's first column and its baseline)", only)
	}
	// Not a tool of its own: the wgboot runs without the profile parse.
	columns := append(tools[:1:1], tool{name: noParse})
	columns = append(columns, tools[1:]...)
	res := make(map[string]map[int]time.Duration)
	for _, n := range counts {
		f, err := writeFiles(n)
		if err != nil {
			return err
		}
		times := make(map[string][]time.Duration)
		for r := range runs {
			for i := range tools {
				t := tools[(i+r)%len(tools)] // rotate the order across runs
				if err := createLink(); err != nil {
					return err
				}
				// Every tool starts from a collected heap, as a fresh
				// PID 1 does: the garbage of the one before (the "as
				// /init" column's, made with the collector off) is not
				// collected in the next one's time.
				runtime.GC()
				start := time.Now()
				err := t.run(f)
				d := time.Since(start)
				if err == nil && r == 0 {
					err = checkPeers(n)
				}
				if ferr := flushPeers(); err == nil {
					err = ferr
				}
				if derr := deleteLink(); err == nil {
					err = derr
				}
				if err != nil {
					return fmt.Errorf("%s, N=%d: %w", t.name, n, err)
				}
				times[t.name] = append(times[t.name], d)
				if t.name == "wgboot as /init" {
					fmt.Printf("wgbench: N=%d wgboot as /init, run %d: %s\n", n, r, initMem)
				}
				if t.name == "wgboot" {
					times[noParse] = append(times[noParse], d-lastParse)
				}
			}
		}
		for name, ds := range times {
			slices.Sort(ds)
			if res[name] == nil {
				res[name] = make(map[int]time.Duration)
			}
			res[name][n] = ds[len(ds)/2]
			fmt.Printf("wgbench: N=%d %s: %v\n", n, name, ds)
		}
	}
	printTable(columns, counts, res, runs)
	return nil
}

const noParse = "wgboot w/o profile parse"

func ms(d time.Duration) string { return strconv.FormatFloat(float64(d)/1e6, 'f', 1, 64) }

func printTable(tools []tool, counts []int, res map[string]map[int]time.Duration, runs int) {
	base := "wg setconf"
	fmt.Println("wgbench: table begin")
	fmt.Printf("Median of %d runs, ms (ratio to `wg setconf`); fresh link per run, parsing included.\n\n", runs)
	hdr := "| N |"
	sep := "|---:|"
	for _, t := range tools {
		hdr += " " + t.name + " |"
		sep += "---:|"
	}
	fmt.Println(hdr)
	fmt.Println(sep)
	for _, n := range counts {
		row := fmt.Sprintf("| %d |", n)
		for _, t := range tools {
			d := res[t.name][n]
			if t.name == base {
				row += " " + ms(d) + " |"
			} else {
				row += fmt.Sprintf(" %s (%.2f×) |", ms(d), float64(d)/float64(res[base][n]))
			}
		}
		fmt.Println(row)
	}
	// Least-squares slope over the N points, and the 10x-step linearity.
	row := "| slope, µs/peer |"
	lin := "| t(max N)/t(N/10)/10 |"
	for _, t := range tools {
		var sx, sy, sxx, sxy float64
		for _, n := range counts {
			x, y := float64(n), float64(res[t.name][n])/1e3
			sx, sy, sxx, sxy = sx+x, sy+y, sxx+x*x, sxy+x*y
		}
		k := float64(len(counts))
		slope := (k*sxy - sx*sy) / (k*sxx - sx*sx)
		row += fmt.Sprintf(" %.1f |", slope)
		hi := counts[len(counts)-1]
		if lo := hi / 10; res[t.name][lo] > 0 {
			lin += fmt.Sprintf(" %.2f |", float64(res[t.name][hi])/float64(res[t.name][lo])/10)
		} else {
			lin += " - |"
		}
	}
	fmt.Println(row)
	fmt.Println(lin)
	fmt.Println("wgbench: table end")
}

// peerData returns the i-th peer: an endpoint, keepalive on every other
// peer, and three allowed IPs (IPv4 /32, IPv6 /128, IPv4 /24).
func peerData(i int) (netip.AddrPort, int, []netip.Prefix) {
	v4 := netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)})
	var v6 [16]byte
	copy(v6[:], []byte{0xfd, 0, 0xbe, 0xef})
	binary.BigEndian.PutUint32(v6[12:], uint32(i))
	net24 := netip.AddrFrom4([4]byte{10, 128 + byte(i>>8), byte(i), 0})
	ep := netip.AddrPortFrom(netip.AddrFrom4([4]byte{192, 0, 2, byte(i)}), uint16(10000+i%50000))
	ka := 0
	if i%2 == 0 {
		ka = 25
	}
	return ep, ka, []netip.Prefix{netip.PrefixFrom(v4, 32), netip.PrefixFrom(netip.AddrFrom16(v6), 128), netip.PrefixFrom(net24, 24)}
}

// writeFiles writes the same configuration as a board profile and as a
// wg(8) configuration file.
func writeFiles(n int) (files, error) {
	priv, err := wgkey.GeneratePrivateKey()
	if err != nil {
		return files{}, err
	}
	var t, c strings.Builder
	fmt.Fprintf(&t, "[board]\nname = \"bench\"\n\n[uplink]\ninterface = \"eth0\"\naddress = [\"192.0.2.2/24\"]\n\n")
	fmt.Fprintf(&t, "[[tunnel]]\nname = %q\nprivate_key = %q\nlisten_port = 51820\n", link, priv.Reveal())
	fmt.Fprintf(&c, "[Interface]\nPrivateKey = %s\nListenPort = 51820\n", priv.Reveal())
	for i := range n {
		var k wgkey.Key
		if _, err := rand.Read(k[:]); err != nil {
			return files{}, err
		}
		ep, ka, ips := peerData(i)
		var q, p []string
		for _, ip := range ips {
			q = append(q, strconv.Quote(ip.String()))
			p = append(p, ip.String())
		}
		fmt.Fprintf(&t, "\n[[tunnel.peer]]\npublic_key = %q\nendpoint = %q\nallowed_ips = [%s]\n", k, ep, strings.Join(q, ", "))
		fmt.Fprintf(&c, "\n[Peer]\nPublicKey = %s\nEndpoint = %s\nAllowedIPs = %s\n", k, ep, strings.Join(p, ", "))
		if ka > 0 {
			fmt.Fprintf(&t, "persistent_keepalive = %d\n", ka)
			fmt.Fprintf(&c, "PersistentKeepalive = %d\n", ka)
		}
	}
	f := files{toml: fmt.Sprintf("/tmp/bench-%d.toml", n), conf: fmt.Sprintf("/tmp/bench-%d.conf", n), dir: fmt.Sprintf("tmp/profile-%d", n)}
	if err := os.WriteFile(f.toml, []byte(t.String()), 0o600); err != nil {
		return files{}, err
	}
	if err := os.MkdirAll("/"+f.dir, 0o700); err != nil {
		return files{}, err
	}
	if err := os.WriteFile("/"+f.dir+"/bench.toml", []byte(t.String()), 0o600); err != nil {
		return files{}, err
	}
	return f, os.WriteFile(f.conf, []byte(c.String()), 0o600)
}

// runWgboot is what PID 1 does: parse the profile, convert the tunnel,
// configure. budget 0 is the default message size.
func runWgboot(f files, budget int) error {
	start := time.Now()
	defer func() { lastParse = parsed.Sub(start) }()
	data, err := os.ReadFile(f.toml)
	if err != nil {
		return err
	}
	p, diags := board.Parse(f.toml, data)
	if diags.HasErrors() {
		return diags.Err()
	}
	tun := p.Tunnels[0]
	port := int(tun.ListenPort)
	cfg := wg.Config{PrivateKey: &tun.PrivateKey, ListenPort: &port, ReplacePeers: true, Peers: make([]wg.PeerConfig, len(tun.Peers))}
	for i, bp := range tun.Peers {
		pc := wg.PeerConfig{PublicKey: bp.PublicKey, Endpoint: bp.Endpoint, ReplaceAllowedIPs: true, AllowedIPs: bp.AllowedIPs}
		if !bp.PresharedKey.IsZero() {
			pc.PresharedKey = &tun.Peers[i].PresharedKey
		}
		if bp.PersistentKeepalive > 0 {
			ka := time.Duration(bp.PersistentKeepalive) * time.Second
			pc.PersistentKeepalive = &ka
		}
		cfg.Peers[i] = pc
	}
	parsed = time.Now()
	c, err := wg.Open()
	if err != nil {
		return err
	}
	defer c.Close()
	c.SetMessageSize(budget)
	return c.Configure(link, cfg)
}

// runInit is what PID 1 does with its profile (init/early_linux.go's
// selectProfile, netsetup/bringup's TunnelUp): LoadDir, ReadKeys,
// Validate without the own-key lint, DeviceConfig, Configure.
//
// As PID 1 (init/boot_linux.go), it runs with the collector off under a
// memory limit (internal/gchold), and records in initMem what the runtime
// held at the end, before the collector is back.
func runInit(f files) error {
	restore := gchold.Hold()
	defer restore()
	mem := memSamples()
	metrics.Read(mem)
	root := os.DirFS("/")
	all, diags := board.LoadDir(root, f.dir)
	if diags.HasErrors() || len(all) != 1 {
		return fmt.Errorf("LoadDir: %d profiles, %v", len(all), diags.Err())
	}
	p := all[0]
	dir, err := fs.Sub(root, f.dir)
	if err != nil {
		return err
	}
	diags = append(diags, p.ReadKeys(board.KeySource{Root: root, Dir: dir})...)
	diags = append(diags, p.Validate(board.SkipSelfPeer)...)
	if diags.HasErrors() {
		return diags.Err()
	}
	cfg := bringup.DeviceConfig(&p.Tunnels[0])
	c, err := wg.Open()
	if err != nil {
		return err
	}
	defer c.Close()
	err = c.Configure(link, cfg)
	end := memSamples()
	metrics.Read(end)
	initMem = fmt.Sprintf("heap objects %.1f MiB (%.1f MiB before), the runtime's memory %.1f MiB (%.1f before), %d GC cycles, %.1f MiB allocated",
		mib(end[0]), mib(mem[0]), mib(end[1]), mib(mem[1]), end[2].Value.Uint64()-mem[2].Value.Uint64(), mib(end[3])-mib(mem[3]))
	return err
}

// initMem is what runInit's last run left on the heap (see memSamples).
var initMem string

// memSamples are the heap's live and unswept objects, all the memory the
// runtime has mapped, the GC cycles and the bytes allocated so far.
func memSamples() []metrics.Sample {
	return []metrics.Sample{
		{Name: "/memory/classes/heap/objects:bytes"},
		{Name: "/memory/classes/total:bytes"},
		{Name: "/gc/cycles/total:gc-cycles"},
		{Name: "/gc/heap/allocs:bytes"},
	}
}

func mib(s metrics.Sample) float64 { return float64(s.Value.Uint64()) / (1 << 20) }

func runWg(wgPath string, f files) error {
	out, err := exec.Command(wgPath, "setconf", link, f.conf).CombinedOutput()
	if err != nil {
		return fmt.Errorf("%v: %s", err, out)
	}
	return nil
}

// runWgctrl parses the wg(8) file into a wgtypes.Config and applies it.
func runWgctrl(f files) error {
	data, err := os.ReadFile(f.conf)
	if err != nil {
		return err
	}
	cfg := wgtypes.Config{ReplacePeers: true}
	var peer *wgtypes.PeerConfig
	for _, line := range strings.Split(string(data), "\n") {
		k, v, ok := strings.Cut(line, " = ")
		switch {
		case line == "[Peer]":
			cfg.Peers = append(cfg.Peers, wgtypes.PeerConfig{ReplaceAllowedIPs: true})
			peer = &cfg.Peers[len(cfg.Peers)-1]
		case !ok:
		case k == "PrivateKey":
			key, err := wgtypes.ParseKey(v)
			if err != nil {
				return err
			}
			cfg.PrivateKey = &key
		case k == "ListenPort":
			port, err := strconv.Atoi(v)
			if err != nil {
				return err
			}
			cfg.ListenPort = &port
		case k == "PublicKey":
			if peer.PublicKey, err = wgtypes.ParseKey(v); err != nil {
				return err
			}
		case k == "Endpoint":
			ap, err := netip.ParseAddrPort(v)
			if err != nil {
				return err
			}
			peer.Endpoint = netUDPAddr(ap)
		case k == "AllowedIPs":
			for _, s := range strings.Split(v, ", ") {
				pfx, err := netip.ParsePrefix(s)
				if err != nil {
					return err
				}
				peer.AllowedIPs = append(peer.AllowedIPs, netIPNet(pfx))
			}
		case k == "PersistentKeepalive":
			sec, err := strconv.Atoi(v)
			if err != nil {
				return err
			}
			d := time.Duration(sec) * time.Second
			peer.PersistentKeepaliveInterval = &d
		}
	}
	c, err := wgctrl.New()
	if err != nil {
		return err
	}
	defer c.Close()
	return c.ConfigureDevice(link, cfg)
}

// checkPeers reads the device back (outside the timing) and checks the
// peer count, so that a tool that silently did less is caught.
func checkPeers(n int) error {
	c, err := wg.Open()
	if err != nil {
		return err
	}
	defer c.Close()
	d, err := c.Device(link)
	if err != nil {
		return err
	}
	ips := 0
	for _, p := range d.Peers {
		ips += len(p.AllowedIPs)
	}
	if len(d.Peers) != n || ips != 3*n {
		return fmt.Errorf("read back %d peers with %d allowed IPs, want %d with %d", len(d.Peers), ips, n, 3*n)
	}
	return nil
}

// flushPeers removes every peer before the link is deleted, outside the
// timing: deleting a link with 10,000 peers takes minutes under TCG,
// REPLACE_PEERS takes a second.
func flushPeers() error {
	c, err := wg.Open()
	if err != nil {
		return err
	}
	defer c.Close()
	return c.Configure(link, wg.Config{ReplacePeers: true})
}
