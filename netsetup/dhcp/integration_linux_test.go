package dhcp

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// Privileged tests against the host kernel and a real, independent DHCP
// server: Debian's dnsmasq, in a network namespace of its own at one end
// of a veth pair; the client runs in a second namespace at the other end.
// They skip unless root (and fail without dnsmasq when WGBOOT_E2E is
// "required", as in make test).

// testNet is a server namespace and a client namespace joined by a veth
// pair: v1 (server, 192.0.2.1/24) and v0 (client, no address).
type testNet struct {
	srv, cli string
}

func run(t testing.TB, args ...string) {
	t.Helper()
	if out, err := exec.Command(args[0], args[1:]...).CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

func newTestNet(t testing.TB) *testNet {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("skipping, need root to create network namespaces")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		t.Skip("skipping, no ip(8)")
	}
	// Names unique to this test: parallel tests and test binaries do
	// not share namespaces.
	id := fmt.Sprintf("%d-%s", os.Getpid(), strings.NewReplacer("/", "-", " ", "-").Replace(t.Name()))
	if len(id) > 40 {
		id = id[:40]
	}
	n := &testNet{srv: "wgbdhcp-s-" + id, cli: "wgbdhcp-c-" + id}
	for _, ns := range []string{n.srv, n.cli} {
		run(t, "ip", "netns", "add", ns)
		t.Cleanup(func() { exec.Command("ip", "netns", "del", ns).Run() })
		run(t, "ip", "-n", ns, "link", "set", "lo", "up")
	}
	run(t, "ip", "link", "add", "v0", "netns", n.cli, "type", "veth", "peer", "name", "v1", "netns", n.srv)
	run(t, "ip", "-n", n.srv, "addr", "add", "192.0.2.1/24", "dev", "v1")
	run(t, "ip", "-n", n.srv, "link", "set", "v1", "up")
	run(t, "ip", "-n", n.cli, "link", "set", "v0", "up")
	return n
}

// dnsmasq starts Debian's dnsmasq as the DHCP server on v1 with the given
// extra arguments, logging each exchange; its log is printed if the test
// fails.
func (n *testNet) dnsmasq(t testing.TB, args ...string) {
	t.Helper()
	bin, err := exec.LookPath("dnsmasq")
	if err != nil {
		if os.Getenv("WGBOOT_E2E") == "required" {
			t.Fatal("WGBOOT_E2E=required but dnsmasq is not installed (apt-get install dnsmasq-base)")
		}
		t.Skip("skipping, dnsmasq not installed (apt-get install dnsmasq-base)")
	}
	dir := t.TempDir()
	cmd := exec.Command("ip", append([]string{"netns", "exec", n.srv, bin,
		"--no-daemon", "--conf-file=/dev/null", "--port=0", "--user=root", "--group=root",
		"--interface=v1", "--bind-interfaces", "--log-dhcp", "--log-facility=-",
		// Without it dnsmasq pings every address for 3 s before it
		// offers it: real, but slow for every test.
		"--no-ping",
		"--dhcp-leasefile=" + filepath.Join(dir, "leases"), "--pid-file=" + filepath.Join(dir, "pid"),
	}, args...)...)
	var out syncBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		if t.Failed() {
			t.Logf("dnsmasq:\n%s", out.String())
		}
	})
	// dnsmasq binds its socket before it logs that it started.
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(out.String(), "DHCP, IP range") {
		if time.Now().After(deadline) {
			t.Fatalf("dnsmasq did not start:\n%s", out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// inCli runs fn on a thread inside the client namespace; sockets it opens
// stay there.
func (n *testNet) inCli(t testing.TB, fn func() error) error {
	t.Helper()
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		// No UnlockOSThread: the thread dies with this goroutine, so
		// that no other goroutine runs in the namespace.
		f, err := os.Open("/run/netns/" + n.cli)
		if err != nil {
			errc <- err
			return
		}
		defer f.Close()
		if err := unix.Setns(int(f.Fd()), unix.CLONE_NEWNET); err != nil {
			errc <- os.NewSyscallError("setns", err)
			return
		}
		errc <- fn()
	}()
	return <-errc
}

// link returns v0's index and MAC, from inside the client namespace.
func (n *testNet) link(t testing.TB) Config {
	t.Helper()
	var c Config
	if err := n.inCli(t, func() error {
		ifi, err := net.InterfaceByName("v0")
		if err != nil {
			return err
		}
		c = Config{Interface: "v0", Index: int32(ifi.Index), HWAddr: ifi.HardwareAddr}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return c
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// TestIntegrationObtainDnsmasq gets a lease from dnsmasq over a packet
// socket and reads it: the address from the range with its mask, the
// router, option 121 (which then replaces option 3 in the plan), the MTU
// (option 26), the name server, the server identifier and the times.
func TestIntegrationObtainDnsmasq(t *testing.T) {
	t.Parallel()
	n := newTestNet(t)
	n.dnsmasq(t,
		"--dhcp-range=192.0.2.10,192.0.2.20,255.255.255.0,1h",
		"--dhcp-option=option:router,192.0.2.1",
		"--dhcp-option=option:dns-server,192.0.2.53,198.51.100.53",
		"--dhcp-option=121,10.0.0.0/8,192.0.2.254,0.0.0.0/0,192.0.2.1",
		"--dhcp-option=26,1400",
	)
	c := n.link(t)
	var lines []string
	c.Logf = func(format string, args ...any) { lines = append(lines, fmt.Sprintf(format, args...)) }
	var l *Lease
	start := time.Now()
	err := n.inCli(t, func() (err error) {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		l, err = Obtain(ctx, c)
		return err
	})
	if err != nil {
		t.Fatalf("Obtain() error = %v (log %q)", err, lines)
	}
	t.Logf("lease in %v: %+v", time.Since(start).Round(time.Millisecond), *l)
	if a := l.Address.Addr(); l.Address.Bits() != 24 || a.Less(netip.MustParseAddr("192.0.2.10")) || netip.MustParseAddr("192.0.2.20").Less(a) {
		t.Errorf("address %s, want one of 192.0.2.10-20/24", l.Address)
	}
	want := []Route{
		{Dst: netip.MustParsePrefix("10.0.0.0/8"), Gateway: netip.MustParseAddr("192.0.2.254")},
		{Dst: netip.MustParsePrefix("0.0.0.0/0"), Gateway: netip.MustParseAddr("192.0.2.1")},
	}
	if l.ServerID != netip.MustParseAddr("192.0.2.1") || l.Router != netip.MustParseAddr("192.0.2.1") ||
		!l.StaticRoutes || !slices.Equal(l.Routes, want) || l.MTU != 1400 ||
		!slices.Equal(l.DNS, addrs("192.0.2.53", "198.51.100.53")) ||
		l.LeaseTime != time.Hour || l.Renew != 30*time.Minute || l.Rebind != 3150*time.Second || len(l.Notes) != 0 {
		t.Errorf("lease %+v, want server and router 192.0.2.1, routes %v, MTU 1400, two name servers, 1h/30m/52m30s", *l, want)
	}
}

// TestIntegrationObtainSilent: nothing answers on the link; Obtain gives
// up at its deadline with the count of DISCOVERs, and leaves no socket
// behind.
func TestIntegrationObtainSilent(t *testing.T) {
	t.Parallel()
	n := newTestNet(t)
	c := n.link(t)
	c.Retransmit = func(int) time.Duration { return 300 * time.Millisecond }
	start := time.Now()
	err := n.inCli(t, func() error {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_, err := Obtain(ctx, c)
		return err
	})
	took := time.Since(start)
	if err == nil || !strings.Contains(err.Error(), "no lease within") || !strings.Contains(err.Error(), "4 DHCPDISCOVER unanswered") {
		t.Errorf("Obtain() error = %v", err)
	}
	if took > 3*time.Second {
		t.Errorf("Obtain() returned after %v, past its 1s deadline", took)
	}
}
