package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wgboot/wgboot/board"
)

// The reference is Debian's wireguard-tools (apt install wireguard-tools):
// `wg-quick strip` + `wg setconf` + `wg showconf` for what wg(8) makes of a
// file, and `wg-quick up` for the addresses, MTU, routes and rules. Both run
// as root in namespaces of their own (unshare: network, mount and PID), so
// nothing touches the host: a tmpfs on /run holds the userspace sockets, one
// on /etc/wireguard the corpus's key files, /etc/hosts is replaced so that
// host name endpoints resolve without a network, and resolvconf, nft and
// iptables are stubs that succeed (wg-quick calls them for DNS and for the
// default route's firewall marks; what they would do is not compared). When
// the namespace's first process exits, the kernel kills the rest. The
// "RTNETLINK answers: Network is unreachable" in wg-quick's log is its
// `ip route get` of each endpoint for the MTU (the namespace has no
// route), not a failure.
//
// The kernel needs WireGuard. Where it has no module (as on this project's
// build hosts), wireguard-go, the userspace implementation that wg-quick
// falls back to by itself, is built from the Go module proxy at test time
// into a temporary directory: it is never in this module's go.mod, and no
// binary is committed. Userspace and kernel apply a configuration the same
// way for everything compared here (merging duplicate peers, moving a
// prefix to the last peer, ignoring the device's own key as a peer).

// wireguardGo is the wireguard-go version built for the reference.
const wireguardGo = "golang.zx2c4.com/wireguard@v0.0.0-20231211153847-12269c276173"

// refScript runs one stage in the namespaces: "setconf" (strip, setconf,
// showconf on an interface named ref), "batch" (the same for every file
// of a directory), "wgonly" (setconf and showconf of the file itself) or
// "up" (wg-quick up, then the state it left), writing files into $OUT.
const refScript = `set -u
mode=$1 file=$2 ifname=$3 out=$4 data=$5
mount -t tmpfs tmpfs /run && mkdir -p /run/wireguard || exit 90
# The wireguard-tools package makes /etc/wireguard; the corpus's key files
# go there, on a tmpfs that hides the host's.
[ -d /etc/wireguard ] || { echo "no /etc/wireguard (is wireguard-tools installed?)" >&2; exit 93; }
mount -t tmpfs -o mode=0700 tmpfs /etc/wireguard || exit 91
cp "$data"/keys/*.key /etc/wireguard/ && chmod 600 /etc/wireguard/*.key
mount --bind "$data/hosts" /etc/hosts || exit 92
ip link set lo up
export WG_ENDPOINT_RESOLUTION_RETRIES=0
case $mode in
setconf)
	wg-quick strip "$file" >"$out/stripped" 2>"$out/strip.err"; echo $? >"$out/strip.rc"
	[ "$(cat "$out/strip.rc")" = 0 ] || exit 0
	if ip link add ref type wireguard 2>/dev/null; then echo kernel >"$out/impl"
	else "$WG_QUICK_USERSPACE_IMPLEMENTATION" ref >/dev/null 2>&1; echo wireguard-go >"$out/impl"; fi
	wg setconf ref "$out/stripped" 2>"$out/setconf.err"; echo $? >"$out/setconf.rc"
	wg showconf ref >"$out/showconf" 2>&1
	;;
batch)
	if ip link add ref type wireguard 2>/dev/null; then echo kernel >"$out/impl"
	else "$WG_QUICK_USERSPACE_IMPLEMENTATION" ref >/dev/null 2>&1; echo wireguard-go >"$out/impl"; fi
	for f in "$file"/*.conf; do
		n=${f##*/}; n=${n%.conf}
		wg-quick strip "$f" >"$out/$n.stripped" 2>"$out/$n.strip.err"; echo $? >"$out/$n.strip.rc"
		[ "$(cat "$out/$n.strip.rc")" = 0 ] || continue
		wg setconf ref "$out/$n.stripped" 2>"$out/$n.setconf.err"; echo $? >"$out/$n.setconf.rc"
		wg showconf ref >"$out/$n.showconf" 2>&1
	done
	;;
wgonly)
	if ip link add ref type wireguard 2>/dev/null; then echo kernel >"$out/impl"
	else "$WG_QUICK_USERSPACE_IMPLEMENTATION" ref >/dev/null 2>&1; echo wireguard-go >"$out/impl"; fi
	wg setconf ref "$file" 2>"$out/setconf.err"; echo $? >"$out/setconf.rc"
	wg showconf ref >"$out/showconf" 2>&1
	;;
up)
	wg-quick up "$file" >"$out/up.log" 2>&1; echo $? >"$out/up.rc"
	[ "$(cat "$out/up.rc")" = 0 ] || exit 0
	wg showconf "$ifname" >"$out/showconf"
	ip -j addr show dev "$ifname" >"$out/addr.json"
	ip -j link show dev "$ifname" >"$out/link.json"
	ip -j -4 route show table all dev "$ifname" >"$out/route4.json"
	ip -j -6 route show table all dev "$ifname" >"$out/route6.json"
	ip -j -4 rule >"$out/rule4.json"
	ip -j -6 rule >"$out/rule6.json"
	;;
esac
`

// reference runs the reference on files.
type reference struct {
	dir  string // the script, stubs and data
	data string // keys/ and hosts
	env  []string
	impl string // how WireGuard runs: kernel or wireguard-go
}

var refOnce struct {
	sync.Once
	ref *reference
	err string
}

// newReference sets up the reference, or skips t (fails it with
// WGBOOT_E2E=required) when it cannot run here.
func newReference(t *testing.T) *reference {
	t.Helper()
	refOnce.Do(func() { refOnce.ref, refOnce.err = setupReference() })
	if refOnce.err != "" {
		if os.Getenv("WGBOOT_E2E") == "required" {
			t.Fatalf("WGBOOT_E2E=required but the wg-quick reference cannot run: %s", refOnce.err)
		}
		t.Skipf("the wg-quick reference cannot run: %s", refOnce.err)
	}
	return refOnce.ref
}

func setupReference() (*reference, string) {
	if os.Geteuid() != 0 {
		return nil, "needs root (network namespaces)"
	}
	for _, tool := range []string{"wg", "wg-quick", "unshare", "ip", "bash"} {
		if _, err := exec.LookPath(tool); err != nil {
			return nil, tool + " is not installed (apt install wireguard-tools iproute2 util-linux)"
		}
	}
	dir, err := os.MkdirTemp("", "wgboot-reference-")
	if err != nil {
		return nil, err.Error()
	}
	r := &reference{dir: dir, data: filepath.Join(dir, "data")}
	stubs := filepath.Join(dir, "stubs")
	if err := os.MkdirAll(filepath.Join(r.data, "keys"), 0o700); err != nil {
		return nil, err.Error()
	}
	if err := os.MkdirAll(stubs, 0o755); err != nil {
		return nil, err.Error()
	}
	// A stub reads all of its input before it succeeds: wg-quick runs
	// with pipefail and pipes into resolvconf and iptables-restore, so a
	// stub that exits first fails the writer (EPIPE) and with it, now
	// and then, wg-quick up (set_dns: "resolvconf -a ..." followed by
	// "ip link delete"): a refusal of a file the reference accepts.
	for _, s := range []string{"resolvconf", "nft", "iptables", "ip6tables", "iptables-restore", "ip6tables-restore"} {
		if err := os.WriteFile(filepath.Join(stubs, s), []byte("#!/bin/sh\ncat >/dev/null\nexit 0\n"), 0o755); err != nil {
			return nil, err.Error()
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "ref.sh"), []byte(refScript), 0o755); err != nil {
		return nil, err.Error()
	}
	keys, _ := filepath.Glob(filepath.Join("testdata", "corpus", "keys", "*.key"))
	for _, k := range keys {
		b, err := os.ReadFile(k)
		if err != nil {
			return nil, err.Error()
		}
		if err := os.WriteFile(filepath.Join(r.data, "keys", filepath.Base(k)), b, 0o600); err != nil {
			return nil, err.Error()
		}
	}
	hosts, err := os.ReadFile(filepath.Join("testdata", "corpus", "hosts"))
	if err != nil {
		return nil, err.Error()
	}
	if err := os.WriteFile(filepath.Join(r.data, "hosts"), hosts, 0o644); err != nil {
		return nil, err.Error()
	}
	r.env = append(os.Environ(), "PATH="+stubs+":"+os.Getenv("PATH"))
	// Does the kernel have WireGuard?
	probe := exec.Command("unshare", "--net", "ip", "link", "add", "wgprobe", "type", "wireguard")
	if probe.Run() == nil {
		r.impl = "kernel"
		return r, ""
	}
	if _, err := os.Stat("/dev/net/tun"); err != nil {
		return nil, "the kernel has no WireGuard and there is no /dev/net/tun for wireguard-go"
	}
	bin := filepath.Join(dir, "bin")
	build := exec.Command("go", "install", wireguardGo)
	build.Env = append(os.Environ(), "GOBIN="+bin, "GOFLAGS=", "GOWORK=off", "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		return nil, fmt.Sprintf("build wireguard-go (%s): %v\n%s", wireguardGo, err, out)
	}
	r.env = append(r.env, "WG_QUICK_USERSPACE_IMPLEMENTATION="+filepath.Join(bin, "wireguard"))
	r.impl = "wireguard-go"
	return r, ""
}

// refResult is what the reference made of one file.
type refResult struct {
	stripOK, setconfOK, upOK bool
	why                      string   // the reference's own message when it refused
	setconf                  wgDevice // wg showconf after wg setconf
	up                       *upState // after wg-quick up
}

func (r refResult) accepts() bool { return r.stripOK && r.setconfOK && r.upOK }

// upState is the interface wg-quick up left.
type upState struct {
	device    wgDevice
	addresses []string
	mtu       int
	routes    []string // "prefix table N"
	rules     []string // "v4: not fwmark 0x1234 lookup 4660"
}

// run runs the reference on the corpus file path, named ifname: wg-quick,
// or with wgOnly wg setconf alone.
func (r *reference) run(t *testing.T, path, ifname string, wgOnly bool) refResult {
	t.Helper()
	abs, err := filepath.Abs(path)
	if err != nil {
		t.Fatal(err)
	}
	var res refResult
	stage := func(mode string) string {
		out := t.TempDir()
		ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, "unshare", "--pid", "--fork", "--kill-child", "--net", "--mount", "bash", filepath.Join(r.dir, "ref.sh"), mode, abs, ifname, out, r.data)
		cmd.Env = r.env
		cmd.WaitDelay = 5 * time.Second
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("reference %s %s: %v\n%s", mode, path, err, b)
		}
		return out
	}
	read := func(dir, name string) string {
		b, _ := os.ReadFile(filepath.Join(dir, name))
		return string(b)
	}
	if wgOnly {
		dir := stage("wgonly")
		res.stripOK, res.upOK = true, true
		res.setconfOK = strings.TrimSpace(read(dir, "setconf.rc")) == "0"
		if !res.setconfOK {
			res.why = "wg setconf: " + read(dir, "setconf.err")
			return res
		}
		res.setconf = parseShowconf(t, read(dir, "showconf"))
		return res
	}
	dir := stage("setconf")
	res.stripOK = strings.TrimSpace(read(dir, "strip.rc")) == "0"
	if !res.stripOK {
		res.why = "wg-quick strip: " + read(dir, "strip.err")
		return res
	}
	res.setconfOK = strings.TrimSpace(read(dir, "setconf.rc")) == "0"
	if !res.setconfOK {
		res.why = "wg setconf: " + read(dir, "setconf.err")
		return res
	}
	res.setconf = parseShowconf(t, read(dir, "showconf"))
	dir = stage("up")
	res.upOK = strings.TrimSpace(read(dir, "up.rc")) == "0"
	if !res.upOK {
		res.why = "wg-quick up: " + read(dir, "up.log")
		return res
	}
	res.up = &upState{device: parseShowconf(t, read(dir, "showconf"))}
	var link []struct{ MTU int }
	decodeJSON(t, read(dir, "link.json"), &link)
	if len(link) == 1 {
		res.up.mtu = link[0].MTU
	}
	var addrs []struct {
		AddrInfo []struct {
			Local     string
			Prefixlen int
			Scope     string
		} `json:"addr_info"`
	}
	decodeJSON(t, read(dir, "addr.json"), &addrs)
	for _, a := range addrs {
		for _, ai := range a.AddrInfo {
			res.up.addresses = append(res.up.addresses, fmt.Sprintf("%s/%d", ai.Local, ai.Prefixlen))
		}
	}
	for _, fam := range []string{"4", "6"} {
		var routes []struct {
			Type, Dst, Table, Protocol string
		}
		decodeJSON(t, read(dir, "route"+fam+".json"), &routes)
		for _, rt := range routes {
			if rt.Type != "" && rt.Type != "unicast" || rt.Table == "local" || rt.Dst == "fe80::/64" {
				continue // fe80::/64 is the kernel's, for wireguard-go's link-local address
			}
			dst := rt.Dst
			if dst == "default" {
				dst = map[string]string{"4": "0.0.0.0/0", "6": "::/0"}[fam]
			}
			if !strings.Contains(dst, "/") {
				dst += map[string]string{"4": "/32", "6": "/128"}[fam]
			}
			res.up.routes = append(res.up.routes, dst+" table "+tableNumber(rt.Table))
		}
		var rules []map[string]any
		decodeJSON(t, read(dir, "rule"+fam+".json"), &rules)
		for _, ru := range rules {
			prio, _ := ru["priority"].(float64)
			table, _ := ru["table"].(string)
			if prio == 0 && table == "local" || prio == 32766 && table == "main" || prio == 32767 && table == "default" {
				continue
			}
			s := "v" + fam + ":"
			if _, not := ru["not"]; not {
				s += " not"
			}
			if m, ok := ru["fwmark"].(string); ok {
				s += " fwmark " + m
			}
			s += " lookup " + tableNumber(table)
			if n, ok := ru["suppress_prefixlen"].(float64); ok {
				s += fmt.Sprintf(" suppress_prefixlength %d", int(n))
			}
			res.up.rules = append(res.up.rules, s)
		}
	}
	return res
}

func tableNumber(s string) string {
	switch s {
	case "", "main":
		return "254"
	case "default":
		return "253"
	case "local":
		return "255"
	}
	return s
}

func decodeJSON(t *testing.T, s string, v any) {
	t.Helper()
	if strings.TrimSpace(s) == "" {
		return
	}
	if err := json.Unmarshal([]byte(s), v); err != nil {
		t.Fatalf("ip -j output: %v\n%s", err, s)
	}
}

// stateOf is the interface state a profile tunnel describes, in the
// reference's terms: its addresses; the routes of its allowed IPs in its
// table, with the kernel's routes of its address prefixes; and, for a
// numbered table with a fwmark, wg-quick's two policy rules for each
// family routed.
func stateOf(tun *board.Tunnel) upState {
	s := upState{mtu: tun.MTU}
	connected := connectedOf(tun)
	for _, a := range tun.Address {
		s.addresses = append(s.addresses, a.String())
		// The kernel adds a route for every IPv6 address prefix, /128
		// too, and for IPv4 ones shorter than /32.
		if a.Addr().Is6() || a.Bits() < 32 {
			s.routes = append(s.routes, a.Masked().String()+" table 254")
		}
	}
	fams := map[string]bool{}
	if tun.Table != board.TableOff {
		for _, p := range tun.Peers {
			for _, a := range p.AllowedIPs {
				s.routes = append(s.routes, fmt.Sprintf("%s table %d", a.Masked(), tun.Table))
				fams[map[bool]string{true: "v4", false: "v6"}[a.Addr().Is4()]] = true
			}
		}
	}
	if tun.Table != board.TableOff && tun.Table != board.TableMain && tun.FwMark != 0 {
		for _, f := range []string{"v4", "v6"} {
			if fams[f] {
				s.rules = append(s.rules, fmt.Sprintf("%s: not fwmark %#x lookup %d", f, tun.FwMark, tun.Table),
					f+": lookup 254 suppress_prefixlength 0")
			}
		}
	}
	s.routes = normalRoutes(s.routes, connected)
	return s
}

// connectedOf lists the address prefixes the kernel routes to the
// interface by itself.
func connectedOf(tun *board.Tunnel) []netip.Prefix {
	var c []netip.Prefix
	for _, a := range tun.Address {
		if a.Addr().Is6() || a.Bits() < 32 {
			c = append(c, a.Masked())
		}
	}
	return c
}

// normalRoutes sorts and dedups routes, dropping main-table routes inside
// an address prefix of the interface other than that prefix itself: the
// kernel's connected route already sends them to the interface (wg-quick
// does not add them; a profile may).
func normalRoutes(routes []string, connected []netip.Prefix) []string {
	out := routes[:0:0]
	for _, r := range routes {
		pfx, table, _ := strings.Cut(r, " table ")
		p, err := netip.ParsePrefix(pfx)
		if err == nil && table == "254" && slices.ContainsFunc(connected, func(c netip.Prefix) bool {
			return c != p && c.Bits() <= p.Bits() && c.Contains(p.Addr())
		}) {
			continue
		}
		out = append(out, r)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// TestImportReference runs the corpus through the reference and checks
// each file's "# reference:" line against what wg-quick and wg did, and,
// where both accept it, that the interface wg-quick set up is the one the
// profile describes.
func TestImportReference(t *testing.T) {
	if testing.Short() {
		t.Skip("the reference runs wg-quick in namespaces; skipped in -short mode")
	}
	r := newReference(t)
	t.Logf("reference: Debian wireguard-tools, WireGuard from the %s", r.impl)
	for _, f := range loadCorpus(t) {
		t.Run(f.name, func(t *testing.T) {
			res := r.run(t, f.path, f.name, f.wgOnly)
			code, out, errOut := run(t, "import", f.path)
			switch {
			case f.ref == "refuses" && res.accepts():
				t.Errorf("expected the reference to refuse %s, but wg-quick accepted it", f.path)
			case f.ref != "refuses" && !res.accepts():
				t.Errorf("the reference refused %s: %s", f.path, res.why)
			case code == ExitOK && !res.accepts() && f.why == "":
				t.Errorf("import accepted what the reference refuses, without a reason in the corpus: %s", res.why)
			}
			if t.Failed() || code != ExitOK || !res.accepts() {
				return
			}
			p, ds := board.Parse("imported.toml", []byte(out))
			if p == nil || ds.HasErrors() {
				t.Fatalf("profile does not parse: %v", ds.Err())
			}
			tun := &p.Tunnels[0]
			if res.up == nil { // wg setconf alone: the device is all there is
				if d := sameDevice(resolveNames(t, deviceOf(t, tun, corpusKeys)), res.setconf); d != "" {
					t.Errorf("device: the profile and wg differ: %s", d)
				}
				return
			}
			want, got := stateOf(tun), *res.up
			got.routes = normalRoutes(got.routes, connectedOf(tun))
			// An IPv6 link-local address the profile does not list is the
			// kernel's own (wireguard-go's tun gets one).
			got.addresses = slices.DeleteFunc(got.addresses, func(a string) bool {
				return strings.HasPrefix(a, "fe80:") && !slices.Contains(want.addresses, a)
			})
			slices.Sort(got.addresses)
			slices.Sort(want.addresses)
			slices.Sort(got.rules)
			slices.Sort(want.rules)
			diffs := map[string]string{
				"device":    sameDevice(resolveNames(t, deviceOf(t, tun, corpusKeys)), got.device),
				"addresses": diffLists(want.addresses, got.addresses),
				"mtu":       diffLists([]string{strconv.Itoa(want.mtu)}, []string{strconv.Itoa(got.mtu)}),
				"routes":    diffLists(want.routes, got.routes),
				"rules":     diffLists(want.rules, got.rules),
			}
			for _, aspect := range []string{"device", "addresses", "mtu", "routes", "rules"} {
				d, declared := diffs[aspect], slices.Contains(f.aspects, aspect)
				switch {
				case d != "" && !declared:
					t.Errorf("%s: the profile and wg-quick differ: %s\nimport stderr:\n%s", aspect, d, errOut)
				case d == "" && declared:
					t.Errorf("%s: declared as differing, but the profile and wg-quick agree", aspect)
				}
			}
		})
	}
}

// diffLists returns "" for equal sorted lists, else what each side has
// alone.
func diffLists(want, got []string) string {
	if slices.Equal(want, got) {
		return ""
	}
	var only, ref []string
	for _, w := range want {
		if !slices.Contains(got, w) {
			only = append(only, w)
		}
	}
	for _, g := range got {
		if !slices.Contains(want, g) {
			ref = append(ref, g)
		}
	}
	return fmt.Sprintf("profile only %v, wg-quick only %v", only, ref)
}

// TestMain removes the reference's temporary directory (with the
// wireguard-go binary) after the tests.
func TestMain(m *testing.M) {
	code := m.Run()
	if refOnce.ref != nil {
		os.RemoveAll(refOnce.ref.dir)
	}
	os.Exit(code)
}
