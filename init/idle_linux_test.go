package main

import (
	"bytes"
	"context"
	"fmt"
	"maps"
	"net/netip"
	"os"
	"os/exec"
	"reflect"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/wgboot/wgboot/board"
	"github.com/wgboot/wgboot/internal/kmsg"
	"github.com/wgboot/wgboot/internal/netnstest"
	"github.com/wgboot/wgboot/netsetup"
	"github.com/wgboot/wgboot/netsetup/bringup"
)

// noUplinkProfile has no [uplink] (so no name servers either) and a peer
// to plan: an IPv6 endpoint, then a host name and an IPv4 address to fall
// back on. Its tunnel routes to a table of its own with a mark, so that a
// bring-up adds policy rules the undo has to remove.
const noUplinkProfile = `[board]
name = "nouplink"
[[tunnel]]
name = "wg0"
private_key_file = "/k"
table = 51820
fwmark = 51820
[[tunnel.peer]]
public_key = "ho3m6xXZ1V3QYg080KspEDJpRrjIn5MB+nIckvhpe0Y="
endpoint = "[2001:db8::1]:51820"
fallback_endpoints = ["hub.example.net:51820", "192.0.2.1:51820"]
allowed_ips = ["10.9.0.0/24"]
[[tunnel.peer]]
public_key = "JFZ4L4CEYUxvdJWEliaoVYhwh6qUkXQZG5SPP0CutSg="
endpoint = "198.51.100.9:51820"
allowed_ips = ["10.9.1.0/24"]
`

// testNoUplinkBoot is a boot with noUplinkProfile after its idle uplink
// phase, as the runner leaves it: b.net without an rtnetlink handle.
func testNoUplinkBoot(t *testing.T) (*boot, *bytes.Buffer) {
	t.Helper()
	return testNoUplinkBootWith(t, func(*board.Profile) {})
}

// testNoUplinkBootWith is testNoUplinkBoot with the profile changed by edit.
func testNoUplinkBootWith(t *testing.T, edit func(*board.Profile)) (*boot, *bytes.Buffer) {
	t.Helper()
	p, ds := board.Parse("nouplink.toml", []byte(noUplinkProfile))
	if ds.HasErrors() {
		t.Fatal(ds.Err())
	}
	edit(p)
	var log bytes.Buffer
	b := newBoot(kmsg.New("wgboot", &log))
	b.profile = p
	commit, ok := b.phaseIdle("uplink")
	if !ok || commit == nil {
		t.Fatalf("uplink of a profile without one: idle %v, commit %v", ok, commit != nil)
	}
	commit()
	if b.net == nil || b.net.RT != nil || b.net.WG != nil {
		t.Fatalf("after the idle uplink phase: net %+v, want one without handles", b.net)
	}
	return b, &log
}

// nsRun runs a command in ns (ip(8), in the namespace's thread).
func nsRun(t *testing.T, ns *netnstest.NS, args ...string) string {
	t.Helper()
	var out []byte
	err := ns.Do(func() (err error) {
		out, err = exec.Command(args[0], args[1:]...).CombinedOutput()
		return err
	})
	if err != nil {
		t.Fatalf("%s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// openFDs lists the process's open descriptors and what each is.
func openFDs(t *testing.T) map[string]string {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	fds := make(map[string]string, len(ents))
	for _, e := range ents {
		// ReadDir's own descriptor is closed by now: left out.
		if target, err := os.Readlink("/proc/self/fd/" + e.Name()); err == nil {
			fds[e.Name()] = target
		}
	}
	return fds
}

// sameFDs fails the test if the descriptors open now differ from before.
func sameFDs(t *testing.T, what string, before map[string]string) {
	t.Helper()
	after := openFDs(t)
	if !maps.Equal(before, after) {
		t.Errorf("%s: descriptors %v before, %v after; want the same (no leak)", what, before, after)
	}
}

// phaseCall calls a phase's function as the runner would, a panic
// reported as an error (the runner recovers it, but the phase then did
// nothing of what it should have).
func phaseCall(ctx context.Context, fn func(context.Context) (func(), error)) (commit func(), err error) {
	defer func() {
		if p := recover(); p != nil {
			commit, err = nil, fmt.Errorf("panic: %v", p)
		}
	}()
	return fn(ctx)
}

// TestResolveNoUplink: with names to plan and no uplink, the resolve
// phase reads the routing table (in a namespace of the test's: only
// 192.0.2.0/24 routable) through an rtnetlink socket of its own, which it
// closes: no descriptor stays open and b.net keeps no handle. Its result
// (the plan, the names, the endpoint configured) is the one the phase
// came to with the uplink phase's handle, as before the tunnels phase
// opened it; the IPv4 fallback goes first, so the table was read.
func TestResolveNoUplink(t *testing.T) {
	ns := netnstest.New(t)
	nsRun(t, ns, "ip", "link", "set", "lo", "up")
	nsRun(t, ns, "ip", "route", "add", "192.0.2.0/24", "dev", "lo")
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()

	// As before the change: the uplink phase had opened rtnetlink.
	ref, refLog := testNoUplinkBoot(t)
	if err := ns.Do(func() (err error) { ref.net.RT, err = netsetup.Open(); return err }); err != nil {
		t.Fatal(err)
	}
	defer ref.net.RT.Close()
	commit, err := phaseCall(ctx, ref.resolveEndpoints)
	if err != nil {
		t.Fatalf("resolve with the uplink's handle: %v\n%s", err, refLog)
	}
	commit()

	b, log := testNoUplinkBoot(t)
	before := openFDs(t)
	err = ns.Do(func() (err error) { commit, err = phaseCall(ctx, b.resolveEndpoints); return err })
	sameFDs(t, "resolve without an uplink", before)
	if err != nil {
		t.Fatalf("resolve without an uplink: %v\n%s", err, log)
	}
	commit()
	if b.net.RT != nil {
		t.Errorf("after resolve: b.net.RT %v, want none (the tunnels phase opens it)", b.net.RT)
	}
	if strings.Contains(log.String(), "read the routing table") {
		t.Errorf("the routing table was not read:\n%s", log)
	}
	if !reflect.DeepEqual(b.endpoints, ref.endpoints) || !reflect.DeepEqual(b.state.Names, ref.state.Names) {
		t.Errorf("without an uplink: plan %v, names %+v; with the uplink's handle: %v, %+v", b.endpoints, b.state.Names, ref.endpoints, ref.state.Names)
	}
	peer := b.profile.Tunnels[0].Peers[0]
	f := b.endpoints[peerRef{"wg0", peer.PublicKey}]
	var got []string
	for _, c := range f.Candidates {
		got = append(got, c.String())
	}
	if want := []string{"192.0.2.1:51820", "[2001:db8::1]:51820"}; !reflect.DeepEqual(got, want) || len(b.endpoints) != 1 {
		t.Errorf("plan %v: peer 1's candidates %v, want %v (the routable one first) and no other peer", b.endpoints, got, want)
	}
	if ep := peer.Endpoint.String(); ep != "192.0.2.1:51820" || ep != ref.profile.Tunnels[0].Peers[0].Endpoint.String() {
		t.Errorf("peer 1's endpoint %s, with the uplink's handle %s; want 192.0.2.1:51820", ep, ref.profile.Tunnels[0].Peers[0].Endpoint)
	}
	if len(b.state.Names) != 1 || b.state.Names[0].Host != "hub.example.net" || b.state.Names[0].Err == "" {
		t.Errorf("names %+v, want hub.example.net's failure (no name server)", b.state.Names)
	}
}

// TestUndoWithoutRTNetlink: the undo of a profile without an uplink that
// failed before the tunnels phase (b.net as the idle uplink phase left
// it, without handles) or before the uplink phase (no b.net) closes no
// handle that was never opened, does not panic, removes what the profile
// would have added (its tunnel's policy rules, put in a namespace of the
// test's) through a socket of its own, and leaves no descriptor open.
func TestUndoWithoutRTNetlink(t *testing.T) {
	for _, tc := range []struct {
		name   string
		nilNet bool
	}{{"idle uplink", false}, {"before the uplink", true}} {
		t.Run(tc.name, func(t *testing.T) {
			ns := netnstest.New(t)
			b, log := testNoUplinkBoot(t)
			if tc.nilNet {
				b.net = nil
			}
			// The rules a bring-up of the profile adds (bringup.Rules).
			if rules := bringup.Rules(&b.profile.Tunnels[0]); len(rules) != 2 {
				t.Fatalf("the tunnel's rules: %v, want 2 (IPv4)", rules)
			}
			nsRun(t, ns, "ip", "rule", "add", "not", "fwmark", "51820", "table", "51820")
			nsRun(t, ns, "ip", "rule", "add", "table", "main", "suppress_prefixlength", "0")
			if got := nsRun(t, ns, "ip", "rule", "show"); !strings.Contains(got, "lookup 51820") {
				t.Fatalf("rules before the undo:\n%s", got)
			}
			ctx, cancel := context.WithTimeout(t.Context(), undoTimeout)
			defer cancel()
			before := openFDs(t)
			var commit func()
			err := ns.Do(func() (err error) { commit, err = phaseCall(ctx, b.undo(b.profile)); return err })
			sameFDs(t, "undo", before)
			if err != nil {
				t.Fatalf("undo: %v\n%s", err, log)
			}
			if commit == nil {
				t.Fatal("undo: no commit")
			}
			commit()
			if b.net != nil {
				t.Errorf("after the undo: net %+v, want none", b.net)
			}
			got := nsRun(t, ns, "ip", "rule", "show")
			if strings.Contains(got, "lookup 51820") || strings.Contains(got, "suppress_prefixlength") {
				t.Errorf("the undo left the tunnel's rules:\n%s", got)
			}
		})
	}
}

// inNetnsEnv marks a test binary that inOwnNetns runs in a network
// namespace of its own.
const inNetnsEnv = "WGBOOT_TEST_IN_NETNS"

// inOwnNetns reports whether the test runs in a network namespace of
// the test binary's own, where every goroutine's sockets are. If not, it
// runs the test again in a test binary in one (CLONE_NEWNET), fails the
// test if that fails, and returns false; it skips unless root.
func inOwnNetns(t *testing.T) bool {
	t.Helper()
	if os.Getenv(inNetnsEnv) != "" {
		return true
	}
	if os.Geteuid() != 0 {
		t.Skip("skipping, need root to create a network namespace")
	}
	cmd := exec.Command(os.Args[0], "-test.run=^"+t.Name()+"$", "-test.count=1", "-test.v")
	cmd.Env = append(os.Environ(), inNetnsEnv+"=1")
	cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWNET}
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "--- PASS: "+t.Name()) {
		t.Fatalf("in a network namespace: %v\n%s", err, out)
	}
	return false
}

// ip runs ip(8) with args, in the test binary's namespace.
func ip(t *testing.T, args ...string) string {
	t.Helper()
	out, err := exec.Command("ip", args...).CombinedOutput()
	if err != nil {
		t.Fatalf("ip %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// TestResolveNoUplinkRunner runs the uplink and resolve phases of a
// profile without an uplink through the runner, as bringUp does (the
// uplink idle, resolve on a goroutine of its own), with a name that
// resolves: the whole test binary runs again in a network namespace of its
// own, so that the phase's goroutines, its rtnetlink socket and the name
// server on 127.0.0.1:53 all are in it. Only 192.0.2.0/24 is routable
// there, so the name's IPv4 address goes before its IPv6 one, which
// RFC 6724 would put first: the temporary socket read the routing table.
// It is closed, and b.net keeps no handle.
func TestResolveNoUplinkRunner(t *testing.T) {
	if !inOwnNetns(t) {
		return
	}
	ip(t, "link", "set", "lo", "up")
	ip(t, "route", "add", "192.0.2.0/24", "dev", "lo")
	dnsServerOn(t, 53, map[string][]string{"hub.example.net.": {"2001:db8::5", "192.0.2.5"}})
	b, log := testNoUplinkBootWith(t, func(p *board.Profile) {
		p.Uplink.DNS = []netip.Addr{netip.MustParseAddr("127.0.0.1")}
	})
	b.net = nil // the runner makes the uplink phase's commit
	b.r.idle = b.phaseIdle
	before := openFDs(t)
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	err := b.r.run(ctx, []phase{{"uplink", b.uplinkUp}, {"resolve", b.resolveEndpoints}})
	sameFDs(t, "uplink and resolve without an uplink", before)
	if err != nil {
		t.Fatalf("uplink, resolve: %v\n%s", err, log)
	}
	if b.net == nil || b.net.RT != nil {
		t.Fatalf("after resolve: net %+v, want one without an rtnetlink handle", b.net)
	}
	if strings.Contains(log.String(), "read the routing table") || !strings.Contains(log.String(), "resolve: hub.example.net: 192.0.2.5 2001:db8::5 from 127.0.0.1:53") {
		t.Errorf("log:\n%s", log)
	}
	peer := b.profile.Tunnels[0].Peers[0]
	var got []string
	for _, c := range b.endpoints[peerRef{"wg0", peer.PublicKey}].Candidates {
		got = append(got, c.String())
	}
	want := []string{"hub.example.net:51820 (192.0.2.5:51820)", "192.0.2.1:51820", "[2001:db8::1]:51820", "hub.example.net:51820 ([2001:db8::5]:51820)"}
	if !reflect.DeepEqual(got, want) || peer.Endpoint.String() != "192.0.2.5:51820" {
		t.Errorf("peer 1: candidates %v, endpoint %s; want %v, 192.0.2.5:51820", got, peer.Endpoint, want)
	}
	if len(b.state.Names) != 1 || b.state.Names[0].Err != "" || !reflect.DeepEqual(b.state.Names[0].Addrs, []string{"192.0.2.5", "2001:db8::5"}) {
		t.Errorf("names %+v", b.state.Names)
	}
}

// TestUndoNoUplinkRunner: the fallback's sequence for a profile without
// an uplink whose resolve phase fails (its one name is NXDOMAIN), through
// the runner as bringUp runs it, in a network namespace of the test
// binary's own: the idle uplink phase, resolve (its own rtnetlink socket),
// then the undo phase with no handle to close. The undo completes without
// a panic (which the runner would recover, and bringUp not look at) and
// removes the tunnel's policy rules; no descriptor is left open.
func TestUndoNoUplinkRunner(t *testing.T) {
	if !inOwnNetns(t) {
		return
	}
	ip(t, "link", "set", "lo", "up")
	ip(t, "rule", "add", "not", "fwmark", "51820", "table", "51820")
	ip(t, "rule", "add", "table", "main", "suppress_prefixlength", "0")
	dnsServerOn(t, 53, nil)
	b, log := testNoUplinkBootWith(t, func(p *board.Profile) {
		p.Uplink.DNS = []netip.Addr{netip.MustParseAddr("127.0.0.1")}
		peer := &p.Tunnels[0].Peers[0]
		peer.Endpoints = peer.Endpoints[1:2] // hub.example.net only
	})
	b.net = nil // the runner makes the uplink phase's commit
	b.r.idle = b.phaseIdle
	before := openFDs(t)
	err := b.runUntil(time.Now().Add(10*time.Second), []phase{{"uplink", b.uplinkUp}, {"resolve", b.resolveEndpoints}})
	if err == nil || !strings.Contains(err.Error(), "no address for any endpoint: hub.example.net: no such host") {
		t.Fatalf("uplink, resolve: %v, want hub.example.net's NXDOMAIN\n%s", err, log)
	}
	if b.net == nil || b.net.RT != nil || b.net.WG != nil {
		t.Fatalf("before the undo: net %+v, want one without handles", b.net)
	}
	if err := b.runUntil(time.Now().Add(undoTimeout), []phase{{"undo", b.undo(b.profile)}}); err != nil {
		t.Errorf("undo: %v\n%s", err, log)
	}
	sameFDs(t, "uplink, resolve and undo without an uplink", before)
	if last := b.r.results[len(b.r.results)-1]; last.Name != "undo" || last.Err != "" {
		t.Errorf("undo's result %+v", last)
	}
	if b.net != nil {
		t.Errorf("after the undo: net %+v, want none", b.net)
	}
	if got := ip(t, "rule", "show"); strings.Contains(got, "lookup 51820") || strings.Contains(got, "suppress_prefixlength") {
		t.Errorf("the undo left the tunnel's rules:\n%s", got)
	}
}
