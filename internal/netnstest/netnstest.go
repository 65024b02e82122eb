// Package netnstest gives privileged tests network namespaces: a fresh
// unnamed one with a thread inside to run Go code on (New), named ones
// (Named), two named ones joined by a veth pair (NewPair), and Debian's
// dnsmasq as an independent DHCP server, router advertiser or DNS server
// in them. Tests that use it skip unless root; as root, failing to make a
// namespace fails them, so that CI cannot silently skip them.
package netnstest

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// Pair is two network namespaces, Server and Client, joined by a veth
// pair: ServerLink (v1) in Server, ClientLink (v0) in Client, both up,
// without addresses. Both are deleted when the test ends.
type Pair struct {
	Server, Client string
}

// Link names in the namespaces.
const (
	ServerLink = "v1"
	ClientLink = "v0"
)

// Run runs a command and fails the test if it fails.
func Run(t testing.TB, args ...string) {
	t.Helper()
	if out, err := exec.Command(args[0], args[1:]...).CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// Output runs a command and returns its standard output.
func Output(t testing.TB, args ...string) string {
	t.Helper()
	out, err := exec.Command(args[0], args[1:]...).Output()
	if err != nil {
		t.Fatalf("%s: %v", strings.Join(args, " "), err)
	}
	return string(out)
}

// named numbers the named namespaces of a test binary.
var named atomic.Int64

// Named creates a network namespace named prefix and a suffix unique to
// the test (ip netns add), with lo up, deleted when the test ends; it
// skips the test unless root and with ip(8).
func Named(t testing.TB, prefix string) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("skipping, need root to create network namespaces")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		t.Skip("skipping, no ip(8)")
	}
	// Names unique to the test: parallel tests and test binaries do
	// not share namespaces.
	id := fmt.Sprintf("%d-%d-%s", os.Getpid(), named.Add(1), strings.NewReplacer("/", "-", " ", "-").Replace(t.Name()))
	if len(id) > 40 {
		id = id[:40]
	}
	ns := prefix + id
	Run(t, "ip", "netns", "add", ns)
	t.Cleanup(func() { exec.Command("ip", "netns", "del", ns).Run() })
	Run(t, "ip", "-n", ns, "link", "set", "lo", "up")
	return ns
}

// NewPair creates the namespaces and the veth pair; it skips the test
// unless root.
func NewPair(t testing.TB) *Pair {
	t.Helper()
	p := &Pair{Server: Named(t, "wgbt-s-"), Client: Named(t, "wgbt-c-")}
	Run(t, "ip", "link", "add", ClientLink, "netns", p.Client, "type", "veth", "peer", "name", ServerLink, "netns", p.Server)
	Run(t, "ip", "-n", p.Server, "link", "set", ServerLink, "up")
	Run(t, "ip", "-n", p.Client, "link", "set", ClientLink, "up")
	return p
}

// Do runs fn on a thread inside the namespace ns; sockets fn opens stay in
// it, whatever goroutine uses them later.
func Do(ns string, fn func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		// No UnlockOSThread: the thread dies with this goroutine, so
		// that no other goroutine ever runs in the namespace.
		f, err := os.Open("/run/netns/" + ns)
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

// Dnsmasq starts Debian's dnsmasq in ns on iface with the given arguments
// (a --dhcp-range, --enable-ra, options), without DNS, logging each
// exchange; it is killed when the test ends and its log printed if the test
// failed. ready is a log line to wait for ("" waits for nothing). Without
// dnsmasq the test skips, or fails when WGBOOT_E2E is "required".
func Dnsmasq(t testing.TB, ns, iface, ready string, args ...string) {
	t.Helper()
	bin := dnsmasqBin(t)
	dir := t.TempDir()
	cmd := exec.Command("ip", append([]string{"netns", "exec", ns, bin,
		"--no-daemon", "--conf-file=/dev/null", "--port=0", "--user=root", "--group=root",
		"--interface=" + iface, "--bind-interfaces", "--log-dhcp", "--log-facility=-",
		// Without it dnsmasq pings every address for 3 s before it
		// offers it: real, but slow for every test.
		"--no-ping",
		"--dhcp-leasefile=" + filepath.Join(dir, "leases"), "--pid-file=" + filepath.Join(dir, "pid"),
	}, args...)...)
	out := logged(t, cmd)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for ready != "" && !strings.Contains(out.String(), ready) {
		if time.Now().After(deadline) {
			t.Fatalf("dnsmasq did not log %q:\n%s", ready, out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// dnsmasqBin is the path of dnsmasq; without it the test skips, or fails
// when WGBOOT_E2E is "required".
func dnsmasqBin(t testing.TB) string {
	t.Helper()
	bin, err := exec.LookPath("dnsmasq")
	if err != nil {
		if os.Getenv("WGBOOT_E2E") == "required" {
			t.Fatal("WGBOOT_E2E=required but dnsmasq is not installed (apt-get install dnsmasq-base)")
		}
		t.Skip("skipping, dnsmasq not installed (apt-get install dnsmasq-base)")
	}
	return bin
}

// logged collects what cmd writes, kills cmd (once started) when the test
// ends and prints its output if the test failed.
func logged(t testing.TB, cmd *exec.Cmd) *syncBuffer {
	out := new(syncBuffer)
	cmd.Stdout, cmd.Stderr = out, out
	t.Cleanup(func() {
		if cmd.Process == nil {
			return
		}
		cmd.Process.Kill()
		cmd.Wait()
		if t.Failed() {
			t.Logf("dnsmasq:\n%s", out.String())
		}
	})
	return out
}

// NS is a fresh, unnamed network namespace with an OS thread locked
// inside it, on which Do runs functions: sockets they open stay in the
// namespace whatever goroutine uses them later, and programs they start
// run in it. The thread is never unlocked, so it ends with its goroutine
// when the test ends and no other goroutine ever inherits the namespace
// (jsimonetti/rtnetlink internal/testutils/netns.go).
type NS struct {
	fns   chan func()
	close func()
}

// New creates the namespace, closed when the test ends. It skips the test
// unless root; as root, failing to create one fails it.
func New(t testing.TB) *NS {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("skipping, need root to create a network namespace")
	}
	ns := &NS{fns: make(chan func())}
	ns.close = sync.OnceFunc(func() { close(ns.fns) })
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		// No UnlockOSThread: the thread must die with this goroutine.
		if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
			errc <- os.NewSyscallError("unshare CLONE_NEWNET", err)
			return
		}
		errc <- nil
		for fn := range ns.fns {
			fn()
		}
	}()
	if err := <-errc; err != nil {
		t.Fatalf("create network namespace as root: %v", err)
	}
	t.Cleanup(ns.close)
	return ns
}

// Close ends the namespace before the test does: its thread exits, and
// the namespace goes with the last socket or program in it. Do must not
// be called after.
func (ns *NS) Close() { ns.close() }

// Do runs fn on the namespace's thread.
func (ns *NS) Do(fn func() error) error {
	errc := make(chan error, 1)
	ns.fns <- func() { errc <- fn() }
	return <-errc
}

// Dnsmasq starts Debian's dnsmasq in the namespace, in the foreground,
// without a configuration file, logging to its output, with args (what to
// serve, on which addresses); it is killed when the test ends and its log
// printed if the test failed. Without dnsmasq the test skips, or fails
// when WGBOOT_E2E is "required".
func (ns *NS) Dnsmasq(t testing.TB, args ...string) {
	t.Helper()
	cmd := exec.Command(dnsmasqBin(t), append([]string{
		"--keep-in-foreground", "--conf-file=/dev/null", "--pid-file=", "--log-facility=-"}, args...)...)
	logged(t, cmd)
	if err := ns.Do(cmd.Start); err != nil {
		t.Fatal(err)
	}
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
