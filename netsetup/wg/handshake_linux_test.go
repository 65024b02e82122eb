package wg

import (
	"fmt"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/wgboot/wgboot/internal/wgkey"
	"github.com/wgboot/wgboot/netsetup/internal/nl"
)

// handshakeDevice returns a fake device with n peers of three allowed IPs
// each, every one with a handshake after since, and their keys.
func handshakeDevice(tb testing.TB, n int, since time.Time) (*fakeWG, []wgkey.Key) {
	tb.Helper()
	f := newFakeWG(tb, "wg0")
	keys := make([]wgkey.Key, n)
	for i, pc := range manyPeers(n) {
		f.addPeer(&fakePeer{key: pc.PublicKey, ips: pc.AllowedIPs, handshake: since.Add(time.Duration(i+1) * time.Millisecond)})
		keys[i] = pc.PublicKey
	}
	return f, keys
}

// oldPoll is the client's work in one poll of WaitHandshake as it was
// before: the whole dump decoded (allowed IPs, endpoints, counters), then
// a map of every peer.
func oldPoll(replies []nl.Message, since time.Time, want []wgkey.Key) (map[wgkey.Key]time.Time, error) {
	d, err := parseDevice(replies)
	if err != nil {
		return nil, err
	}
	byKey := make(map[wgkey.Key]time.Time, len(d.Peers))
	for i := range d.Peers {
		byKey[d.Peers[i].PublicKey] = d.Peers[i].LastHandshake
	}
	got := make(map[wgkey.Key]time.Time)
	for _, k := range want {
		if hs := byKey[k]; hs.After(since) {
			got[k] = hs
		}
	}
	return got, nil
}

// quadraticPoll is the gate of issue 15.4: the whole dump decoded, then for
// each wanted peer a scan of the device's peers comparing public keys in
// base64, each encoded again for each comparison.
func quadraticPoll(replies []nl.Message, since time.Time, want []wgkey.Key) (map[wgkey.Key]time.Time, error) {
	d, err := parseDevice(replies)
	if err != nil {
		return nil, err
	}
	got := make(map[wgkey.Key]time.Time)
	for _, k := range want {
		for i := range d.Peers {
			if d.Peers[i].PublicKey.String() == k.String() && d.Peers[i].LastHandshake.After(since) {
				got[k] = d.Peers[i].LastHandshake
			}
		}
	}
	return got, nil
}

// leanPoll is the client's work in one poll of WaitHandshake now.
func leanPoll(replies []nl.Message, seen map[wgkey.Key]time.Time, since time.Time, want []wgkey.Key) (map[wgkey.Key]time.Time, error) {
	clear(seen)
	if err := parseHandshakes(replies, seen); err != nil {
		return nil, err
	}
	got := make(map[wgkey.Key]time.Time)
	shookHands(seen, since, slices.Clone(want), got)
	return got, nil
}

// TestWaitHandshake_matchesOld: the lean gate finds what the old one found,
// through the client and on the same dump.
func TestWaitHandshake_matchesOld(t *testing.T) {
	since := time.Unix(1800000000, 0)
	f, keys := handshakeDevice(t, 300, since)
	f.dumpSize = 4096 // peers split across parts
	replies := f.dump()
	want, err := oldPoll(replies, since, keys)
	if err != nil || len(want) != len(keys) {
		t.Fatalf("old poll = %d handshakes, %v", len(want), err)
	}
	c, _ := f.client(t)
	got, err := c.WaitHandshake(t.Context(), "wg0", since, keys)
	if err != nil || len(got) != len(want) {
		t.Fatalf("WaitHandshake() = %d handshakes, %v; want %d", len(got), err, len(want))
	}
	lean, err := leanPoll(replies, make(map[wgkey.Key]time.Time), since, keys)
	if err != nil {
		t.Fatal(err)
	}
	for k, hs := range want {
		if !got[k].Equal(hs) || !lean[k].Equal(hs) {
			t.Errorf("peer %s: handshake %v, %v; want %v", k, got[k], lean[k], hs)
		}
	}
}

// BenchmarkWaitHandshake measures the client's work in one poll of the
// handshake gate, decoding the dump of a device of 5,000 and 10,000 peers
// (three allowed IPs each, all shaken hands) and finding the wanted
// peers' handshakes: now, as it was (the whole device decoded, then a
// map), and as the quadratic gate of issue 15.4 did, in the same run, and
// reports the ratios. The dump is built once, outside the measurement.
//
//	go test -run '^$' -bench WaitHandshake ./netsetup/wg/
func BenchmarkWaitHandshake(b *testing.B) {
	since := time.Unix(1800000000, 0)
	for _, n := range []int{5000, 10000} {
		b.Run(fmt.Sprintf("peers=%d", n), func(b *testing.B) {
			f, keys := handshakeDevice(b, n, since)
			replies := f.dump()
			seen := make(map[wgkey.Key]time.Time)
			measure := func(poll func() (map[wgkey.Key]time.Time, error)) time.Duration {
				runtime.GC()
				start := time.Now()
				got, err := poll()
				d := time.Since(start)
				if err != nil || len(got) != n {
					b.Fatalf("poll = %d handshakes, %v", len(got), err)
				}
				return d
			}
			var lean, old, quadratic time.Duration
			runs := 0
			for b.Loop() {
				// Taking turns, ten polls each.
				for range 10 {
					lean += measure(func() (map[wgkey.Key]time.Time, error) { return leanPoll(replies, seen, since, keys) })
					old += measure(func() (map[wgkey.Key]time.Time, error) { return oldPoll(replies, since, keys) })
					runs++
				}
				if quadratic == 0 {
					// Seconds per poll: once is enough.
					quadratic = measure(func() (map[wgkey.Key]time.Time, error) { return quadraticPoll(replies, since, keys) })
				}
			}
			ms := func(d time.Duration, runs int) float64 { return float64(d.Microseconds()) / 1000 / float64(runs) }
			l, o, q := ms(lean, runs), ms(old, runs), ms(quadratic, 1)
			b.ReportMetric(l, "lean-ms/poll")
			b.ReportMetric(o, "old-ms/poll")
			b.ReportMetric(q, "quadratic-ms/poll")
			b.ReportMetric(o/l, "old/lean")
			b.ReportMetric(q/l, "quadratic/lean")
			b.Logf("%d peers: per poll, lean %.2f ms, old %.2f ms (%.1fx), quadratic %.0f ms (%.0fx); %d polls each",
				n, l, o, o/l, q, q/l, runs)
		})
	}
}

// TestWaitHandshake_linear is issue 15.4 without a clock: the work of one
// poll of the gate, counted in allocations, grows linearly with the peers
// (four times the peers, at most five times the allocations), where the
// quadratic gate's grew with their square (checked here too, so that the
// test is known to tell them apart).
func TestWaitHandshake_linear(t *testing.T) {
	since := time.Unix(1800000000, 0)
	allocs := func(n int, quadratic bool) float64 {
		f, keys := handshakeDevice(t, n, since)
		replies := f.dump()
		seen := make(map[wgkey.Key]time.Time)
		return testing.AllocsPerRun(1, func() {
			var got map[wgkey.Key]time.Time
			var err error
			if quadratic {
				got, err = quadraticPoll(replies, since, keys)
			} else {
				got, err = leanPoll(replies, seen, since, keys)
			}
			if err != nil || len(got) != n {
				t.Fatalf("poll of %d peers = %d handshakes, %v", n, len(got), err)
			}
		})
	}
	small, large := allocs(200, false), allocs(800, false)
	t.Logf("allocations per poll: %.0f for 200 peers, %.0f for 800", small, large)
	if large > 5*small {
		t.Errorf("a poll of 800 peers allocates %.0f times, of 200 peers %.0f: %.1fx for 4x the peers, want linear", large, small, large/small)
	}
	qs, ql := allocs(200, true), allocs(800, true)
	t.Logf("quadratic gate: %.0f for 200 peers, %.0f for 800", qs, ql)
	if ql < 10*qs {
		t.Errorf("the quadratic gate allocates %.0f times for 800 peers, %.0f for 200: the test cannot tell it from a linear one", ql, qs)
	}
}
