// Package netnstest gives privileged tests two named network namespaces
// joined by a veth pair, a way to run Go code inside either, and Debian's
// dnsmasq as an independent DHCP server and router advertiser in one of
// them. Tests that use it skip unless root.
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

// pairs numbers the pairs of a test binary.
var pairs atomic.Int64

// NewPair creates the namespaces and the veth pair; it skips the test
// unless root.
func NewPair(t testing.TB) *Pair {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("skipping, need root to create network namespaces")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		t.Skip("skipping, no ip(8)")
	}
	// Names unique to the test: parallel tests and test binaries do
	// not share namespaces.
	id := fmt.Sprintf("%d-%d-%s", os.Getpid(), pairs.Add(1), strings.NewReplacer("/", "-", " ", "-").Replace(t.Name()))
	if len(id) > 40 {
		id = id[:40]
	}
	p := &Pair{Server: "wgbt-s-" + id, Client: "wgbt-c-" + id}
	for _, ns := range []string{p.Server, p.Client} {
		Run(t, "ip", "netns", "add", ns)
		t.Cleanup(func() { exec.Command("ip", "netns", "del", ns).Run() })
		Run(t, "ip", "-n", ns, "link", "set", "lo", "up")
	}
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
	bin, err := exec.LookPath("dnsmasq")
	if err != nil {
		if os.Getenv("WGBOOT_E2E") == "required" {
			t.Fatal("WGBOOT_E2E=required but dnsmasq is not installed (apt-get install dnsmasq-base)")
		}
		t.Skip("skipping, dnsmasq not installed (apt-get install dnsmasq-base)")
	}
	dir := t.TempDir()
	cmd := exec.Command("ip", append([]string{"netns", "exec", ns, bin,
		"--no-daemon", "--conf-file=/dev/null", "--port=0", "--user=root", "--group=root",
		"--interface=" + iface, "--bind-interfaces", "--log-dhcp", "--log-facility=-",
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
	deadline := time.Now().Add(10 * time.Second)
	for ready != "" && !strings.Contains(out.String(), ready) {
		if time.Now().After(deadline) {
			t.Fatalf("dnsmasq did not log %q:\n%s", ready, out.String())
		}
		time.Sleep(20 * time.Millisecond)
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
