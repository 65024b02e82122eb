package dnsclient

import (
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/net/dns/dnsmessage"
)

// server is a DNS server on the loopback, over UDP and TCP on one port,
// that answers each query with what answer returns for it: the messages
// to send, in order (none: stay silent). The tests' stand-in for a
// recursive resolver; the integration test uses a real one.
type server struct {
	t      *testing.T
	udp    *net.UDPConn
	tcp    *net.TCPListener
	answer func(q query, tcp bool) [][]byte
	// forge, if not nil, is sent to the client from another port before
	// the real answer.
	forge func(q query) []byte

	mu      sync.Mutex
	queries []dnsmessage.Type // every query received, in order
	overTCP int
}

func newServer(t *testing.T, answer func(q query, tcp bool) [][]byte) *server {
	t.Helper()
	udp, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	tcp, err := net.ListenTCP("tcp", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: udp.LocalAddr().(*net.UDPAddr).Port})
	if err != nil {
		t.Fatal(err)
	}
	s := &server{t: t, udp: udp, tcp: tcp, answer: answer}
	t.Cleanup(func() { udp.Close(); tcp.Close() })
	go s.serveUDP()
	go s.serveTCP()
	return s
}

func (s *server) addr() netip.AddrPort { return s.udp.LocalAddr().(*net.UDPAddr).AddrPort() }

// parseQuery reads a query the way a server does.
func parseQuery(b []byte) (query, bool) {
	var p dnsmessage.Parser
	h, err := p.Start(b)
	if err != nil {
		return query{}, false
	}
	q, err := p.Question()
	if err != nil {
		return query{}, false
	}
	return query{id: h.ID, q: q, msg: b}, true
}

func (s *server) record(q query, tcp bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.queries = append(s.queries, q.q.Type)
	if tcp {
		s.overTCP++
	}
}

func (s *server) asked() []dnsmessage.Type {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.queries)
}

func (s *server) serveUDP() {
	buf := make([]byte, 512)
	for {
		n, from, err := s.udp.ReadFromUDPAddrPort(buf)
		if err != nil {
			return
		}
		q, ok := parseQuery(slices.Clone(buf[:n]))
		if !ok {
			continue
		}
		s.record(q, false)
		if s.forge != nil {
			if c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)}); err == nil {
				c.WriteToUDPAddrPort(s.forge(q), from)
				c.Close()
			}
		}
		for _, m := range s.answer(q, false) {
			s.udp.WriteToUDPAddrPort(m, from)
		}
	}
}

func (s *server) serveTCP() {
	for {
		c, err := s.tcp.Accept()
		if err != nil {
			return
		}
		go func() {
			defer c.Close()
			var n [2]byte
			if _, err := io.ReadFull(c, n[:]); err != nil {
				return
			}
			b := make([]byte, binary.BigEndian.Uint16(n[:]))
			if _, err := io.ReadFull(c, b); err != nil {
				return
			}
			q, ok := parseQuery(b)
			if !ok {
				return
			}
			s.record(q, true)
			for _, m := range s.answer(q, true) {
				c.Write(binary.BigEndian.AppendUint16(nil, uint16(len(m))))
				c.Write(m)
			}
		}()
	}
}

// zone answers from a table of A and AAAA addresses per name, NODATA for
// a name it has with no address of the type, NXDOMAIN for others.
func zone(t *testing.T, names map[string][]string) func(q query, tcp bool) [][]byte {
	return func(q query, tcp bool) [][]byte {
		list, ok := names[strings.ToLower(q.q.Name.String())]
		if !ok {
			return [][]byte{answerTo(q, dnsmessage.RCodeNameError).build(t)}
		}
		m := answerTo(q, 0)
		for _, a := range list {
			if netip.MustParseAddr(a).Is4() == (q.q.Type == dnsmessage.TypeA) {
				m.answers = append(m.answers, addr(q.q.Name.String(), a))
			}
		}
		return [][]byte{m.build(t)}
	}
}

func rcode(t *testing.T, rc dnsmessage.RCode) func(q query, tcp bool) [][]byte {
	return func(q query, tcp bool) [][]byte { return [][]byte{answerTo(q, rc).build(t)} }
}

func silent(query, bool) [][]byte { return nil }

var hub = map[string][]string{"hub.example.net.": {"2001:db8::1", "192.0.2.1"}}

func lookup(t *testing.T, c *Client, host string) (*Answer, error, time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	start := time.Now()
	a, err := c.Lookup(ctx, host)
	return a, err, time.Since(start)
}

func TestLookup(t *testing.T) {
	s := newServer(t, zone(t, hub))
	a, err, _ := lookup(t, &Client{Servers: []netip.AddrPort{s.addr()}}, "HUB.example.net")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(a.Addrs, addrs("192.0.2.1", "2001:db8::1")) || a.Server != s.addr() || a.TCP || a.TTL != time.Minute {
		t.Errorf("Lookup() = %+v, want 192.0.2.1 then 2001:db8::1 from %v over UDP, TTL 1m", a, s.addr())
	}
	if got := s.asked(); len(got) != 2 {
		t.Errorf("server was asked %v, want A and AAAA once each", got)
	}
}

func TestLookupTruncatedRetriesOverTCP(t *testing.T) {
	s := newServer(t, func(q query, tcp bool) [][]byte {
		if !tcp {
			m := answerTo(q, 0)
			m.h.Truncated = true
			return [][]byte{m.build(t)}
		}
		return zone(t, hub)(q, tcp)
	})
	a, err, _ := lookup(t, &Client{Servers: []netip.AddrPort{s.addr()}}, "hub.example.net")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(a.Addrs, addrs("192.0.2.1", "2001:db8::1")) || !a.TCP {
		t.Errorf("Lookup() = %+v, want both addresses over TCP", a)
	}
	if s.overTCP != 2 {
		t.Errorf("%d queries over TCP, want 2", s.overTCP)
	}
}

// TestLookupIgnoresForgeries sends, before each real answer, one with the
// wrong ID and one with the wrong question from the server's port, and
// one with everything right from another port: none is taken.
func TestLookupIgnoresForgeries(t *testing.T) {
	real := zone(t, hub)
	s := newServer(t, func(q query, tcp bool) [][]byte {
		wrongID := with(answerTo(q, 0), addr(q.q.Name.String(), "198.51.100.66"), addr(q.q.Name.String(), "2001:db8::66"))
		wrongID.h.ID++
		wrongQ := q
		wrongQ.q.Name = dnsmessage.MustNewName("evil.example.")
		return append([][]byte{
			wrongID.build(t),
			with(answerTo(wrongQ, 0), addr("evil.example.", "198.51.100.67")).build(t),
			{0xde, 0xad},
		}, real(q, tcp)...)
	})
	s.forge = func(q query) []byte {
		return with(answerTo(q, 0), addr(q.q.Name.String(), "198.51.100.68"), addr(q.q.Name.String(), "2001:db8::68")).build(t)
	}
	a, err, _ := lookup(t, &Client{Servers: []netip.AddrPort{s.addr()}}, "hub.example.net")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(a.Addrs, addrs("192.0.2.1", "2001:db8::1")) {
		t.Errorf("Lookup() = %v, want only the real answer", a.Addrs)
	}
}

func TestLookupServerFailures(t *testing.T) {
	good := newServer(t, zone(t, hub))
	// A port nobody listens on: the kernel answers ICMP port
	// unreachable, which the connected socket reports at once.
	down := newServer(t, silent)
	downAddr := down.addr()
	down.udp.Close()
	down.tcp.Close()
	tests := []struct {
		name  string
		first *server
		addr  netip.AddrPort
		err   error
	}{
		{name: "SERVFAIL", first: newServer(t, rcode(t, dnsmessage.RCodeServerFailure)), err: ErrServerFailure},
		{name: "REFUSED", first: newServer(t, rcode(t, dnsmessage.RCodeRefused)), err: ErrRefused},
		{name: "NOTIMP", first: newServer(t, rcode(t, dnsmessage.RCodeNotImplemented))},
		{name: "port closed", addr: downAddr},
		{name: "malformed", first: newServer(t, func(q query, tcp bool) [][]byte {
			m := with(answerTo(q, 0), addr(q.q.Name.String(), "192.0.2.66"))
			b := m.build(t)
			return [][]byte{b[:len(b)-1]}
		}), err: ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			first := tt.addr
			if tt.first != nil {
				first = tt.first.addr()
			}
			var logged []string
			c := &Client{Servers: []netip.AddrPort{first, good.addr()}, Timeout: 300 * time.Millisecond,
				Logf: func(f string, args ...any) { logged = append(logged, f) }}
			a, err, took := lookup(t, c, "hub.example.net")
			if err != nil {
				t.Fatal(err)
			}
			if a.Server != good.addr() || len(a.Addrs) != 2 {
				t.Errorf("Lookup() = %+v, want the second server's answer", a)
			}
			if len(logged) != 1 {
				t.Errorf("logged %q, want one line for the first server", logged)
			}
			if tt.name != "malformed" && took > 250*time.Millisecond {
				t.Errorf("Lookup() took %v: the first server's failure was not taken at once", took)
			}
			// Alone, the first server's failure is the lookup's.
			c.Servers = c.Servers[:1]
			c.Rounds = 1
			_, err, _ = lookup(t, c, "hub.example.net")
			var e *Error
			if !errors.As(err, &e) || len(e.Servers) != 1 || e.Servers[0].Server != first || (tt.err != nil && !errors.Is(err, tt.err)) {
				t.Errorf("Lookup() with only the failing server = %v, want %v from it", err, tt.err)
			}
		})
	}
}

func TestLookupNXDOMAINEndsTheLookup(t *testing.T) {
	first := newServer(t, zone(t, nil))
	second := newServer(t, zone(t, hub))
	_, err, _ := lookup(t, &Client{Servers: []netip.AddrPort{first.addr(), second.addr()}}, "hub.example.net")
	if !errors.Is(err, ErrNotFound) {
		t.Fatalf("Lookup() = %v, want ErrNotFound", err)
	}
	if got := err.Error(); got != "hub.example.net: no such host (NXDOMAIN) from "+first.addr().String() {
		t.Errorf("error = %q", got)
	}
	if n := len(second.asked()); n != 0 {
		t.Errorf("the second server was asked %d times after NXDOMAIN", n)
	}
}

func TestLookupNoAddress(t *testing.T) {
	s := newServer(t, zone(t, map[string][]string{"hub.example.net.": nil}))
	_, err, _ := lookup(t, &Client{Servers: []netip.AddrPort{s.addr()}}, "hub.example.net")
	if !errors.Is(err, ErrNoAddress) {
		t.Fatalf("Lookup() = %v, want ErrNoAddress", err)
	}
}

// TestLookupOneFamilyFails is a server that answers A and fails AAAA: the
// lookup gives the IPv4 address instead of waiting on.
func TestLookupOneFamilyFails(t *testing.T) {
	s := newServer(t, func(q query, tcp bool) [][]byte {
		if q.q.Type == dnsmessage.TypeAAAA {
			return rcode(t, dnsmessage.RCodeServerFailure)(q, tcp)
		}
		return zone(t, hub)(q, tcp)
	})
	a, err, _ := lookup(t, &Client{Servers: []netip.AddrPort{s.addr()}}, "hub.example.net")
	if err != nil || !slices.Equal(a.Addrs, addrs("192.0.2.1")) {
		t.Fatalf("Lookup() = %v, %v, want 192.0.2.1", a, err)
	}
}

func TestLookupSilentServersAreBounded(t *testing.T) {
	a, b := newServer(t, silent), newServer(t, silent)
	c := &Client{Servers: []netip.AddrPort{a.addr(), b.addr()}, Timeout: 50 * time.Millisecond, Rounds: 2}
	_, err, took := lookup(t, c, "hub.example.net")
	if !errors.Is(err, ErrNoAnswer) {
		t.Fatalf("Lookup() = %v, want ErrNoAnswer", err)
	}
	// Round 1: 50ms per server; backoff 250ms; round 2: 100ms each.
	if want := 550 * time.Millisecond; took < want || took > want+400*time.Millisecond {
		t.Errorf("Lookup() took %v, want about %v", took, want)
	}
	if n := len(a.asked()); n != 4 {
		t.Errorf("first server asked %d times, want 4 (A and AAAA, two rounds)", n)
	}
}

func TestLookupContextBoundsIt(t *testing.T) {
	s := newServer(t, silent)
	ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := (&Client{Servers: []netip.AddrPort{s.addr()}}).Lookup(ctx, "hub.example.net")
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Lookup() = %v, want the context's deadline", err)
	}
	if took := time.Since(start); took > 400*time.Millisecond {
		t.Errorf("Lookup() took %v past a 200ms deadline", took)
	}
}

func TestLookupBadInput(t *testing.T) {
	if _, err := (&Client{}).Lookup(t.Context(), "hub.example.net"); !errors.Is(err, ErrNoServers) {
		t.Errorf("Lookup() without servers = %v, want ErrNoServers", err)
	}
	c := &Client{Servers: []netip.AddrPort{netip.MustParseAddrPort("127.0.0.1:53")}}
	if _, err := c.Lookup(t.Context(), "hub..example"); !errors.Is(err, ErrBadHost) {
		t.Errorf("Lookup(hub..example) = %v, want ErrBadHost", err)
	}
}

func TestLookupCNAME(t *testing.T) {
	s := newServer(t, func(q query, tcp bool) [][]byte {
		m := with(answerTo(q, 0), cname("hub.example.net.", "edge.example."))
		if q.q.Type == dnsmessage.TypeA {
			m.answers = append(m.answers, addr("edge.example.", "192.0.2.7"))
		}
		return [][]byte{m.build(t)}
	})
	a, err, _ := lookup(t, &Client{Servers: []netip.AddrPort{s.addr()}}, "hub.example.net")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(a.CNAMEs, []string{"edge.example."}) || !slices.Equal(a.Addrs, addrs("192.0.2.7")) {
		t.Errorf("Lookup() = %+v", a)
	}
}

func TestErrorMessages(t *testing.T) {
	s1, s2 := netip.MustParseAddrPort("192.0.2.53:53"), netip.MustParseAddrPort("[2001:db8::53]:53")
	refused := errors.New("receive: connection refused")
	silent := errors.New("no answer within 4s")
	for _, tt := range []struct {
		e    *Error
		want string
	}{
		{&Error{Host: "h.example", Err: ErrNotFound, Server: s1}, "h.example: no such host (NXDOMAIN) from 192.0.2.53:53"},
		{&Error{Host: "h.example", Err: refused, Servers: []ServerError{{s1, refused}}}, "h.example: 192.0.2.53:53: receive: connection refused"},
		{&Error{Host: "h.example", Err: silent, Servers: []ServerError{{s1, refused}, {s2, silent}}},
			"h.example: no answer within 4s (192.0.2.53:53: receive: connection refused; [2001:db8::53]:53: no answer within 4s)"},
		{&Error{Host: "h.example", Err: ErrNoServers}, "h.example: no DNS server"},
	} {
		if got := tt.e.Error(); got != tt.want {
			t.Errorf("Error() = %q, want %q", got, tt.want)
		}
	}
}
