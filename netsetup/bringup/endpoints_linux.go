package bringup

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"time"

	"golang.org/x/sys/unix"

	"github.com/wgboot/wgboot/board"
	"github.com/wgboot/wgboot/internal/wgkey"
	"github.com/wgboot/wgboot/netsetup"
	"github.com/wgboot/wgboot/netsetup/wg"
)

// Candidate is one address a peer may be reached at, and the profile
// endpoint it comes from.
type Candidate struct {
	Addr netip.AddrPort
	// From is the endpoint as the profile writes it: a host name and
	// port ("hub.example.net:51820") or the address itself.
	From string
}

// String is the address, with the host name it comes from.
func (c Candidate) String() string {
	if c.From == "" || c.From == c.Addr.String() {
		return c.Addr.String()
	}
	return c.From + " (" + c.Addr.String() + ")"
}

// MaxCandidates bounds the addresses a peer's endpoints expand to: each
// costs up to an endpoint_timeout at boot, and a name with a long list of
// addresses (a round-robin pool) must not stretch that without end.
const MaxCandidates = 8

// Candidates expands a peer's endpoints (board.Peer.EndpointList's order:
// endpoint, then fallback_endpoints) into the addresses to try, in order:
// an address as it is, a host name as the addresses addrs gives for it,
// ordered by SortAddrs, with the endpoint's port; nothing for a name
// without addresses. An address that comes twice is tried once, at its
// first place; the ones the uplink can route go before the others
// (Prefer); at most MaxCandidates are kept.
func Candidates(eps []board.Endpoint, addrs func(host string) []netip.Addr, routable func(netip.Addr) bool) []Candidate {
	var out []Candidate
	add := func(c Candidate) {
		if !slices.ContainsFunc(out, func(o Candidate) bool { return o.Addr == c.Addr }) {
			out = append(out, c)
		}
	}
	for _, e := range eps {
		if e.Host == "" {
			if e.Addr.IsValid() {
				add(Candidate{Addr: e.Addr, From: e.String()})
			}
			continue
		}
		list := slices.Clone(addrs(e.Host))
		SortAddrs(list)
		for _, a := range list {
			add(Candidate{Addr: netip.AddrPortFrom(a, e.Port), From: e.String()})
		}
	}
	Prefer(out, routable)
	if len(out) > MaxCandidates {
		out = out[:MaxCandidates]
	}
	return out
}

// SortAddrs orders the addresses of one host name the way the boot tries
// them: RFC 6724's default precedence (§2.1: global IPv6, then IPv4, then
// 6to4, Teredo and unique-local IPv6), the server's order kept among
// equals. Which of them the uplink can route is applied over the whole
// list by [Prefer].
//
// An insertion sort: a name has a handful of addresses, and slices'
// stable sort would be one more copy of its generic code in /init.
func SortAddrs(addrs []netip.Addr) {
	for i := 1; i < len(addrs); i++ {
		a, p := addrs[i], precedence(addrs[i])
		j := i
		for ; j > 0 && precedence(addrs[j-1]) < p; j-- {
			addrs[j] = addrs[j-1]
		}
		addrs[j] = a
	}
}

// Prefer moves the candidates whose address routable accepts before the
// others, keeping the order within each group: an address of a family the
// uplink has no route for is tried only when every other has failed.
func Prefer(cands []Candidate, routable func(netip.Addr) bool) {
	// A stable partition: each routable candidate moves up to just after
	// the routable ones before it.
	n := 0
	for i := range cands {
		if !routable(cands[i].Addr.Addr()) {
			continue
		}
		c := cands[i]
		copy(cands[n+1:i+1], cands[n:i])
		cands[n] = c
		n++
	}
}

// precedence is an address's precedence in RFC 6724's default policy
// table (§2.1).
func precedence(a netip.Addr) int {
	if a.Is4() || a.Is4In6() {
		return 35
	}
	for _, p := range precedences {
		if p.prefix.Contains(a.WithZone("")) {
			return p.precedence
		}
	}
	return 40 // ::/0
}

var precedences = []struct {
	prefix     netip.Prefix
	precedence int
}{
	{netip.MustParsePrefix("::1/128"), 50},
	{netip.MustParsePrefix("2002::/16"), 30},
	{netip.MustParsePrefix("2001::/32"), 5},
	{netip.MustParsePrefix("fc00::/7"), 3},
	{netip.MustParsePrefix("::/96"), 1},
	{netip.MustParsePrefix("fec0::/10"), 1},
	{netip.MustParsePrefix("3ffe::/16"), 1},
}

// Routable reads the main routing table and returns a function that
// reports whether it has a unicast route (a default route or a more
// specific one) to an address: the families the uplink can reach.
func (n *Net) Routable() (func(netip.Addr) bool, error) {
	routes, err := n.RT.Routes(unix.AF_UNSPEC, unix.RT_TABLE_MAIN)
	if err != nil {
		return nil, err
	}
	return routableBy(routes), nil
}

// routableBy reports whether routes have a unicast route to an address.
func routableBy(routes []netsetup.Route) func(netip.Addr) bool {
	var reach []netip.Prefix
	for _, r := range routes {
		if r.Type == unix.RTN_UNICAST {
			reach = append(reach, r.Dst)
		}
	}
	return func(a netip.Addr) bool {
		a = a.Unmap().WithZone("")
		return slices.ContainsFunc(reach, func(p netip.Prefix) bool { return p.Contains(a) })
	}
}

// Fallback is what the handshake gate may do for one peer: its candidate
// endpoints in order, the first being the one TunnelUp configured, and how
// long each gets to answer a handshake initiation before the next is
// configured.
type Fallback struct {
	Candidates []Candidate
	Timeout    time.Duration
}

// PeerEndpoint is what the handshake gate did with a peer's endpoint.
type PeerEndpoint struct {
	// Current is the candidate configured when the gate ended.
	Current Candidate
	// Tried lists every candidate configured, in order, Current last;
	// one element when the gate never switched.
	Tried []Candidate
}

// Gate is the outcome of the handshake wait for one tunnel.
type Gate struct {
	Handshakes map[wgkey.Key]time.Time // peers that completed a handshake, and when
	Waited     int                     // peers waited for
	Endpoints  map[wgkey.Key]PeerEndpoint
}

// rekeyTimeout is WireGuard's REKEY_TIMEOUT: a handshake initiation that
// gets no response is sent again after 5 seconds (plus up to a third of a
// second of jitter), and no sooner, whatever is sent into the tunnel.
const rekeyTimeout = 5 * time.Second

// HandshakesWithFallback is [Net.Handshakes] for a tunnel whose peers may
// have several endpoints (fb, by public key). A peer whose current
// endpoint does not answer a handshake initiation within its Timeout is
// switched to its next candidate — WG_CMD_SET_DEVICE with the peer's
// endpoint alone, UPDATE_ONLY — and kicked; after the last candidate the
// first comes again. The candidate that completes the handshake stays
// configured. When ctx ends with a peer still silent, the peer is set back
// to its first endpoint, the one the profile names first, for the next
// stage to keep trying. Every switch is logged.
//
// A candidate's time counts from the first handshake initiation sent to
// it, which the gate sees as the peer's transmitted bytes growing (with no
// session, WireGuard sends nothing else), not from the switch: the kernel
// sends initiations on its own schedule, one every 5 seconds
// (REKEY_TIMEOUT), and a switch between two of them must not cost the new
// endpoint its turn. The poll that first sees the bytes grow dates the
// initiation to the poll before, so the switch comes before the kernel's
// next retransmission, which then goes to the next candidate. A candidate
// that sees no initiation at all within 6 seconds, REKEY_TIMEOUT and a fifth (the
// kernel cannot send to it: no route) is given up as well.
func (n *Net) HandshakesWithFallback(ctx context.Context, t *board.Tunnel, since time.Time, fb map[wgkey.Key]Fallback) (Gate, error) {
	g := Gate{Handshakes: make(map[wgkey.Key]time.Time), Endpoints: make(map[wgkey.Key]PeerEndpoint)}
	rekey := n.rekeyTimeout
	if rekey == 0 {
		rekey = rekeyTimeout
	}
	type state struct {
		f        Fallback
		peer     *board.Peer
		cur      int
		switched time.Time // when cur was configured
		baseTx   uint64    // transmitted bytes when cur was configured
		based    bool      // baseTx was read after the switch
		started  time.Time // the first initiation to cur, as dated by the polls
	}
	states := make(map[wgkey.Key]*state)
	var pending []wgkey.Key
	for i := range t.Peers {
		p := &t.Peers[i]
		if !p.Endpoint.IsValid() {
			continue
		}
		pending = append(pending, p.PublicKey)
		if p.PersistentKeepalive == 0 {
			Kick(t.Name, p.AllowedIPs)
		}
		if f, ok := fb[p.PublicKey]; ok && len(f.Candidates) > 0 {
			// The device was new at since: nothing sent before.
			states[p.PublicKey] = &state{f: f, peer: p, switched: since, based: true}
			g.Endpoints[p.PublicKey] = PeerEndpoint{Current: f.Candidates[0], Tried: f.Candidates[:1:1]}
		}
	}
	g.Waited = len(pending)
	if len(pending) == 0 {
		return g, nil
	}
	// set configures candidate i of a peer, and records it.
	set := func(k wgkey.Key, s *state, i int, now time.Time) error {
		c := s.f.Candidates[i]
		err := n.WG.Configure(t.Name, wg.Config{Peers: []wg.PeerConfig{{PublicKey: k, UpdateOnly: true, Endpoint: c.Addr}}})
		if err != nil {
			return fmt.Errorf("tunnel %s: peer %s: set endpoint %s: %w", t.Name, k, c, err)
		}
		s.cur, s.switched, s.based, s.started = i, now, false, time.Time{}
		e := g.Endpoints[k]
		e.Current, e.Tried = c, append(e.Tried, c)
		g.Endpoints[k] = e
		return nil
	}
	tick := time.NewTicker(wg.HandshakePollInterval)
	defer tick.Stop()
	prev := since // the poll before this one
	for {
		now := time.Now()
		dev, err := n.WG.Device(t.Name)
		if err != nil {
			return g, fmt.Errorf("tunnel %s: %w", t.Name, err)
		}
		byKey := make(map[wgkey.Key]*wg.Peer, len(dev.Peers))
		for i := range dev.Peers {
			byKey[dev.Peers[i].PublicKey] = &dev.Peers[i]
		}
		waiting := pending[:0]
		for _, k := range pending {
			kp := byKey[k]
			if kp != nil && kp.LastHandshake.After(since) {
				g.Handshakes[k] = kp.LastHandshake
				continue
			}
			waiting = append(waiting, k)
			s := states[k]
			if s == nil || kp == nil || len(s.f.Candidates) < 2 {
				continue
			}
			switch {
			case !s.based:
				s.baseTx, s.based = kp.TxBytes, true
			case s.started.IsZero() && kp.TxBytes > s.baseTx:
				s.started = prev
			}
			var over bool
			if s.started.IsZero() {
				over = now.Sub(s.switched) >= rekey*6/5
			} else {
				over = now.Sub(s.started) >= s.f.Timeout
			}
			if !over {
				continue
			}
			i := (s.cur + 1) % len(s.f.Candidates)
			why := fmt.Sprintf("no handshake through %s within %v", s.f.Candidates[s.cur], s.f.Timeout)
			if s.started.IsZero() {
				why = fmt.Sprintf("no handshake initiation could be sent to %s in %v", s.f.Candidates[s.cur], round(now.Sub(s.switched)))
			}
			n.Log.Warnf("tunnel %s: peer %s: %s; trying %s", t.Name, k, why, s.f.Candidates[i])
			if err := set(k, s, i, now); err != nil {
				return g, err
			}
			if s.peer.PersistentKeepalive == 0 {
				Kick(t.Name, s.peer.AllowedIPs)
			}
		}
		pending = waiting
		if len(pending) == 0 {
			return g, nil
		}
		prev = now
		select {
		case <-tick.C:
			continue
		case <-ctx.Done():
		}
		var errs []error
		for _, k := range pending {
			if s := states[k]; s != nil && s.cur != 0 {
				n.Log.Warnf("tunnel %s: peer %s: no handshake through any endpoint; leaving it at %s", t.Name, k, s.f.Candidates[0])
				if err := set(k, s, 0, time.Now()); err != nil {
					errs = append(errs, err)
				}
			}
		}
		errs = append(errs, fmt.Errorf("wait for handshake on %s: %d of %d peers pending, %s first: %w",
			t.Name, len(pending), g.Waited, pending[0], ctx.Err()))
		return g, errors.Join(errs...)
	}
}
