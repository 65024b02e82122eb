package main

import (
	"bytes"
	"errors"
	"net"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/dns/dnsmessage"

	"github.com/wgboot/wgboot/board"
	"github.com/wgboot/wgboot/internal/bootstate"
	"github.com/wgboot/wgboot/internal/dnsclient"
	"github.com/wgboot/wgboot/internal/kmsg"
	"github.com/wgboot/wgboot/internal/wgkey"
	"github.com/wgboot/wgboot/netsetup/bringup"
	"github.com/wgboot/wgboot/netsetup/dhcp"
	"github.com/wgboot/wgboot/netsetup/wg"
)

const resolveProfile = `[board]
name = "names"
[uplink]
interface = "eth0"
address = ["192.0.2.2/24", "fe80::2/64"]
gateway = ["192.0.2.1"]
dns = ["192.0.2.53", "fe80::53", "192.0.2.53"]
[[tunnel]]
name = "wg0"
private_key_file = "/k"
[[tunnel.peer]]
public_key = "ho3m6xXZ1V3QYg080KspEDJpRrjIn5MB+nIckvhpe0Y="
endpoint = "hub.example.net:51820"
fallback_endpoints = ["gone.example.net:51820", "203.0.113.7:51820"]
endpoint_timeout = "7s"
allowed_ips = ["10.9.0.0/24"]
[[tunnel.peer]]
public_key = "JFZ4L4CEYUxvdJWEliaoVYhwh6qUkXQZG5SPP0CutSg="
endpoint = "198.51.100.9:51820"
allowed_ips = ["10.9.1.0/24"]
[[tunnel]]
name = "wg1"
private_key_file = "/k"
listen_port = 51821
[[tunnel.peer]]
public_key = "kV4YGZF9eojxm9Rr2J32YXHAHeaAnAwX4HqCgrOLdUc="
endpoint = "gone.example.net:51821"
allowed_ips = ["10.9.2.0/24"]
[handoff]
wait_handshake = "30s"
`

func testResolveBoot(t *testing.T) (*boot, *bytes.Buffer) {
	t.Helper()
	p, ds := board.Parse("names.toml", []byte(resolveProfile))
	if ds.HasErrors() {
		t.Fatal(ds.Err())
	}
	var log bytes.Buffer
	b := newBoot(kmsg.New("wgboot", &log))
	b.profile = p
	return b, &log
}

// TestNameservers: the resolve phase asks the uplink phase's list (the
// profile's, then the lease's), on port 53, each once, a link-local one
// through the uplink the lease came on.
func TestNameservers(t *testing.T) {
	b, _ := testResolveBoot(t)
	if got := b.nameservers(); got != nil {
		t.Errorf("nameservers() before the uplink phase = %v", got)
	}
	up := &bringup.Uplink{Interface: "eth1", Lease: &dhcp.Lease{DNS: []netip.Addr{netip.MustParseAddr("198.51.100.53"), netip.MustParseAddr("192.0.2.53")}}}
	b.net = &network{uplink: up, dns: nameServers(b.profile.Uplink.DNS, up)}
	got := b.nameservers()
	want := []netip.AddrPort{netip.MustParseAddrPort("192.0.2.53:53"), netip.MustParseAddrPort("[fe80::53%eth1]:53"),
		netip.MustParseAddrPort("198.51.100.53:53")}
	if !slices.Equal(got, want) {
		t.Errorf("nameservers() = %v, want %v (port 53, the uplink as the link-local zone, no repeats)", got, want)
	}
}

// TestResolveNothingToPlan: a profile without names or fallbacks leaves
// no plan and no names, not even an earlier profile's (the one the boot
// fell back from).
func TestResolveNothingToPlan(t *testing.T) {
	b, _ := testResolveBoot(t)
	b.endpoints = map[peerRef]bringup.Fallback{{tunnel: "wg0"}: {}}
	b.state.Names = []bootstate.Name{{Host: "hub.example.net"}}
	b.profile = &board.Profile{Tunnels: []board.Tunnel{{Name: "wg0", Peers: []board.Peer{{Endpoint: netip.MustParseAddrPort("192.0.2.1:51820")}}}}}
	commit, err := b.resolveEndpoints(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if commit != nil {
		commit()
	}
	if b.endpoints != nil || b.state.Names != nil {
		t.Errorf("after the resolve phase: endpoints %v, names %v; want none", b.endpoints, b.state.Names)
	}
}

func TestEndpointHosts(t *testing.T) {
	b, _ := testResolveBoot(t)
	hosts, planned := endpointHosts(b.profile)
	if !planned || !slices.Equal(hosts, []string{"hub.example.net", "gone.example.net"}) {
		t.Errorf("endpointHosts() = %v, %v", hosts, planned)
	}
	b.profile.Tunnels = b.profile.Tunnels[:1]
	b.profile.Tunnels[0].Peers = b.profile.Tunnels[0].Peers[1:]
	if hosts, planned := endpointHosts(b.profile); planned || len(hosts) != 0 {
		t.Errorf("endpointHosts() of a profile with one address endpoint = %v, %v", hosts, planned)
	}
}

// TestPlanEndpoints: a peer gets its endpoints' addresses in order, the
// uplink's families first; a name that did not resolve is skipped; a peer
// left without an address fails the phase, naming the host; a peer with a
// single address endpoint is left alone.
func TestPlanEndpoints(t *testing.T) {
	b, log := testResolveBoot(t)
	gone := &dnsclient.Error{Host: "gone.example.net", Err: dnsclient.ErrNotFound, Server: netip.MustParseAddrPort("192.0.2.53:53")}
	answers := map[string]lookup{
		"hub.example.net":  {addrs: []netip.Addr{netip.MustParseAddr("2001:db8::1"), netip.MustParseAddr("192.0.2.1")}},
		"gone.example.net": {err: gone},
	}
	v4only := func(a netip.Addr) bool { return a.Is4() }
	plan, err := b.planEndpoints(answers, v4only)
	if !errors.Is(err, dnsclient.ErrNotFound) || !strings.Contains(err.Error(), "tunnel wg1: peer kV4YGZF9eojxm9Rr2J32YXHAHeaAnAwX4HqCgrOLdUc=: no address for any endpoint: gone.example.net: no such host (NXDOMAIN) from 192.0.2.53:53") {
		t.Errorf("planEndpoints() error = %v", err)
	}
	if len(plan) != 1 {
		t.Fatalf("plan = %v, want the first peer of wg0 only", plan)
	}
	first := b.profile.Tunnels[0].Peers[0].PublicKey
	f := plan[peerRef{"wg0", first}]
	var got []string
	for _, c := range f.Candidates {
		got = append(got, c.String())
	}
	want := []string{"hub.example.net:51820 (192.0.2.1:51820)", "203.0.113.7:51820", "hub.example.net:51820 ([2001:db8::1]:51820)"}
	if !slices.Equal(got, want) || f.Timeout != 7*time.Second {
		t.Errorf("candidates %v timeout %v, want %v 7s", got, f.Timeout, want)
	}
	if !strings.Contains(log.String(), "tunnel wg0: peer "+first.String()+": endpoint hub.example.net:51820 (192.0.2.1:51820), then 203.0.113.7:51820, hub.example.net:51820 ([2001:db8::1]:51820)") {
		t.Errorf("log lacks the peer's endpoints:\n%s", log)
	}
}

// TestLookupAll asks a DNS server on the loopback for the profile's names,
// as the resolve phase does: answers and failures logged, addresses no
// peer can use dropped, the state file's names filled.
func TestLookupAll(t *testing.T) {
	b, log := testResolveBoot(t)
	srv := dnsServer(t, map[string][]string{
		"hub.example.net.":   {"192.0.2.1", "2001:db8::1"},
		"zero.example.net.":  {"0.0.0.0"},
		"alias.example.net.": {"CNAME hub.example.net."},
	})
	c := &dnsclient.Client{Servers: []netip.AddrPort{srv}, Timeout: time.Second}
	got := b.lookupAll(t.Context(), c, []string{"hub.example.net", "gone.example.net", "zero.example.net", "alias.example.net"})
	if a := got["hub.example.net"]; a.err != nil || !slices.Equal(a.addrs, []netip.Addr{netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("2001:db8::1")}) {
		t.Errorf("hub.example.net: %+v", a)
	}
	if a := got["gone.example.net"]; !errors.Is(a.err, dnsclient.ErrNotFound) {
		t.Errorf("gone.example.net: %+v, want NXDOMAIN", a)
	}
	if a := got["zero.example.net"]; !errors.Is(a.err, dnsclient.ErrNoAddress) || len(a.addrs) != 0 {
		t.Errorf("zero.example.net: %+v, want no usable address", a)
	}
	st := got["alias.example.net"].state("alias.example.net")
	if st.Server != srv.String() || !slices.Equal(st.CNAMEs, []string{"hub.example.net."}) || len(st.Addrs) != 2 || st.TTL != 60 || st.Err != "" {
		t.Errorf("state of alias.example.net = %+v", st)
	}
	if st := got["gone.example.net"].state("gone.example.net"); st.Err != "no such host (NXDOMAIN) from "+srv.String() || st.Server != "" {
		t.Errorf("state of gone.example.net = %+v", st)
	}
	for _, want := range []string{
		"resolve: hub.example.net: 192.0.2.1 2001:db8::1 from " + srv.String(),
		"resolve: gone.example.net: no such host (NXDOMAIN) from " + srv.String(),
		"resolve: zero.example.net: 0.0.0.0 cannot be a peer's address; ignored",
		"resolve: alias.example.net: 192.0.2.1 2001:db8::1 via CNAME hub.example.net. from",
	} {
		if !strings.Contains(log.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, log)
		}
	}
}

// dnsServer answers A and AAAA queries on the loopback from names: each
// name's addresses, or a "CNAME target" entry followed in the zone;
// NXDOMAIN for other names.
func dnsServer(t *testing.T, names map[string][]string) netip.AddrPort {
	t.Helper()
	return dnsServerOn(t, 0, names)
}

// dnsServerOn is dnsServer on a given port of 127.0.0.1 (0: any).
func dnsServerOn(t *testing.T, port int, names map[string][]string) netip.AddrPort {
	t.Helper()
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: port})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	go func() {
		buf := make([]byte, 512)
		for {
			n, from, err := c.ReadFromUDPAddrPort(buf)
			if err != nil {
				return
			}
			var m dnsmessage.Message
			if m.Unpack(buf[:n]) != nil || len(m.Questions) != 1 {
				continue
			}
			q := m.Questions[0]
			m.Header.Response = true
			name := q.Name.String()
			list, ok := names[name]
			if !ok {
				m.Header.RCode = dnsmessage.RCodeNameError
			}
			for _, e := range list {
				h := dnsmessage.ResourceHeader{Name: dnsmessage.MustNewName(name), Class: dnsmessage.ClassINET, TTL: 60}
				if target, ok := strings.CutPrefix(e, "CNAME "); ok {
					h.Type = dnsmessage.TypeCNAME
					m.Answers = append(m.Answers, dnsmessage.Resource{Header: h, Body: &dnsmessage.CNAMEResource{CNAME: dnsmessage.MustNewName(target)}})
					name, list = target, names[target]
					for _, e := range list {
						a := netip.MustParseAddr(e)
						h := dnsmessage.ResourceHeader{Name: dnsmessage.MustNewName(name), Class: dnsmessage.ClassINET, TTL: 60}
						if a.Is4() && q.Type == dnsmessage.TypeA {
							m.Answers = append(m.Answers, dnsmessage.Resource{Header: h, Body: &dnsmessage.AResource{A: a.As4()}})
						} else if a.Is6() && q.Type == dnsmessage.TypeAAAA {
							m.Answers = append(m.Answers, dnsmessage.Resource{Header: h, Body: &dnsmessage.AAAAResource{AAAA: a.As16()}})
						}
					}
					break
				}
				a := netip.MustParseAddr(e)
				if a.Is4() && q.Type == dnsmessage.TypeA {
					m.Answers = append(m.Answers, dnsmessage.Resource{Header: h, Body: &dnsmessage.AResource{A: a.As4()}})
				} else if a.Is6() && q.Type == dnsmessage.TypeAAAA {
					m.Answers = append(m.Answers, dnsmessage.Resource{Header: h, Body: &dnsmessage.AAAAResource{AAAA: a.As16()}})
				}
			}
			if out, err := m.Pack(); err == nil {
				c.WriteToUDPAddrPort(out, from)
			}
		}
	}()
	return c.LocalAddr().(*net.UDPAddr).AddrPort()
}

// TestSetEndpoints: the state file says which profile endpoint each peer's
// address came from — the kernel's endpoint when the device was read after
// the gate, since a handshake can move it — and what the gate tried.
func TestSetEndpoints(t *testing.T) {
	key := func(b byte) wgkey.Key { return wgkey.PrivateKeyFromBytes([32]byte{8 * b}).PublicKey() }
	a := bringup.Candidate{Addr: netip.MustParseAddrPort("192.0.2.1:51820"), From: "hub.example.net:51820"}
	c := bringup.Candidate{Addr: netip.MustParseAddrPort("203.0.113.7:51820"), From: "203.0.113.7:51820"}
	var s state
	s.Tunnels = []bootstate.Tunnel{{Name: "wg0", Peers: []bootstate.Peer{
		{PublicKey: key(1).String(), Endpoint: a.Addr.String()},
		{PublicKey: key(2).String(), Endpoint: a.Addr.String()},
		{PublicKey: key(3).String(), Endpoint: "198.51.100.9:51820"},
	}}}
	s.setEndpoints("wg0", map[wgkey.Key]bringup.PeerEndpoint{
		key(1): {Current: a, Tried: []bringup.Candidate{a}},
		key(2): {Current: c, Tried: []bringup.Candidate{a, c}},
	}, &wg.Device{Peers: []wg.Peer{{PublicKey: key(2), Endpoint: c.Addr}}})
	p := s.Tunnels[0].Peers
	if p[0].EndpointFrom != "hub.example.net:51820" || p[0].EndpointsTried != nil || p[0].Endpoint != "192.0.2.1:51820" {
		t.Errorf("peer 1: %+v", p[0])
	}
	if p[1].EndpointFrom != "203.0.113.7:51820" || !slices.Equal(p[1].EndpointsTried, []string{"192.0.2.1:51820", "203.0.113.7:51820"}) || p[1].Endpoint != "203.0.113.7:51820" {
		t.Errorf("peer 2: %+v", p[1])
	}
	if p[2].EndpointFrom != "" {
		t.Errorf("peer 3, not planned: %+v", p[2])
	}
	// The handshake came from the first candidate after the switch.
	s.setEndpoints("wg0", map[wgkey.Key]bringup.PeerEndpoint{key(2): {Current: c, Tried: []bringup.Candidate{a, c}}},
		&wg.Device{Peers: []wg.Peer{{PublicKey: key(2), Endpoint: a.Addr}}})
	if p[1].EndpointFrom != "hub.example.net:51820" || p[1].Endpoint != "192.0.2.1:51820" {
		t.Errorf("peer 2 after roaming back: %+v", p[1])
	}
}

// TestPhaseIdle: ntp without [clock] ntp, and resolve without names or
// fallbacks, are not started; resolve's commit still clears an earlier
// profile's plan. With work to do, both run.
func TestPhaseIdle(t *testing.T) {
	b, _ := testResolveBoot(t)
	if _, ok := b.phaseIdle("resolve"); ok {
		t.Errorf("resolve idle with names and fallbacks in the profile")
	}
	if _, ok := b.phaseIdle("uplink"); ok {
		t.Errorf("uplink idle with [uplink] interface")
	}
	if _, ok := b.phaseIdle("ntp"); !ok {
		t.Errorf("ntp not idle without [clock] ntp")
	}
	b.profile.Clock.NTP = []board.Endpoint{{Host: "pool.ntp.org"}}
	if _, ok := b.phaseIdle("ntp"); ok {
		t.Errorf("ntp idle with [clock] ntp")
	}
	b.endpoints = map[peerRef]bringup.Fallback{{tunnel: "wg0"}: {}}
	b.state.Names = []bootstate.Name{{Host: "hub.example.net"}}
	b.profile = &board.Profile{Tunnels: []board.Tunnel{{Name: "wg0", Peers: []board.Peer{{Endpoint: netip.MustParseAddrPort("192.0.2.1:51820")}}}}}
	commit, ok := b.phaseIdle("resolve")
	if !ok || commit == nil {
		t.Fatalf("resolve: idle %v, commit %v; want idle with a commit", ok, commit != nil)
	}
	commit()
	if b.endpoints != nil || b.state.Names != nil {
		t.Errorf("after the idle resolve phase: endpoints %v, names %v; want none", b.endpoints, b.state.Names)
	}
}

// TestNoUplink: a profile without an uplink has an idle uplink phase
// (but under wgboot.test=hang): its commit leaves the profile's name
// servers and no rtnetlink handle, which the tunnels phase opens.
func TestNoUplink(t *testing.T) {
	b, log := testResolveBoot(t)
	b.profile.Uplink.Interface = ""
	b.over.Test = []string{"hang"}
	if _, ok := b.phaseIdle("uplink"); ok {
		t.Errorf("uplink idle under wgboot.test=hang")
	}
	b.over.Test = nil
	commit, ok := b.phaseIdle("uplink")
	if !ok || commit == nil {
		t.Fatalf("uplink without one: idle %v, commit %v; want idle with a commit", ok, commit != nil)
	}
	commit()
	if b.net == nil || b.net.RT != nil || len(b.net.dns) != 2 || b.state.Uplink != nil || len(b.state.DNSServers) != 2 {
		t.Fatalf("after the idle uplink phase: net %+v, state uplink %v, dns %v", b.net, b.state.Uplink, b.state.DNSServers)
	}
	for _, want := range []string{"uplink: none in the profile", "name servers: 192.0.2.53, fe80::53"} {
		if !strings.Contains(log.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, log)
		}
	}
}
