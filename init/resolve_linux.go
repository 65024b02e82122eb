package main

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/wgboot/wgboot/board"
	"github.com/wgboot/wgboot/internal/bootstate"
	"github.com/wgboot/wgboot/internal/dnsclient"
	"github.com/wgboot/wgboot/internal/wgkey"
	"github.com/wgboot/wgboot/netsetup"
	"github.com/wgboot/wgboot/netsetup/bringup"
)

// peerRef names a peer: its tunnel and public key.
type peerRef struct {
	tunnel string
	key    wgkey.Key
}

// maxLookups bounds the lookups in flight at once.
const maxLookups = 4

// resolveEndpoints is the resolve phase. It looks up the host names among
// the peers' endpoints (endpoint and fallback_endpoints) through the DNS
// servers the boot knows (nameservers), and makes each such peer's
// endpoints into the candidate addresses that the tunnels phase configures
// (the first) and the handshake gate falls back on (the rest). Every name,
// its answer and the address each peer gets are logged, and go into the
// state file. A peer whose endpoints give no address at all fails the
// phase, naming the hosts; a name that fails among others that work is a
// warning. Profiles without names or fallbacks make it a no-op.
func (b *boot) resolveEndpoints(ctx context.Context) (func(), error) {
	hosts, planned := endpointHosts(b.profile)
	if !planned {
		// Nothing to plan, and nothing of an earlier profile's (one
		// the boot fell back from) may stay.
		return func() { b.endpoints, b.state.Names = nil, nil }, nil
	}
	servers := b.nameservers()
	if len(hosts) > 0 && len(servers) == 0 {
		b.log.Warnf("resolve: no DNS server to ask for %s: none from nameserver=, [uplink] dns or a DHCP lease", strings.Join(hosts, ", "))
	}
	answers := b.lookupAll(ctx, &dnsclient.Client{Servers: servers, Logf: b.log.Debugf}, hosts)
	routable := func(netip.Addr) bool { return true }
	if r, err := b.routable(ctx); err == nil {
		routable = r
	} else {
		b.log.Warnf("resolve: read the routing table: %v; every address counts as routable", err)
	}
	plan, err := b.planEndpoints(answers, routable)
	names := make([]bootstate.Name, 0, len(hosts))
	for _, h := range hosts {
		names = append(names, answers[h].state(h))
	}
	commit := func() {
		b.endpoints = plan
		b.state.Names = names
		for i := range b.profile.Tunnels {
			t := &b.profile.Tunnels[i]
			for j := range t.Peers {
				if f, ok := plan[peerRef{t.Name, t.Peers[j].PublicKey}]; ok {
					t.Peers[j].Endpoint = f.Candidates[0].Addr
				}
			}
		}
	}
	return commit, err
}

// routable reads the main routing table through the boot's rtnetlink
// handle or, without an uplink, when no phase has opened one yet (see
// noUplink), through one of its own, for this only.
func (b *boot) routable(ctx context.Context) (func(netip.Addr) bool, error) {
	n := b.net.Net
	if n.RT == nil {
		rt, err := netsetup.Open()
		if err != nil {
			return nil, fmt.Errorf("open rtnetlink: %w", err)
		}
		defer rt.Close()
		n.RT = rt
		n.Bind(ctx)
	}
	return n.Routable()
}

// endpointHosts lists the host names among p's endpoints, once each, in
// profile order, and reports whether any peer needs the resolve phase.
func endpointHosts(p *board.Profile) (hosts []string, planned bool) {
	for i := range p.Tunnels {
		for j := range p.Tunnels[i].Peers {
			peer := &p.Tunnels[i].Peers[j]
			if !needsPlan(peer) {
				continue
			}
			planned = true
			for _, e := range peer.Endpoints {
				if e.Host != "" && !slices.Contains(hosts, e.Host) {
					hosts = append(hosts, e.Host)
				}
			}
		}
	}
	return hosts, planned
}

// planEndpoints makes the candidate endpoints of each peer that needs
// them, logging the first and the ones to fall back on. A peer left
// without any fails the phase, with what each of its names came to.
func (b *boot) planEndpoints(answers map[string]lookup, routable func(netip.Addr) bool) (map[peerRef]bringup.Fallback, error) {
	addrs := func(host string) []netip.Addr { return answers[host].addrs }
	plan := make(map[peerRef]bringup.Fallback)
	var errs []error
	for i := range b.profile.Tunnels {
		t := &b.profile.Tunnels[i]
		for j := range t.Peers {
			p := &t.Peers[j]
			if !needsPlan(p) {
				continue
			}
			cands := bringup.Candidates(p.EndpointList(), addrs, routable)
			if len(cands) == 0 {
				var why errList
				for _, e := range p.EndpointList() {
					if err := answers[e.Host].err; err != nil {
						why = append(why, err)
					}
				}
				errs = append(errs, fmt.Errorf("tunnel %s: peer %s: no address for any endpoint: %w", t.Name, p.PublicKey, why))
				continue
			}
			timeout := p.EndpointTimeout
			if timeout == 0 {
				timeout = board.DefaultEndpointTimeout
			}
			plan[peerRef{t.Name, p.PublicKey}] = bringup.Fallback{Candidates: cands, Timeout: timeout}
			more := ""
			if len(cands) > 1 {
				more = fmt.Sprintf(", then %s", joinCandidates(cands[1:]))
			}
			b.log.Infof("tunnel %s: peer %s: endpoint %s%s", t.Name, p.PublicKey, cands[0], more)
		}
	}
	return plan, errors.Join(errs...)
}

// needsPlan reports whether a peer's endpoint needs the resolve phase: a
// host name, or fallbacks.
func needsPlan(p *board.Peer) bool {
	return len(p.Endpoints) > 1 || p.HasHost()
}

// errList is errors on one line, each one errors.Is can find.
type errList []error

func (l errList) Error() string {
	s := make([]string, len(l))
	for i, err := range l {
		s[i] = err.Error()
	}
	return strings.Join(s, "; ")
}

func (l errList) Unwrap() []error { return l }

func joinCandidates(cs []bringup.Candidate) string {
	s := make([]string, len(cs))
	for i, c := range cs {
		s[i] = c.String()
	}
	return strings.Join(s, ", ")
}

// lookup is the outcome of one name's lookup.
type lookup struct {
	answer *dnsclient.Answer
	addrs  []netip.Addr // the answer's usable addresses
	err    error
	took   time.Duration
}

func (l lookup) state(host string) bootstate.Name {
	n := bootstate.Name{Host: host}
	if l.err != nil {
		n.Err = strings.TrimPrefix(l.err.Error(), host+": ")
		return n
	}
	n.Server = l.answer.Server.String()
	n.CNAMEs = l.answer.CNAMEs
	for _, a := range l.addrs {
		n.Addrs = append(n.Addrs, a.String())
	}
	n.TTL = int(l.answer.TTL / time.Second)
	return n
}

// lookupAll looks up hosts with c, at most maxLookups at once, and logs
// each answer.
func (b *boot) lookupAll(ctx context.Context, c *dnsclient.Client, hosts []string) map[string]lookup {
	out := make(map[string]lookup, len(hosts))
	type result struct {
		host string
		l    lookup
	}
	done := make(chan result, len(hosts))
	sem := make(chan struct{}, maxLookups)
	for _, h := range hosts {
		go func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			start := time.Now()
			a, err := c.Lookup(ctx, h)
			done <- result{h, lookup{answer: a, err: err, took: time.Since(start)}}
		}()
	}
	for range hosts {
		r := <-done
		l := r.l
		if l.err != nil {
			b.log.Warnf("resolve: %v", l.err)
			out[r.host] = l
			continue
		}
		for _, a := range l.answer.Addrs {
			if usable(a) {
				l.addrs = append(l.addrs, a)
			} else {
				b.log.Warnf("resolve: %s: %s cannot be a peer's address; ignored", r.host, a)
			}
		}
		if len(l.addrs) == 0 {
			l.err = fmt.Errorf("%s: %w", r.host, dnsclient.ErrNoAddress)
		}
		via := ""
		if len(l.answer.CNAMEs) > 0 {
			via = " via CNAME " + strings.Join(l.answer.CNAMEs, " → ")
		}
		proto := ""
		if l.answer.TCP {
			proto = " over TCP"
		}
		b.log.Infof("resolve: %s: %s%s from %s%s in %v (TTL %v)", r.host, addrString(l.answer.Addrs), via, l.answer.Server, proto, round(l.took), l.answer.TTL)
		out[r.host] = l
	}
	return out
}

func addrString(as []netip.Addr) string {
	s := make([]string, len(as))
	for i, a := range as {
		s[i] = a.String()
	}
	return strings.Join(s, " ")
}

// usable reports whether a DNS answer's address can be a peer's endpoint:
// not unspecified, multicast or the IPv4 broadcast address (a filtering
// resolver's 0.0.0.0 among them).
func usable(a netip.Addr) bool {
	return a.IsValid() && !a.IsUnspecified() && !a.IsMulticast() && a != netip.AddrFrom4([4]byte{255, 255, 255, 255})
}
