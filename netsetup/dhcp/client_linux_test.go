package dhcp

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv4"
	"golang.org/x/net/bpf"
)

var testMAC = net.HardwareAddr{0x52, 0x54, 0x00, 0x12, 0x34, 0x56}

// fakeServer is a net.PacketConn that hands every message the client
// writes to serve and queues what serve answers for the client to read.
type fakeServer struct {
	serve func(n int, m *dhcpv4.DHCPv4) []*dhcpv4.DHCPv4

	mu      sync.Mutex
	got     []*dhcpv4.DHCPv4
	replies chan []byte
	closed  chan struct{}
	once    sync.Once
}

func newFakeServer(serve func(n int, m *dhcpv4.DHCPv4) []*dhcpv4.DHCPv4) *fakeServer {
	return &fakeServer{serve: serve, replies: make(chan []byte, 16), closed: make(chan struct{})}
}

func (s *fakeServer) WriteTo(p []byte, _ net.Addr) (int, error) {
	m, err := dhcpv4.FromBytes(p)
	if err != nil {
		return 0, err
	}
	s.mu.Lock()
	n := len(s.got)
	s.got = append(s.got, m)
	s.mu.Unlock()
	for _, r := range s.serve(n, m) {
		s.replies <- r.ToBytes()
	}
	return len(p), nil
}

func (s *fakeServer) ReadFrom(p []byte) (int, net.Addr, error) {
	select {
	case r := <-s.replies:
		return copy(p, r), &net.UDPAddr{IP: net.IPv4(192, 0, 2, 1), Port: 67}, nil
	case <-s.closed:
		return 0, nil, net.ErrClosed
	}
}

func (s *fakeServer) Close() error                       { s.once.Do(func() { close(s.closed) }); return nil }
func (s *fakeServer) LocalAddr() net.Addr                { return &net.UDPAddr{Port: 68} }
func (s *fakeServer) SetDeadline(t time.Time) error      { return nil }
func (s *fakeServer) SetReadDeadline(t time.Time) error  { return nil }
func (s *fakeServer) SetWriteDeadline(t time.Time) error { return nil }

func (s *fakeServer) sent() []*dhcpv4.DHCPv4 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]*dhcpv4.DHCPv4(nil), s.got...)
}

// reply answers m as a server at serverID would: an OFFER to a DISCOVER,
// an ACK (or typ) to a REQUEST, for yiaddr.
func reply(t *testing.T, m *dhcpv4.DHCPv4, serverID net.IP, yiaddr string, typ dhcpv4.MessageType, mods ...dhcpv4.Modifier) *dhcpv4.DHCPv4 {
	t.Helper()
	if typ == 0 {
		typ = dhcpv4.MessageTypeOffer
		if m.MessageType() == dhcpv4.MessageTypeRequest {
			typ = dhcpv4.MessageTypeAck
		}
	}
	r, err := dhcpv4.NewReplyFromRequest(m, append([]dhcpv4.Modifier{
		dhcpv4.WithMessageType(typ),
		dhcpv4.WithYourIP(net.ParseIP(yiaddr)),
		dhcpv4.WithServerIP(serverID),
		dhcpv4.WithOption(dhcpv4.OptServerIdentifier(serverID)),
		dhcpv4.WithOption(dhcpv4.OptSubnetMask(net.CIDRMask(24, 32))),
		dhcpv4.WithOption(dhcpv4.OptIPAddressLeaseTime(time.Hour)),
		dhcpv4.WithRouter(net.IPv4(192, 0, 2, 1)),
		dhcpv4.WithOption(dhcpv4.OptDNS(net.IPv4(192, 0, 2, 53))),
	}, mods...)...)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

var srv1 = net.IPv4(192, 0, 2, 1).To4()

func obtain(t *testing.T, s *fakeServer, timeout time.Duration) (*Lease, error, []string) {
	t.Helper()
	old := restartDelay
	restartDelay = 10 * time.Millisecond
	t.Cleanup(func() { restartDelay = old })
	var mu sync.Mutex
	var lines []string
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	l, err := Obtain(ctx, Config{
		Interface: "eth0", Index: 2, HWAddr: testMAC, conn: s,
		Retransmit: func(n int) time.Duration { return 40 * time.Millisecond },
		Logf: func(format string, args ...any) {
			mu.Lock()
			lines = append(lines, sprintf(format, args...))
			mu.Unlock()
		},
	})
	mu.Lock()
	defer mu.Unlock()
	return l, err, lines
}

// TestObtain is the four-message exchange: the DISCOVER and the REQUEST
// ask for the options the plan needs and carry the client identifier; the
// REQUEST names the offer's server and address.
func TestObtain(t *testing.T) {
	s := newFakeServer(func(n int, m *dhcpv4.DHCPv4) []*dhcpv4.DHCPv4 {
		return []*dhcpv4.DHCPv4{reply(t, m, srv1, "192.0.2.10", 0)}
	})
	l, err, _ := obtain(t, s, 5*time.Second)
	if err != nil {
		t.Fatalf("Obtain() error = %v", err)
	}
	if l.Address.String() != "192.0.2.10/24" || l.Router.String() != "192.0.2.1" || l.ServerID.String() != "192.0.2.1" {
		t.Errorf("lease = %+v", l)
	}
	if time.Since(l.Obtained) > 5*time.Second {
		t.Errorf("lease obtained at %v", l.Obtained)
	}
	sent := s.sent()
	if len(sent) != 2 || sent[0].MessageType() != dhcpv4.MessageTypeDiscover || sent[1].MessageType() != dhcpv4.MessageTypeRequest {
		t.Fatalf("sent %v", sent)
	}
	for _, m := range sent {
		if !bytes.Equal(m.ClientHWAddr, testMAC) {
			t.Errorf("%s chaddr %v", m.MessageType(), m.ClientHWAddr)
		}
		if id := m.Options.Get(dhcpv4.OptionClientIdentifier); !bytes.Equal(id, append([]byte{1}, testMAC...)) {
			t.Errorf("%s client identifier %x, want 01 and the MAC", m.MessageType(), id)
		}
		for _, o := range []dhcpv4.OptionCode{dhcpv4.OptionSubnetMask, dhcpv4.OptionRouter, dhcpv4.OptionDomainNameServer,
			dhcpv4.OptionClasslessStaticRoute, dhcpv4.OptionInterfaceMTU, dhcpv4.OptionIPAddressLeaseTime} {
			if !m.IsOptionRequested(o) {
				t.Errorf("%s does not request %v", m.MessageType(), o)
			}
		}
	}
	if !sent[1].ServerIdentifier().Equal(srv1) || !sent[1].RequestedIPAddress().Equal(net.IPv4(192, 0, 2, 10)) {
		t.Errorf("REQUEST server id %v, requested address %v", sent[1].ServerIdentifier(), sent[1].RequestedIPAddress())
	}
}

// TestObtainRetransmits: unanswered DISCOVERs go out again with the same
// transaction ID, on the schedule, until one is answered.
func TestObtainRetransmits(t *testing.T) {
	s := newFakeServer(func(n int, m *dhcpv4.DHCPv4) []*dhcpv4.DHCPv4 {
		if n < 3 {
			return nil
		}
		return []*dhcpv4.DHCPv4{reply(t, m, srv1, "192.0.2.10", 0)}
	})
	_, err, lines := obtain(t, s, 5*time.Second)
	if err != nil {
		t.Fatalf("Obtain() error = %v", err)
	}
	sent := s.sent()
	if len(sent) != 5 {
		t.Fatalf("sent %d messages, want 4 DISCOVERs and a REQUEST", len(sent))
	}
	for _, m := range sent[:4] {
		if m.MessageType() != dhcpv4.MessageTypeDiscover || m.TransactionID != sent[0].TransactionID {
			t.Errorf("retransmission %s xid %v, want DISCOVER xid %v", m.MessageType(), m.TransactionID, sent[0].TransactionID)
		}
	}
	if want := "dhcp on eth0: DISCOVER unanswered after 40ms"; len(lines) != 3 || lines[0] != want {
		t.Errorf("log %q, want 3 times %q", lines, want)
	}
}

// TestObtainSilent: no server; Obtain returns at the deadline, saying how
// many DISCOVERs went unanswered.
func TestObtainSilent(t *testing.T) {
	s := newFakeServer(func(int, *dhcpv4.DHCPv4) []*dhcpv4.DHCPv4 { return nil })
	start := time.Now()
	_, err, _ := obtain(t, s, 300*time.Millisecond)
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("Obtain() took %v past a 300ms deadline", d)
	}
	if err == nil || !strings.Contains(err.Error(), "dhcp on eth0: no lease within") ||
		!strings.Contains(err.Error(), "DHCPDISCOVER unanswered: no DHCPOFFER") {
		t.Errorf("Obtain() error = %v", err)
	}
	if !errors.Is(err, errNoOffer) {
		t.Errorf("Obtain() error %v does not wrap errNoOffer", err)
	}
}

// TestObtainStartsOver: a NAK, an unanswered REQUEST and an unusable ACK
// each start the exchange over with a new DISCOVER; the lease of the
// round that succeeds is returned.
func TestObtainStartsOver(t *testing.T) {
	tests := []struct {
		name string
		bad  func(t *testing.T, m *dhcpv4.DHCPv4) []*dhcpv4.DHCPv4 // answer to the first REQUEST
		log  string
	}{
		{
			name: "NAK",
			bad: func(t *testing.T, m *dhcpv4.DHCPv4) []*dhcpv4.DHCPv4 {
				return []*dhcpv4.DHCPv4{reply(t, m, srv1, "0.0.0.0", dhcpv4.MessageTypeNak, dhcpv4.WithOption(dhcpv4.OptMessage("wrong network")))}
			},
			log: `dhcp on eth0: DHCPNAK from 192.0.2.1 for 192.0.2.10 ("wrong network"); starting over`,
		},
		{
			name: "no ACK",
			bad:  func(*testing.T, *dhcpv4.DHCPv4) []*dhcpv4.DHCPv4 { return nil },
			log:  "dhcp on eth0: no DHCPACK from 192.0.2.1 for 192.0.2.10 (3 sent, unanswered); starting over",
		},
		{
			name: "ACK from another server",
			bad: func(t *testing.T, m *dhcpv4.DHCPv4) []*dhcpv4.DHCPv4 {
				return []*dhcpv4.DHCPv4{reply(t, m, net.IPv4(192, 0, 2, 99).To4(), "192.0.2.10", 0)}
			},
			log: "dhcp on eth0: no DHCPACK from 192.0.2.1 for 192.0.2.10 (3 sent, unanswered); starting over",
		},
		{
			name: "unusable ACK",
			bad: func(t *testing.T, m *dhcpv4.DHCPv4) []*dhcpv4.DHCPv4 {
				return []*dhcpv4.DHCPv4{reply(t, m, srv1, "192.0.2.255", 0)}
			},
			log: "dhcp on eth0: unusable DHCPACK from 192.0.2.1: leased address 192.0.2.255/24 is its subnet's broadcast address; starting over",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			requests := 0
			s := newFakeServer(func(n int, m *dhcpv4.DHCPv4) []*dhcpv4.DHCPv4 {
				if m.MessageType() == dhcpv4.MessageTypeRequest {
					requests++
					if requests <= requestTries && (tt.name != "NAK" && tt.name != "unusable ACK" || requests == 1) {
						return tt.bad(t, m)
					}
				}
				return []*dhcpv4.DHCPv4{reply(t, m, srv1, "192.0.2.10", 0)}
			})
			l, err, lines := obtain(t, s, 5*time.Second)
			if err != nil {
				t.Fatalf("Obtain() error = %v", err)
			}
			if l.Address.String() != "192.0.2.10/24" {
				t.Errorf("lease %+v", l)
			}
			found := false
			for _, line := range lines {
				found = found || line == tt.log
			}
			if !found {
				t.Errorf("log %q, want %q", lines, tt.log)
			}
			var discovers int
			for _, m := range s.sent() {
				if m.MessageType() == dhcpv4.MessageTypeDiscover {
					discovers++
				}
			}
			if discovers != 2 {
				t.Errorf("%d DISCOVERs, want 2", discovers)
			}
		})
	}
}

// TestObtainDeadlineAfterNAK: when every round ends in a NAK, the error at
// the deadline says so.
func TestObtainDeadlineAfterNAK(t *testing.T) {
	s := newFakeServer(func(n int, m *dhcpv4.DHCPv4) []*dhcpv4.DHCPv4 {
		typ := dhcpv4.MessageType(0)
		if m.MessageType() == dhcpv4.MessageTypeRequest {
			typ = dhcpv4.MessageTypeNak
		}
		return []*dhcpv4.DHCPv4{reply(t, m, srv1, "192.0.2.10", typ)}
	})
	_, err, _ := obtain(t, s, 200*time.Millisecond)
	if err == nil || !strings.Contains(err.Error(), "DHCPNAK from 192.0.2.1") {
		t.Errorf("Obtain() error = %v, want the NAK named", err)
	}
}

func TestObtainBadHWAddr(t *testing.T) {
	_, err := Obtain(context.Background(), Config{Interface: "wg0", HWAddr: nil})
	if err == nil || !strings.Contains(err.Error(), "not Ethernet's") {
		t.Errorf("Obtain() error = %v", err)
	}
}

// TestBackoff is RFC 2131 section 4.1's schedule: 4, 8, 16, 32, 64, 64 s,
// each within ±1 s.
func TestBackoff(t *testing.T) {
	for n, base := range []time.Duration{4, 8, 16, 32, 64, 64, 64} {
		for range 50 {
			d := Backoff(n)
			if d < (base-1)*time.Second || d >= (base+1)*time.Second {
				t.Fatalf("Backoff(%d) = %v, want %v ± 1s", n, d, base*time.Second)
			}
		}
	}
}

// TestBootpcFilter runs the socket filter on packets: DHCP replies pass,
// other UDP, other protocols and later fragments do not.
func TestBootpcFilter(t *testing.T) {
	vm, err := bpf.NewVM(bootpcProgram)
	if err != nil {
		t.Fatal(err)
	}
	pkt := func(proto byte, frag uint16, ihl int, dport uint16) []byte {
		p := make([]byte, ihl+8+300)
		p[0] = 0x40 | byte(ihl/4)
		p[6], p[7] = byte(frag>>8), byte(frag)
		p[9] = proto
		p[ihl+2], p[ihl+3] = byte(dport>>8), byte(dport)
		return p
	}
	tests := []struct {
		name string
		p    []byte
		pass bool
	}{
		{"DHCP reply", pkt(17, 0, 20, 68), true},
		{"DHCP reply, IP options", pkt(17, 0, 24, 68), true},
		{"DHCP reply, don't fragment", pkt(17, 0x4000, 20, 68), true},
		{"first fragment", pkt(17, 0x2000, 20, 68), true},
		{"later fragment", pkt(17, 0x0010, 20, 68), false},
		{"DNS", pkt(17, 0, 20, 53), false},
		{"to the server port", pkt(17, 0, 20, 67), false},
		{"TCP to 68", pkt(6, 0, 20, 68), false},
		{"short", []byte{0x45, 0}, false},
	}
	for _, tt := range tests {
		n, err := vm.Run(tt.p)
		if pass := n > 0 && err == nil; pass != tt.pass {
			t.Errorf("%s: filter returned %d, %v; want pass %v", tt.name, n, err, tt.pass)
		}
	}
}

func sprintf(format string, args ...any) string { return fmt.Sprintf(format, args...) }
