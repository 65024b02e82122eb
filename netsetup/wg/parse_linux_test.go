package wg

import (
	"context"
	"errors"
	"net/netip"
	"reflect"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/wgboot/wgboot/internal/wgkey"
	"github.com/wgboot/wgboot/netsetup/internal/nl"
)

// populate fills the fake device directly: a first peer with 300 allowed
// IPs (so that a small dump splits it and repeats the device block), then
// small peers.
func populate(f *fakeWG) []Peer {
	f.priv = testPriv
	f.port = 51820
	f.fwmark = 0x42
	hs := time.Unix(1700000000, 123456789)
	var want []Peer
	for i := range 4 {
		p := &fakePeer{key: testKey(i + 1), keepalive: uint16(i), rx: uint64(i) * 1000, tx: uint64(i) * 2000}
		n := 2
		if i == 0 {
			n = 300
			p.psk = testPSK.Bytes()
			p.handshake = hs
		}
		for j := range n {
			p.ips = append(p.ips, netip.PrefixFrom(netip.AddrFrom4([4]byte{10, byte(i), byte(j >> 8), byte(j)}), 32))
		}
		p.ips = append(p.ips, mustPrefix("fd00::/64").Masked())
		if i == 1 {
			p.ips[len(p.ips)-1] = mustPrefix("fd01::/64")
		}
		ep := netip.MustParseAddrPort("[2001:db8::5%3]:51820")
		if i%2 == 1 {
			ep = netip.MustParseAddrPort("192.0.2.9:9")
		}
		p.endpoint = appendSockaddr(nil, ep, 3)
		if i > 1 {
			p.ips[len(p.ips)-1] = netip.PrefixFrom(netip.AddrFrom16([16]byte{0xfd, byte(i)}), 64)
		}
		f.addPeer(p)
		wp := Peer{PublicKey: p.key, HasPresharedKey: i == 0, Endpoint: ep, PersistentKeepalive: time.Duration(i) * time.Second,
			RxBytes: p.rx, TxBytes: p.tx, ProtocolVersion: 1, AllowedIPs: append([]netip.Prefix(nil), p.ips...)}
		if i == 0 {
			wp.LastHandshake = hs
		}
		want = append(want, wp)
	}
	return want
}

func TestDevice_splitDump(t *testing.T) {
	for _, size := range []int{32 << 10, 4096, 600} {
		f := newFakeWG(t, "wg0")
		wantPeers := populate(f)
		f.dumpSize = size
		parts := f.dump()
		withDevice := 0
		for _, m := range parts {
			_, tree := genlAttrs(t, m)
			if find(tree, unix.WGDEVICE_A_IFINDEX) != nil {
				withDevice++
			}
		}
		t.Logf("dump size %d: %d parts, %d with device attributes", size, len(parts), withDevice)
		if size == 600 && (withDevice < 2 || withDevice == len(parts)) {
			t.Errorf("dump size %d: device block in %d of %d parts, want repeated and absent", size, withDevice, len(parts))
		}

		c, _ := f.client(t)
		d, err := c.Device("wg0")
		if err != nil {
			t.Fatalf("Device() error = %v", err)
		}
		want := &Device{Name: "wg0", Index: 7, PublicKey: testPriv.PublicKey(), HasPrivateKey: true,
			ListenPort: 51820, FirewallMark: 0x42, Peers: wantPeers}
		if !reflect.DeepEqual(d, want) {
			t.Errorf("dump size %d: Device() =\n%+v\nwant\n%+v", size, d, want)
		}
	}
}

func TestDevice_dumpInterrupted(t *testing.T) {
	f := newFakeWG(t, "wg0")
	populate(f)
	f.interrupt = 3
	c, rec := f.client(t)
	if _, err := c.Device("wg0"); err != nil {
		t.Fatalf("Device() error = %v after 3 interrupted dumps", err)
	}
	if n := len(rec.Requests()) - 1; n != 4 {
		t.Errorf("sent %d GET requests, want 4", n)
	}
	f.interrupt = 1000
	if _, err := c.Device("wg0"); !errors.Is(err, nl.ErrDumpInterrupted) {
		t.Errorf("Device() error = %v, want ErrDumpInterrupted", err)
	}
}

func TestDevice_empty(t *testing.T) {
	f := newFakeWG(t, "wg0")
	c, _ := f.client(t)
	d, err := c.Device("wg0")
	if err != nil {
		t.Fatal(err)
	}
	want := &Device{Name: "wg0", Index: 7}
	if !reflect.DeepEqual(d, want) {
		t.Errorf("Device() = %+v, want %+v", d, want)
	}
}

// genlMsg builds a GET reply part from attrs.
func genlMsg(t *testing.T, cmd uint8, fn func(ae *nl.AttrEncoder)) nl.Message {
	t.Helper()
	var ae nl.AttrEncoder
	fn(&ae)
	data, err := nl.GenlPayload(nl.GenlHeader{Command: cmd, Version: 1}, &ae)
	if err != nil {
		t.Fatal(err)
	}
	return nl.Message{Header: nl.Header{Type: testFamily}, Data: data}
}

func TestParseDevice_errors(t *testing.T) {
	key := testKey(1)
	peer := func(fn func(*nl.AttrEncoder)) func(*nl.AttrEncoder) {
		return func(ae *nl.AttrEncoder) {
			ae.Uint32(unix.WGDEVICE_A_IFINDEX, 1)
			ae.Nested(unix.WGDEVICE_A_PEERS, func(pe *nl.AttrEncoder) error {
				pe.Nested(0, func(p *nl.AttrEncoder) error { fn(p); return nil })
				return nil
			})
		}
	}
	ip := func(fam uint16, addr []byte, bits uint8) func(*nl.AttrEncoder) {
		return peer(func(p *nl.AttrEncoder) {
			p.Bytes(unix.WGPEER_A_PUBLIC_KEY, key[:])
			p.Nested(unix.WGPEER_A_ALLOWEDIPS, func(l *nl.AttrEncoder) error {
				l.Nested(0, func(a *nl.AttrEncoder) error {
					a.Uint16(unix.WGALLOWEDIP_A_FAMILY, fam)
					a.Bytes(unix.WGALLOWEDIP_A_IPADDR, addr)
					a.Uint8(unix.WGALLOWEDIP_A_CIDR_MASK, bits)
					return nil
				})
				return nil
			})
		})
	}
	tests := []struct {
		name string
		cmd  uint8
		fn   func(*nl.AttrEncoder)
	}{
		{"wrong command", unix.WG_CMD_SET_DEVICE, func(ae *nl.AttrEncoder) { ae.Uint32(unix.WGDEVICE_A_IFINDEX, 1) }},
		{"no device attributes", unix.WG_CMD_GET_DEVICE, func(ae *nl.AttrEncoder) {}},
		{"short public key", unix.WG_CMD_GET_DEVICE, func(ae *nl.AttrEncoder) { ae.Bytes(unix.WGDEVICE_A_PUBLIC_KEY, key[:31]) }},
		{"short private key", unix.WG_CMD_GET_DEVICE, func(ae *nl.AttrEncoder) { ae.Bytes(unix.WGDEVICE_A_PRIVATE_KEY, key[:31]) }},
		{"u16 port of 4 bytes", unix.WG_CMD_GET_DEVICE, func(ae *nl.AttrEncoder) { ae.Uint32(unix.WGDEVICE_A_LISTEN_PORT, 1) }},
		{"peer without key", unix.WG_CMD_GET_DEVICE, peer(func(p *nl.AttrEncoder) { p.Uint16(unix.WGPEER_A_PERSISTENT_KEEPALIVE_INTERVAL, 1) })},
		{"bad endpoint", unix.WG_CMD_GET_DEVICE, peer(func(p *nl.AttrEncoder) {
			p.Bytes(unix.WGPEER_A_PUBLIC_KEY, key[:])
			p.Bytes(unix.WGPEER_A_ENDPOINT, make([]byte, 12))
		})},
		{"bad timespec", unix.WG_CMD_GET_DEVICE, peer(func(p *nl.AttrEncoder) {
			p.Bytes(unix.WGPEER_A_PUBLIC_KEY, key[:])
			p.Bytes(unix.WGPEER_A_LAST_HANDSHAKE_TIME, make([]byte, 8))
		})},
		{"short preshared key", unix.WG_CMD_GET_DEVICE, peer(func(p *nl.AttrEncoder) {
			p.Bytes(unix.WGPEER_A_PUBLIC_KEY, key[:])
			p.Bytes(unix.WGPEER_A_PRESHARED_KEY, make([]byte, 8))
		})},
		{"v4 with 16 bytes", unix.WG_CMD_GET_DEVICE, ip(unix.AF_INET, make([]byte, 16), 8)},
		{"v4 /33", unix.WG_CMD_GET_DEVICE, ip(unix.AF_INET, make([]byte, 4), 33)},
		{"v6 /129", unix.WG_CMD_GET_DEVICE, ip(unix.AF_INET6, make([]byte, 16), 129)},
		{"unknown family", unix.WG_CMD_GET_DEVICE, ip(99, make([]byte, 4), 8)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := parseDevice([]nl.Message{genlMsg(t, tt.cmd, tt.fn)})
			if err == nil {
				t.Errorf("parseDevice() = %+v, want an error", d)
			}
		})
	}
	if _, err := parseDevice(nil); !errors.Is(err, errEmptyDump) {
		t.Errorf("parseDevice(nil) error = %v, want errEmptyDump", err)
	}
}

func TestSockaddr_roundTrip(t *testing.T) {
	for _, tt := range []struct {
		ep    string
		scope uint32
		size  int
	}{
		{"192.0.2.1:51820", 0, unix.SizeofSockaddrInet4},
		{"[2001:db8::1]:1", 0, unix.SizeofSockaddrInet6},
		{"[fe80::1%4]:65535", 4, unix.SizeofSockaddrInet6},
		{"[::ffff:192.0.2.1]:80", 0, unix.SizeofSockaddrInet6},
	} {
		ep := netip.MustParseAddrPort(tt.ep)
		b := appendSockaddr(nil, ep, tt.scope)
		if len(b) != tt.size {
			t.Errorf("appendSockaddr(%v) is %d bytes, want %d", ep, len(b), tt.size)
		}
		got, err := parseSockaddr(b)
		if err != nil || got != ep {
			t.Errorf("parseSockaddr(appendSockaddr(%v)) = %v, %v", ep, got, err)
		}
	}
}

func TestTimespecLayout(t *testing.T) {
	// struct __kernel_timespec is two s64 on every architecture.
	b := make([]byte, sizeofTimespec)
	b[0], b[8] = 1, 2
	got, err := parseTimespec(b)
	if err != nil || !got.Equal(time.Unix(1, 2)) {
		t.Errorf("parseTimespec() = %v, %v, want 1s+2ns", got, err)
	}
	if got, _ := parseTimespec(make([]byte, 16)); !got.IsZero() {
		t.Errorf("parseTimespec(zero) = %v, want the zero time (never)", got)
	}
}

func FuzzParseDevice(f *testing.F) {
	// Small seeds: the fuzzer minimizes interesting inputs byte by byte,
	// which takes minutes for a 20 KB dump.
	fw := newFakeWG(&testing.T{}, "wg0")
	fw.priv = testPriv
	for i := range 3 {
		p := &fakePeer{key: testKey(i + 1), keepalive: 25, endpoint: appendSockaddr(nil, netip.MustParseAddrPort("[fe80::1%2]:5"), 2)}
		p.psk = testPSK.Bytes()
		for j := range 3 {
			p.ips = append(p.ips, netip.PrefixFrom(netip.AddrFrom4([4]byte{10, byte(i), byte(j), 0}), 24))
		}
		p.ips = append(p.ips, mustPrefix("fd00::/64"))
		fw.addPeer(p)
	}
	for _, size := range []int{400, 4096} {
		fw.dumpSize = size
		var b []byte
		for _, m := range fw.dump() {
			b, _ = m.AppendBinary(b)
		}
		f.Add(b)
	}
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		msgs, err := nl.ParseMessages(b)
		if err != nil {
			return
		}
		d, err := parseDevice(msgs)
		if err != nil {
			return
		}
		for _, p := range d.Peers {
			for _, ip := range p.AllowedIPs {
				if !ip.IsValid() {
					t.Errorf("parseDevice accepted invalid prefix %v", ip)
				}
			}
		}
	})
}

func TestVerify(t *testing.T) {
	base := func() (Config, *Device) {
		cfg := Config{PrivateKey: &testPriv, ListenPort: ptr(51820), FirewallMark: ptr(uint32(1)), ReplacePeers: true,
			Peers: []PeerConfig{{
				PublicKey: testKey(1), PresharedKey: &testPSK, Endpoint: netip.MustParseAddrPort("[fe80::1%1]:1"),
				PersistentKeepalive: ptr(5 * time.Second), AllowedIPs: []netip.Prefix{mustPrefix("10.0.0.1/8"), mustPrefix("fd00::/8")},
			}}}
		d := &Device{Name: "wg0", Index: 3, PublicKey: testPriv.PublicKey(), HasPrivateKey: true, ListenPort: 51820, FirewallMark: 1,
			Peers: []Peer{{PublicKey: testKey(1), HasPresharedKey: true, Endpoint: netip.MustParseAddrPort("[fe80::1%1]:1"),
				PersistentKeepalive: 5 * time.Second, AllowedIPs: []netip.Prefix{mustPrefix("fd00::/8"), mustPrefix("10.0.0.0/8")}}}}
		return cfg, d
	}
	tests := []struct {
		name   string
		change func(*Config, *Device)
		want   []string // substrings; none: Verify must pass
	}{
		{"identical", func(*Config, *Device) {}, nil},
		{"lo zone by name", func(c *Config, _ *Device) { c.Peers[0].Endpoint = netip.MustParseAddrPort("[fe80::1%lo]:1") }, nil},
		{"self peer ignored", func(c *Config, _ *Device) {
			c.Peers = append(c.Peers, PeerConfig{PublicKey: testPriv.PublicKey()})
		}, nil},
		{"update-only absent", func(c *Config, _ *Device) {
			c.Peers = append(c.Peers, PeerConfig{PublicKey: testKey(5), UpdateOnly: true})
		}, nil},
		{"public key", func(_ *Config, d *Device) { d.PublicKey = testKey(9) }, []string{"public key " + testKey(9).String()}},
		{"no private key", func(_ *Config, d *Device) { d.HasPrivateKey = false }, []string{"no private key"}},
		{"port", func(_ *Config, d *Device) { d.ListenPort = 1 }, []string{"listen port 1, want 51820"}},
		{"random port", func(c *Config, d *Device) { c.ListenPort = ptr(0); d.ListenPort = 4242 }, nil},
		{"fwmark", func(_ *Config, d *Device) { d.FirewallMark = 2 }, []string{"firewall mark 0x2, want 0x1"}},
		{"missing peer", func(_ *Config, d *Device) { d.Peers = nil }, []string{"peers[0]): missing"}},
		{"extra peer", func(_ *Config, d *Device) { d.Peers = append(d.Peers, Peer{PublicKey: testKey(7)}) }, []string{testKey(7).String() + ": present"}},
		{"extra peer without replace", func(c *Config, d *Device) {
			c.ReplacePeers = false
			d.Peers = append(d.Peers, Peer{PublicKey: testKey(7)})
		}, nil},
		{"endpoint", func(_ *Config, d *Device) { d.Peers[0].Endpoint = netip.MustParseAddrPort("[fe80::1%2]:1") }, []string{"endpoint [fe80::1%2]:1, want [fe80::1%1]:1"}},
		{"endpoint dropped", func(_ *Config, d *Device) { d.Peers[0].Endpoint = netip.AddrPort{} }, []string{"endpoint invalid AddrPort"}},
		{"keepalive", func(_ *Config, d *Device) { d.Peers[0].PersistentKeepalive = 0 }, []string{"persistent keepalive 0s, want 5s"}},
		{"psk", func(_ *Config, d *Device) { d.Peers[0].HasPresharedKey = false }, []string{"no preshared key"}},
		{"allowed IPs", func(_ *Config, d *Device) {
			d.Peers[0].AllowedIPs = []netip.Prefix{mustPrefix("10.0.0.0/8"), mustPrefix("192.0.2.0/24")}
		},
			[]string{"allowed IPs missing fd00::/8, unexpected 192.0.2.0/24"}},
		{"allowed IPs superset without replace", func(c *Config, d *Device) {
			c.ReplacePeers = false
			d.Peers[0].AllowedIPs = append(d.Peers[0].AllowedIPs, mustPrefix("192.0.2.0/24"))
		}, nil},
		{"removed present", func(c *Config, _ *Device) {
			c.Peers[0] = PeerConfig{PublicKey: testKey(1), Remove: true}
			c.ReplacePeers = false
		},
			[]string{"present, want removed"}},
		{"two problems", func(_ *Config, d *Device) { d.ListenPort = 1; d.FirewallMark = 2 }, []string{"listen port", "firewall mark"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, d := base()
			tt.change(&cfg, d)
			err := Verify(cfg, d)
			if len(tt.want) == 0 {
				if err != nil {
					t.Errorf("Verify() error = %v, want nil", err)
				}
				return
			}
			if !errors.Is(err, ErrMismatch) {
				t.Fatalf("Verify() error = %v, want ErrMismatch", err)
			}
			for _, s := range tt.want {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("Verify() error = %q, want it to mention %q", err, s)
				}
			}
			for _, secret := range []string{testPriv.Reveal(), testPSK.Reveal()} {
				if strings.Contains(err.Error(), secret) {
					t.Errorf("Verify() error contains a secret key: %q", err)
				}
			}
		})
	}
}

func TestWaitHandshake(t *testing.T) {
	f := newFakeWG(t, "wg0")
	populate(f)
	since := time.Unix(1800000000, 0)
	gets := 0
	f.onGet = func(f *fakeWG) {
		gets++
		if gets == 3 {
			f.peers[1].handshake = since.Add(time.Second)
		}
		if gets == 4 {
			f.peers[2].handshake = since.Add(2 * time.Second)
		}
	}
	c, _ := f.client(t)
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	keys := []wgkey.Key{testKey(2), testKey(3)}
	got, err := c.WaitHandshake(ctx, "wg0", since, keys)
	if err != nil {
		t.Fatalf("WaitHandshake() error = %v", err)
	}
	want := map[wgkey.Key]time.Time{testKey(2): since.Add(time.Second), testKey(3): since.Add(2 * time.Second)}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("WaitHandshake() = %v, want %v", got, want)
	}

	ctx, cancel = context.WithTimeout(t.Context(), 250*time.Millisecond)
	defer cancel()
	got, err = c.WaitHandshake(ctx, "wg0", since, nil) // every peer: 1 and 4 never shake hands
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("WaitHandshake() error = %v, want DeadlineExceeded", err)
	}
	if len(got) != 2 {
		t.Errorf("WaitHandshake() returned %d handshakes, want the 2 seen", len(got))
	}
}
