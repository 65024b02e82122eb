package bringup

import (
	"context"
	"errors"
	"math/rand/v2"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/wgboot/wgboot/board"
	"github.com/wgboot/wgboot/internal/wgkey"
	"github.com/wgboot/wgboot/netsetup"
)

func TestSortAddrs(t *testing.T) {
	got := addrList("fd50::1", "192.0.2.1", "2001::1", "2002::1", "2001:db8::1", "198.51.100.1", "2001:db8::2", "::ffff:192.0.2.9")
	SortAddrs(got)
	// Global IPv6 (40), IPv4 in the server's order (35), 6to4 (30),
	// Teredo (5), unique local (3).
	want := addrList("2001:db8::1", "2001:db8::2", "192.0.2.1", "198.51.100.1", "::ffff:192.0.2.9", "2002::1", "2001::1", "fd50::1")
	if !slices.Equal(got, want) {
		t.Errorf("SortAddrs() = %v, want %v", got, want)
	}
}

func TestPrefer(t *testing.T) {
	routable := routableBy([]netsetup.Route{
		{Dst: netip.MustParsePrefix("0.0.0.0/0"), Type: unix.RTN_UNICAST},
		{Dst: netip.MustParsePrefix("fd50::/64"), Type: unix.RTN_UNICAST},
		{Dst: netip.MustParsePrefix("2001:db8:dead::/48"), Type: unix.RTN_BLACKHOLE},
	})
	cands := []Candidate{
		{Addr: netip.MustParseAddrPort("[2001:db8::1]:51820"), From: "hub.example.net:51820"},
		{Addr: netip.MustParseAddrPort("192.0.2.1:51820"), From: "hub.example.net:51820"},
		{Addr: netip.MustParseAddrPort("[2001:db8:dead::1]:51820"), From: "[2001:db8:dead::1]:51820"},
		{Addr: netip.MustParseAddrPort("[fd50::1]:51820"), From: "[fd50::1]:51820"},
		{Addr: netip.MustParseAddrPort("203.0.113.7:51820"), From: "203.0.113.7:51820"},
	}
	Prefer(cands, routable)
	var got []string
	for _, c := range cands {
		got = append(got, c.Addr.String())
	}
	// No IPv6 default route: the IPv6 addresses outside fd50::/64 (and
	// the blackholed one) go last, each group in its order.
	want := []string{"192.0.2.1:51820", "[fd50::1]:51820", "203.0.113.7:51820", "[2001:db8::1]:51820", "[2001:db8:dead::1]:51820"}
	if !slices.Equal(got, want) {
		t.Errorf("Prefer() = %v, want %v", got, want)
	}
	if !routable(netip.MustParseAddr("::ffff:10.0.0.1")) {
		t.Error("a v4-mapped address is not routed as IPv4")
	}
}

func TestCandidates(t *testing.T) {
	eps := []board.Endpoint{
		{Host: "hub.example.net", Port: 51820},
		{Addr: netip.MustParseAddrPort("203.0.113.7:51820")},
		{Host: "gone.example.net", Port: 51820},
		{Host: "hub2.example.net", Port: 51821},
		{Addr: netip.MustParseAddrPort("192.0.2.1:51820")}, // hub.example.net's, again
		{Host: "pool.example.net", Port: 51820},
	}
	answers := map[string][]netip.Addr{
		"hub.example.net":  addrList("192.0.2.1", "2001:db8::1"),
		"hub2.example.net": addrList("fd50::2", "198.51.100.2"),
		"pool.example.net": addrList("198.51.100.10", "198.51.100.11", "198.51.100.12", "198.51.100.13", "198.51.100.14"),
	}
	lookup := func(h string) []netip.Addr { return answers[h] }
	v4only := func(a netip.Addr) bool { return a.Is4() }
	var got []string
	for _, c := range Candidates(eps, lookup, v4only) {
		got = append(got, c.String())
	}
	// Routable IPv4 first, each name's addresses by precedence, the
	// repeated 192.0.2.1 once, then the IPv6 ones; eight in all.
	want := []string{
		"hub.example.net:51820 (192.0.2.1:51820)",
		"203.0.113.7:51820",
		"hub2.example.net:51821 (198.51.100.2:51821)",
		"pool.example.net:51820 (198.51.100.10:51820)",
		"pool.example.net:51820 (198.51.100.11:51820)",
		"pool.example.net:51820 (198.51.100.12:51820)",
		"pool.example.net:51820 (198.51.100.13:51820)",
		"pool.example.net:51820 (198.51.100.14:51820)",
	}
	if !slices.Equal(got, want) {
		t.Errorf("Candidates() =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	all := func(netip.Addr) bool { return true }
	got = got[:0]
	for _, c := range Candidates(eps[:4], lookup, all) {
		got = append(got, c.Addr.String())
	}
	if want := []string{"[2001:db8::1]:51820", "192.0.2.1:51820", "203.0.113.7:51820", "198.51.100.2:51821", "[fd50::2]:51821"}; !slices.Equal(got, want) {
		t.Errorf("Candidates() with both families routed = %v, want %v", got, want)
	}
	if c := Candidates(eps[2:3], lookup, all); len(c) != 0 {
		t.Errorf("Candidates() of a name without addresses = %v", c)
	}
}

func addrList(s ...string) []netip.Addr {
	var out []netip.Addr
	for _, a := range s {
		out = append(out, netip.MustParseAddr(a))
	}
	return out
}

// fallbackTunnel is testTunnel whose first peer's endpoint is the first
// of cands, brought up on k.
func fallbackTunnel(t *testing.T, k *fakeKernel, n *Net, cands []Candidate) (since time.Time, key wgkey.Key) {
	t.Helper()
	tun := testTunnel()
	tun.Peers[0].Endpoint = cands[0].Addr
	key = tun.Peers[0].PublicKey
	since = time.Now()
	if _, err := n.TunnelUp(tun); err != nil {
		t.Fatal(err)
	}
	return since, key
}

func candidates(addrs ...string) []Candidate {
	var out []Candidate
	for i, a := range addrs {
		c := Candidate{Addr: netip.MustParseAddrPort(a), From: a}
		if i == 0 {
			c.From = "hub.example.net:51820"
		}
		out = append(out, c)
	}
	return out
}

func TestHandshakesWithFallback(t *testing.T) {
	const timeout = 150 * time.Millisecond
	tests := []struct {
		name    string
		cands   []Candidate
		alive   []string
		wait    time.Duration
		current string
		tried   []string
		min     time.Duration
		err     error
	}{
		{
			name:    "the first endpoint answers",
			cands:   candidates("192.0.2.1:51820", "203.0.113.7:51820"),
			alive:   []string{"192.0.2.1:51820", "203.0.113.7:51820"},
			wait:    2 * time.Second,
			current: "192.0.2.1:51820",
			tried:   []string{"192.0.2.1:51820"},
		},
		{
			name:    "the first is dead: the second within endpoint_timeout",
			cands:   candidates("192.0.2.1:51820", "203.0.113.7:51820", "[2001:db8::7]:51820"),
			alive:   []string{"203.0.113.7:51820", "[2001:db8::7]:51820"},
			wait:    2 * time.Second,
			current: "203.0.113.7:51820",
			tried:   []string{"192.0.2.1:51820", "203.0.113.7:51820"},
			min:     timeout,
		},
		{
			name:    "only the last answers",
			cands:   candidates("192.0.2.1:51820", "203.0.113.7:51820", "[2001:db8::7]:51820"),
			alive:   []string{"[2001:db8::7]:51820"},
			wait:    2 * time.Second,
			current: "[2001:db8::7]:51820",
			tried:   []string{"192.0.2.1:51820", "203.0.113.7:51820", "[2001:db8::7]:51820"},
			min:     2 * timeout,
		},
		{
			name:    "none answers: round and round, then back to the first",
			cands:   candidates("192.0.2.1:51820", "203.0.113.7:51820"),
			wait:    1200 * time.Millisecond,
			current: "192.0.2.1:51820",
			err:     context.DeadlineExceeded,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k := newFakeKernel(t)
			n := k.net(t)
			since, key := fallbackTunnel(t, k, n, tt.cands)
			for _, a := range tt.alive {
				k.live(netip.MustParseAddrPort(a))
			}
			ctx, cancel := context.WithTimeout(t.Context(), tt.wait)
			defer cancel()
			tun := testTunnel()
			tun.Peers[0].Endpoint = tt.cands[0].Addr
			g, err := n.HandshakesWithFallback(ctx, tun, since, map[wgkey.Key]Fallback{key: {Candidates: tt.cands, Timeout: timeout}})
			took := time.Since(since)
			if !errors.Is(err, tt.err) || (tt.err == nil && err != nil) {
				t.Fatalf("HandshakesWithFallback() error = %v, want %v", err, tt.err)
			}
			e := g.Endpoints[key]
			var tried []string
			for _, c := range e.Tried {
				tried = append(tried, c.Addr.String())
			}
			if tt.tried == nil {
				// Round and round: A, B, A, B, …, and A again at the end.
				for i, a := range tried {
					if a != tt.cands[i%2].Addr.String() && i != len(tried)-1 {
						t.Errorf("tried %v: not in turn", tried)
					}
				}
				if len(tried) < 4 {
					t.Errorf("tried only %v", tried)
				}
				tt.tried = tried
			}
			if e.Current.Addr.String() != tt.current || !slices.Equal(tried, tt.tried) || tried[len(tried)-1] != tt.current {
				t.Errorf("endpoint %v after %v, want %s after %v", e.Current, tried, tt.current, tt.tried)
			}
			if got := k.endpoint("wg0", key); got.String() != tt.current {
				t.Errorf("the kernel has endpoint %v, want %s", got, tt.current)
			}
			if _, ok := g.Handshakes[key]; ok == (tt.err != nil) {
				t.Errorf("handshakes = %v", g.Handshakes)
			}
			if g.Waited != 1 {
				t.Errorf("waited for %d peers, want 1 (the other has no endpoint)", g.Waited)
			}
			if took < tt.min || (tt.err == nil && took > tt.min+500*time.Millisecond) {
				t.Errorf("took %v, want %v and a poll or two", took, tt.min)
			}
			// Each switch is one UPDATE_ONLY message with the endpoint.
			switches := 0
			for _, op := range k.ops {
				if strings.Contains(op, "endpoint") {
					switches++
				}
			}
			if switches != len(tt.tried)-1 {
				t.Errorf("%d endpoint changes in %q, want %d", switches, k.ops, len(tt.tried)-1)
			}
		})
	}
}

// TestHandshakesWithFallbackUnsendable: an endpoint the kernel cannot send
// to (no route) never sees an initiation; it is given up after
// REKEY_TIMEOUT and a fifth, not waited on for ever.
func TestHandshakesWithFallbackUnsendable(t *testing.T) {
	k := newFakeKernel(t)
	n := k.net(t)
	n.rekeyTimeout = 200 * time.Millisecond
	cands := candidates("[2001:db8::1]:51820", "192.0.2.1:51820")
	k.unsendable[cands[0].Addr] = true
	k.live(cands[1].Addr)
	since, key := fallbackTunnel(t, k, n, cands)
	tun := testTunnel()
	tun.Peers[0].Endpoint = cands[0].Addr
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Second)
	defer cancel()
	// endpoint_timeout is long: only the missing initiation can end
	// the first candidate's turn early.
	g, err := n.HandshakesWithFallback(ctx, tun, since, map[wgkey.Key]Fallback{key: {Candidates: cands, Timeout: time.Minute}})
	if err != nil {
		t.Fatal(err)
	}
	if took := time.Since(since); took < 240*time.Millisecond || took > time.Second {
		t.Errorf("took %v, want about 240ms and a poll or two", took)
	}
	if got := g.Endpoints[key].Current; got != cands[1] {
		t.Errorf("endpoint %v, want %v", got, cands[1])
	}
}

// TestHandshakesWithFallbackOnlySomePeers: a peer without fallbacks in the
// same tunnel is waited for as before, its endpoint left alone.
func TestHandshakesWithFallbackOnlySomePeers(t *testing.T) {
	k := newFakeKernel(t)
	n := k.net(t)
	tun := testTunnel()
	second := tun.Peers[1].PublicKey
	tun.Peers[1].Endpoint = netip.MustParseAddrPort("198.51.100.2:51820")
	k.live(tun.Peers[1].Endpoint)
	k.live(netip.MustParseAddrPort("203.0.113.7:51820"))
	since := time.Now()
	plan := *tun
	plan.Peers = slices.Clone(tun.Peers)
	if _, err := n.TunnelUp(tun); err != nil {
		t.Fatal(err)
	}
	first := plan.Peers[0].PublicKey
	cands := candidates(plan.Peers[0].Endpoint.String(), "203.0.113.7:51820")
	g, err := n.HandshakesWithFallback(t.Context(), &plan, since, map[wgkey.Key]Fallback{first: {Candidates: cands, Timeout: 100 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	if len(g.Handshakes) != 2 || g.Waited != 2 {
		t.Errorf("handshakes %v of %d", g.Handshakes, g.Waited)
	}
	if _, ok := g.Endpoints[second]; ok {
		t.Errorf("endpoints recorded for the peer without fallbacks: %v", g.Endpoints)
	}
	if got := k.endpoint("wg0", second); got != plan.Peers[1].Endpoint {
		t.Errorf("second peer's endpoint = %v", got)
	}
}

// TestHandshakesWithFallbackKernelError: a failing read of the device ends
// the wait at once, with the kernel's error; it is not taken for a peer
// that stays silent.
func TestHandshakesWithFallbackKernelError(t *testing.T) {
	k := newFakeKernel(t)
	n := k.net(t)
	cands := candidates("192.0.2.1:51820", "203.0.113.7:51820")
	since, key := fallbackTunnel(t, k, n, cands)
	k.mu.Lock()
	delete(k.devices, "wg0")
	k.mu.Unlock()
	tun := testTunnel()
	tun.Peers[0].Endpoint = cands[0].Addr
	start := time.Now()
	_, err := n.HandshakesWithFallback(t.Context(), tun, since, map[wgkey.Key]Fallback{key: {Candidates: cands, Timeout: 50 * time.Millisecond}})
	if !errors.Is(err, unix.ENODEV) {
		t.Errorf("HandshakesWithFallback() error = %v, want ENODEV", err)
	}
	if took := time.Since(start); took > 40*time.Millisecond {
		t.Errorf("took %v: the error was waited on", took)
	}
}

// TestSortAddrsPreferAsStableSort: SortAddrs and Prefer order as
// slices.SortStableFunc would with their comparisons, which they replaced
// (one generic copy fewer in /init).
func TestSortAddrsPreferAsStableSort(t *testing.T) {
	pool := addrList("fd50::1", "192.0.2.1", "2001::1", "2002::1", "2001:db8::1", "198.51.100.1",
		"2001:db8::2", "::ffff:192.0.2.9", "fd50::2", "203.0.113.7", "2002::2", "2001::2")
	rng := rand.New(rand.NewPCG(1, 2))
	for range 500 {
		list := make([]netip.Addr, rng.IntN(12))
		for i := range list {
			list[i] = pool[rng.IntN(len(pool))]
		}
		want := slices.Clone(list)
		slices.SortStableFunc(want, func(a, b netip.Addr) int { return precedence(b) - precedence(a) })
		got := slices.Clone(list)
		SortAddrs(got)
		if !slices.Equal(got, want) {
			t.Fatalf("SortAddrs(%v) = %v, want %v", list, got, want)
		}

		cands := make([]Candidate, len(list))
		for i, a := range list {
			cands[i] = Candidate{Addr: netip.AddrPortFrom(a, uint16(i))}
		}
		routable := func(a netip.Addr) bool { return a.Is4() || a.Is4In6() || precedence(a) == 3 }
		wantC := slices.Clone(cands)
		slices.SortStableFunc(wantC, func(a, b Candidate) int {
			ra, rb := routable(a.Addr.Addr()), routable(b.Addr.Addr())
			switch {
			case ra == rb:
				return 0
			case ra:
				return -1
			}
			return 1
		})
		Prefer(cands, routable)
		if !slices.Equal(cands, wantC) {
			t.Fatalf("Prefer: %v, want %v", cands, wantC)
		}
	}
}
