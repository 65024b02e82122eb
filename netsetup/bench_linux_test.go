package netsetup

import (
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// benchLinks is how many links each side of BenchmarkLinks1000 configures.
const benchLinks = 1000

// benchPrefixes returns link i's address and route destination.
func benchPrefixes(i int) (address, route netip.Prefix) {
	address = netip.PrefixFrom(netip.AddrFrom4([4]byte{10, byte(i / 250), byte(i % 250), 1}), 32)
	route = netip.PrefixFrom(netip.AddrFrom4([4]byte{10, 100 + byte(i/250), byte(i % 250), 0}), 24)
	return address, route
}

// BenchmarkLinks1000 creates 1,000 dummy links, each up with an address and
// a route, with netsetup in one fresh network namespace and with
// `ip -batch` doing the same in another, in the same run, and reports both
// times and their ratio. It needs root and ip(8). Where the kernel lacks
// the dummy driver both sides use ifb links.
//
//	go test -run '^$' -bench Links1000 ./netsetup/
//
// Per link, netsetup sends RTM_NEWLINK (create), RTM_GETLINK (index),
// RTM_NEWLINK (up), RTM_NEWADDR and RTM_NEWROUTE; ip resolves the name
// before each command that uses it. The ip time includes starting the
// process (a few milliseconds).
func BenchmarkLinks1000(b *testing.B) {
	if os.Geteuid() != 0 {
		b.Skip("skipping, need root to create network namespaces")
	}
	ipPath, err := exec.LookPath("ip")
	if err != nil {
		b.Skipf("skipping, no ip(8) to compare with: %v", err)
	}
	probe := newNetNS(b)
	kind := dummyKind(b, probe.handle(b))
	probe.Close()

	var batch strings.Builder
	for i := range benchLinks {
		a, r := benchPrefixes(i)
		fmt.Fprintf(&batch, "link add b%d type %s\nlink set b%d up\naddr add %s dev b%d\nroute replace %s dev b%d\n",
			i, kind, i, a, i, r, i)
	}
	batchFile := filepath.Join(b.TempDir(), "links.batch")
	if err := os.WriteFile(batchFile, []byte(batch.String()), 0o644); err != nil {
		b.Fatal(err)
	}

	var ours, theirs time.Duration
	n := 0
	// The namespaces live until the benchmark ends: tearing down 1,000
	// links holds the RTNL lock and would slow the next measurement.
	runOurs := func() {
		ns := newNetNS(b)
		h := ns.handle(b)
		start := time.Now()
		for i := range benchLinks {
			a, r := benchPrefixes(i)
			l, err := h.CreateLink(fmt.Sprintf("b%d", i), kind)
			if err == nil {
				err = h.SetLinkUp(l.Index, true)
			}
			if err == nil {
				err = h.AddAddress(l.Index, a)
			}
			if err == nil {
				err = h.ReplaceRoute(Route{Dst: r, OIF: l.Index})
			}
			if err != nil {
				b.Fatal(err)
			}
		}
		ours += time.Since(start)
	}
	runIP := func() {
		// Forked from the namespace's locked thread, ip starts in that
		// namespace.
		ns := newNetNS(b)
		if err := ns.Do(func() error {
			start := time.Now()
			out, err := exec.Command(ipPath, "-batch", batchFile).CombinedOutput()
			theirs += time.Since(start)
			if err != nil {
				return fmt.Errorf("ip -batch: %v: %s", err, out)
			}
			return nil
		}); err != nil {
			b.Fatal(err)
		}
	}
	// The namespaces live until the benchmark ends: tearing down 1,000
	// links holds the RTNL lock and would slow the next measurement. The
	// two sides take turns going first.
	for b.Loop() {
		if n%2 == 0 {
			runOurs()
			runIP()
		} else {
			runIP()
			runOurs()
		}
		n++
	}
	perOp := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 / float64(n) }
	ratio := float64(ours) / float64(theirs)
	b.ReportMetric(perOp(ours), "netsetup-ms/op")
	b.ReportMetric(perOp(theirs), "ip-batch-ms/op")
	b.ReportMetric(ratio, "netsetup/ip")
	b.Logf("%d %s links with an address and a route each: netsetup %.1f ms, ip -batch %.1f ms, ratio netsetup/ip %.2f (%d runs)",
		benchLinks, kind, perOp(ours), perOp(theirs), ratio, n)
}

// BenchmarkReplaceRoutes10000 adds 10,000 routes (5,000 IPv4, 5,000 IPv6
// host routes) to a link, one request per route with ReplaceRoute and in
// batches with ReplaceRoutes, each in a fresh network namespace, in the
// same run, and reports both times and their ratio. It needs root.
//
//	go test -run '^$' -bench ReplaceRoutes10000 ./netsetup/
func BenchmarkReplaceRoutes10000(b *testing.B) {
	if os.Geteuid() != 0 {
		b.Skip("skipping, need root to create network namespaces")
	}
	routes := append(manyRoutes(5000, false), manyRoutes(5000, true)...)
	probe := newNetNS(b)
	kind := dummyKind(b, probe.handle(b))
	probe.Close()
	setup := func() (*Handle, []Route) {
		h := newNetNS(b).handle(b)
		l, err := h.CreateLink("wg0", kind)
		if err != nil {
			b.Fatal(err)
		}
		if err := h.SetLinkUp(l.Index, true); err != nil {
			b.Fatal(err)
		}
		rs := slices.Clone(routes)
		for i := range rs {
			rs[i].OIF = l.Index
		}
		return h, rs
	}
	var single, batched time.Duration
	runSingle := func() {
		h, rs := setup()
		start := time.Now()
		for _, r := range rs {
			if err := h.ReplaceRoute(r); err != nil {
				b.Fatal(err)
			}
		}
		single += time.Since(start)
	}
	runBatched := func() {
		h, rs := setup()
		start := time.Now()
		if err := h.ReplaceRoutes(rs); err != nil {
			b.Fatal(err)
		}
		batched += time.Since(start)
	}
	n := 0
	for b.Loop() {
		if n%2 == 0 {
			runSingle()
			runBatched()
		} else {
			runBatched()
			runSingle()
		}
		n++
	}
	perOp := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 / float64(n) }
	ratio := float64(single) / float64(batched)
	b.ReportMetric(perOp(single), "single-ms/op")
	b.ReportMetric(perOp(batched), "batched-ms/op")
	b.ReportMetric(ratio, "single/batched")
	b.Logf("%d routes: one per request %.1f ms, batched %.1f ms, ratio %.2f (%d runs)",
		len(routes), perOp(single), perOp(batched), ratio, n)
}
