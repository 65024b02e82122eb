package wg

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"net/netip"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/wgboot/wgboot/internal/wgkey"
	"github.com/wgboot/wgboot/netsetup/internal/nl"
	"github.com/wgboot/wgboot/netsetup/internal/nltest"
)

// Test keys. They are fixtures: printing them in test output is fine.
var (
	testPriv = wgkey.PrivateKeyFromBytes([32]byte{
		0x08, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f,
		0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x5f,
	})
	testPSK = wgkey.PresharedKeyFromBytes([32]byte{
		0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7, 0xa8, 0xa9, 0xaa, 0xab, 0xac, 0xad, 0xae, 0xaf,
		0xb0, 0xb1, 0xb2, 0xb3, 0xb4, 0xb5, 0xb6, 0xb7, 0xb8, 0xb9, 0xba, 0xbb, 0xbc, 0xbd, 0xbe, 0xbf,
	})
)

// testKey returns a distinct public key for each i.
func testKey(i int) wgkey.Key {
	var k wgkey.Key
	binary.BigEndian.PutUint32(k[:], uint32(i))
	for j := 4; j < len(k); j++ {
		k[j] = 0xc0 | byte(j)
	}
	return k
}

func ptr[T any](v T) *T { return &v }

func mustPrefix(s string) netip.Prefix { return netip.MustParsePrefix(s) }

// manyPeers returns n peers with three allowed IPs each: an IPv4 /32, an
// IPv6 /128 and an IPv4 /24 out of 10.128.0.0/9, all distinct.
func manyPeers(n int) []PeerConfig {
	peers := make([]PeerConfig, n)
	for i := range peers {
		v4 := netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)})
		var v6 [16]byte
		copy(v6[:], []byte{0xfd, 0, 0xbe, 0xef})
		binary.BigEndian.PutUint32(v6[12:], uint32(i))
		net24 := netip.AddrFrom4([4]byte{10, 128 + byte(i>>8), byte(i), 0})
		peers[i] = PeerConfig{
			PublicKey:  testKey(i + 1),
			Endpoint:   netip.AddrPortFrom(netip.AddrFrom4([4]byte{192, 0, 2, byte(i)}), uint16(10000+i%50000)),
			AllowedIPs: []netip.Prefix{netip.PrefixFrom(v4, 32), netip.PrefixFrom(netip.AddrFrom16(v6), 128), netip.PrefixFrom(net24, 24)},
		}
		if i%2 == 0 {
			peers[i].PersistentKeepalive = ptr(25 * time.Second)
		}
	}
	return peers
}

// tattr is a decoded attribute tree, compared with reflect.DeepEqual as
// wgctrl-go's tests do: a failure points at the wrong attribute.
type tattr struct {
	Type   uint16
	Nested bool
	Data   []byte
	Kids   []tattr
}

// leaf and nest build expected trees.
func leaf(typ uint16, data []byte) tattr   { return tattr{Type: typ, Data: data} }
func nest(typ uint16, kids ...tattr) tattr { return tattr{Type: typ, Nested: true, Kids: kids} }

func u8(v uint8) []byte   { return []byte{v} }
func u16(v uint16) []byte { return binary.NativeEndian.AppendUint16(nil, v) }
func u32(v uint32) []byte { return binary.NativeEndian.AppendUint32(nil, v) }
func str(s string) []byte { return append([]byte(s), 0) }

func ipAttr(p string) tattr {
	pfx := mustPrefix(p)
	if pfx.Addr().Is4() {
		a := pfx.Addr().As4()
		return nest(0, leaf(unix.WGALLOWEDIP_A_FAMILY, u16(unix.AF_INET)), leaf(unix.WGALLOWEDIP_A_IPADDR, a[:]),
			leaf(unix.WGALLOWEDIP_A_CIDR_MASK, u8(uint8(pfx.Bits()))))
	}
	a := pfx.Addr().As16()
	return nest(0, leaf(unix.WGALLOWEDIP_A_FAMILY, u16(unix.AF_INET6)), leaf(unix.WGALLOWEDIP_A_IPADDR, a[:]),
		leaf(unix.WGALLOWEDIP_A_CIDR_MASK, u8(uint8(pfx.Bits()))))
}

// decodeTree decodes attributes, descending into NLA_F_NESTED ones.
func decodeTree(b []byte) ([]tattr, error) {
	var out []tattr
	ad := nl.NewAttrDecoder(b)
	for ad.Next() {
		a := tattr{Type: ad.Type(), Nested: ad.IsNested()}
		if a.Nested {
			raw := ad.Bytes()
			kids, err := decodeTree(raw)
			if err != nil {
				return nil, err
			}
			a.Kids = kids
		} else {
			a.Data = ad.Bytes()
		}
		out = append(out, a)
	}
	return out, ad.Err()
}

// genlAttrs decodes a recorded genl request into its command and tree.
func genlAttrs(t *testing.T, m nl.Message) (uint8, []tattr) {
	t.Helper()
	fixed, attrs, err := nl.SplitPayload(m.Data, 4)
	if err != nil {
		t.Fatal(err)
	}
	var h nl.GenlHeader
	if err := h.UnmarshalBinary(fixed); err != nil {
		t.Fatal(err)
	}
	tree, err := decodeTree(attrs)
	if err != nil {
		t.Fatalf("decode request: %v", err)
	}
	return h.Command, tree
}

func formatTree(ts []tattr) string {
	var sb strings.Builder
	var walk func([]tattr, int)
	walk = func(ts []tattr, depth int) {
		for _, a := range ts {
			ind := strings.Repeat("  ", depth)
			if a.Nested {
				fmt.Fprintf(&sb, "%s%d: nested\n", ind, a.Type)
				walk(a.Kids, depth+1)
				continue
			}
			fmt.Fprintf(&sb, "%s%d: %s\n", ind, a.Type, hex.EncodeToString(a.Data))
		}
	}
	walk(ts, 0)
	return sb.String()
}

// setRequests returns the WG_CMD_SET_DEVICE requests among reqs.
func setRequests(t *testing.T, reqs []nl.Message) []nl.Message {
	t.Helper()
	var out []nl.Message
	for _, r := range reqs {
		if r.Type != testFamily {
			continue
		}
		if cmd, _ := genlAttrs(t, r); cmd == unix.WG_CMD_SET_DEVICE {
			out = append(out, r)
		}
	}
	return out
}

func find(ts []tattr, typ uint16) *tattr {
	for i := range ts {
		if ts[i].Type == typ {
			return &ts[i]
		}
	}
	return nil
}

// dialFake is nltest.Dial, except that every reply message arrives in a
// datagram of its own, as the kernel sends dump parts. nltest.Dial packs
// all replies into two datagrams, which overflow nl's 64 KiB receive
// buffer for a dump of thousands of peers.
func dialFake(fn nltest.Func) *nl.Conn {
	return nl.NewConn(&fakeSocket{fn: fn})
}

type fakeSocket struct {
	fn    nltest.Func
	mu    sync.Mutex
	queue [][]byte

	// silent makes Receive wait until its deadline when nothing is
	// queued, like a kernel that never answers; otherwise it times out
	// at once.
	silent bool
	// spy keeps every buffer Send and Receive were given, the client's
	// own, not copies, for tests that check they were wiped.
	spy        bool
	sent, recv [][]byte
}

func (s *fakeSocket) Send(b []byte) error {
	reqs, err := nl.ParseMessages(b)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.spy {
		s.sent = append(s.sent, b)
	}
	for _, req := range reqs {
		replies, err := s.fn(req)
		if err != nil {
			return err
		}
		for _, m := range replies {
			if m.Seq == 0 {
				m.Seq = req.Seq
			}
			if m.PID == 0 {
				m.PID = nltest.PortID
			}
			d, err := m.MarshalBinary()
			if err != nil {
				return err
			}
			s.queue = append(s.queue, d)
		}
	}
	return nil
}

func (s *fakeSocket) Receive(b []byte, deadline time.Time) (int, uint32, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.spy {
		s.recv = append(s.recv, b)
	}
	if len(s.queue) == 0 {
		if s.silent {
			time.Sleep(time.Until(deadline))
		}
		return 0, 0, os.ErrDeadlineExceeded
	}
	d := s.queue[0]
	s.queue = s.queue[1:]
	copy(b, d)
	return len(d), 0, nil
}

func (s *fakeSocket) Close() error { return nil }
