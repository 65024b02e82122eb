package wg

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"reflect"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/wgboot/wgboot/internal/wgkey"
	"github.com/wgboot/wgboot/netsetup/internal/nl"
	"github.com/wgboot/wgboot/netsetup/internal/nltest"
)

// fullConfig sets every field the SET command knows.
func fullConfig() Config {
	return Config{
		PrivateKey:   &testPriv,
		ListenPort:   ptr(51820),
		FirewallMark: ptr(uint32(0x42)),
		ReplacePeers: true,
		Peers: []PeerConfig{
			{
				PublicKey:           testKey(1),
				PresharedKey:        &testPSK,
				Endpoint:            netip.MustParseAddrPort("192.0.2.1:51820"),
				PersistentKeepalive: ptr(25 * time.Second),
				ReplaceAllowedIPs:   true,
				AllowedIPs:          []netip.Prefix{mustPrefix("10.0.0.1/32"), mustPrefix("fd00::1/128")},
			},
			{
				PublicKey:  testKey(2),
				UpdateOnly: true,
				Endpoint:   netip.MustParseAddrPort("[fe80::1%7]:51821"),
				AllowedIPs: []netip.Prefix{mustPrefix("10.1.2.3/16")},
			},
			{PublicKey: testKey(3), Remove: true},
		},
	}
}

func TestConfigure_attributeTree(t *testing.T) {
	f := newFakeWG(t, "wg0")
	c, rec := f.client(t)
	if err := c.Configure("wg0", fullConfig()); err != nil {
		t.Fatalf("Configure() error = %v", err)
	}
	sets := setRequests(t, rec.Requests())
	if len(sets) != 1 {
		t.Fatalf("sent %d SET messages, want 1", len(sets))
	}
	if sets[0].Flags != unix.NLM_F_REQUEST|unix.NLM_F_ACK {
		t.Errorf("flags = %#x, want REQUEST|ACK", sets[0].Flags)
	}
	k1, k2, k3 := testKey(1), testKey(2), testKey(3)
	psk := testPSK.Bytes()
	priv := testPriv.Bytes()
	want := []tattr{
		leaf(unix.WGDEVICE_A_IFNAME, str("wg0")),
		leaf(unix.WGDEVICE_A_LISTEN_PORT, u16(51820)),
		leaf(unix.WGDEVICE_A_FWMARK, u32(0x42)),
		leaf(unix.WGDEVICE_A_FLAGS, u32(unix.WGDEVICE_F_REPLACE_PEERS)),
		nest(unix.WGDEVICE_A_PEERS,
			nest(0,
				leaf(unix.WGPEER_A_PUBLIC_KEY, k1[:]),
				leaf(unix.WGPEER_A_FLAGS, u32(unix.WGPEER_F_REPLACE_ALLOWEDIPS)),
				// AF_INET host order, port 51820 = 0xca6c network order.
				leaf(unix.WGPEER_A_ENDPOINT, []byte{2, 0, 0xca, 0x6c, 192, 0, 2, 1, 0, 0, 0, 0, 0, 0, 0, 0}),
				leaf(unix.WGPEER_A_PERSISTENT_KEEPALIVE_INTERVAL, u16(25)),
				nest(unix.WGPEER_A_ALLOWEDIPS, ipAttr("10.0.0.1/32"), ipAttr("fd00::1/128")),
				leaf(unix.WGPEER_A_PRESHARED_KEY, psk[:]),
			),
			nest(0,
				leaf(unix.WGPEER_A_PUBLIC_KEY, k2[:]),
				leaf(unix.WGPEER_A_FLAGS, u32(unix.WGPEER_F_UPDATE_ONLY)),
				leaf(unix.WGPEER_A_ENDPOINT, []byte{10, 0, 0xca, 0x6d, 0, 0, 0, 0,
					0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 7, 0, 0, 0}),
				// Host bits cleared.
				nest(unix.WGPEER_A_ALLOWEDIPS, ipAttr("10.1.0.0/16")),
			),
			nest(0,
				leaf(unix.WGPEER_A_PUBLIC_KEY, k3[:]),
				leaf(unix.WGPEER_A_FLAGS, u32(unix.WGPEER_F_REMOVE_ME)),
			),
		),
		leaf(unix.WGDEVICE_A_PRIVATE_KEY, priv[:]),
	}
	cmd, got := genlAttrs(t, sets[0])
	if cmd != unix.WG_CMD_SET_DEVICE {
		t.Errorf("command = %d, want WG_CMD_SET_DEVICE", cmd)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("request attributes differ\ngot:\n%swant:\n%s", formatTree(got), formatTree(want))
	}
}

// checkSplit checks the invariants of a split SET and returns the peers
// reassembled from the messages, in order, to compare with the config.
func checkSplit(t *testing.T, sets []nl.Message, cfg Config, budget int) []PeerConfig {
	t.Helper()
	var (
		peers []PeerConfig
		prev  wgkey.Key
		open  bool // the last fragment of the previous message was cut
	)
	for i, m := range sets {
		if l := m.Len(); l > budget {
			t.Errorf("message %d: %d bytes, budget %d", i, l, budget)
		}
		_, tree := genlAttrs(t, m)
		if n := find(tree, unix.WGDEVICE_A_IFNAME); n == nil {
			t.Errorf("message %d: no ifname", i)
		}
		for _, typ := range []uint16{unix.WGDEVICE_A_FLAGS, unix.WGDEVICE_A_PRIVATE_KEY, unix.WGDEVICE_A_LISTEN_PORT, unix.WGDEVICE_A_FWMARK} {
			if i > 0 && find(tree, typ) != nil {
				t.Errorf("message %d: device attribute %d outside the first message", i, typ)
			}
		}
		pn := find(tree, unix.WGDEVICE_A_PEERS)
		if pn == nil {
			if i > 0 {
				t.Errorf("message %d carries no peers", i)
			}
			continue
		}
		for j, p := range pn.Kids {
			key := wgkey.Key(find(p.Kids, unix.WGPEER_A_PUBLIC_KEY).Data)
			var flags uint32
			if f := find(p.Kids, unix.WGPEER_A_FLAGS); f != nil {
				flags = uint32(f.Data[0]) | uint32(f.Data[1])<<8 | uint32(f.Data[2])<<16 | uint32(f.Data[3])<<24
			}
			var ips []netip.Prefix
			if l := find(p.Kids, unix.WGPEER_A_ALLOWEDIPS); l != nil {
				for _, a := range l.Kids {
					ap, _ := netip.AddrFromSlice(find(a.Kids, unix.WGALLOWEDIP_A_IPADDR).Data)
					ips = append(ips, netip.PrefixFrom(ap, int(find(a.Kids, unix.WGALLOWEDIP_A_CIDR_MASK).Data[0])))
				}
			}
			continuation := j == 0 && open && key == prev
			if continuation {
				for _, k := range p.Kids {
					if k.Type != unix.WGPEER_A_PUBLIC_KEY && k.Type != unix.WGPEER_A_FLAGS && k.Type != unix.WGPEER_A_ALLOWEDIPS {
						t.Errorf("message %d: continuation of %s carries attribute %d", i, key, k.Type)
					}
				}
				if flags&unix.WGPEER_F_REPLACE_ALLOWEDIPS != 0 {
					t.Errorf("message %d: continuation of %s has REPLACE_ALLOWEDIPS", i, key)
				}
				if len(ips) == 0 {
					t.Errorf("message %d: continuation of %s without allowed IPs", i, key)
				}
				last := &peers[len(peers)-1]
				last.AllowedIPs = append(last.AllowedIPs, ips...)
			} else {
				pc := cfg.Peers[len(peers)]
				if len(ips) == 0 && len(pc.AllowedIPs) > 0 && !pc.Remove {
					t.Errorf("message %d: first fragment of %s without allowed IPs", i, key)
				}
				peers = append(peers, PeerConfig{PublicKey: key, AllowedIPs: ips})
			}
			prev = key
		}
		// Whether the last peer of this message was cut is known only by
		// comparing with the config.
		last := peers[len(peers)-1]
		pc := cfg.Peers[len(peers)-1]
		open = len(last.AllowedIPs) < len(pc.AllowedIPs) && !pc.Remove
	}
	return peers
}

func samePeers(t *testing.T, got []PeerConfig, want []PeerConfig) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("reassembled %d peers, want %d", len(got), len(want))
	}
	for i := range want {
		w := want[i]
		var ips []netip.Prefix
		if !w.Remove {
			for _, p := range w.AllowedIPs {
				ips = append(ips, p.Masked())
			}
		}
		if got[i].PublicKey != w.PublicKey || !reflect.DeepEqual(got[i].AllowedIPs, ips) {
			t.Fatalf("peer %d reassembled as %s %v, want %s %v", i, got[i].PublicKey, got[i].AllowedIPs, w.PublicKey, ips)
		}
	}
}

func TestConfigure_split(t *testing.T) {
	oneBig := PeerConfig{PublicKey: testKey(1), ReplaceAllowedIPs: true, PresharedKey: &testPSK,
		Endpoint: netip.MustParseAddrPort("[2001:db8::1]:51820"), PersistentKeepalive: ptr(time.Second)}
	for i := range 10000 {
		oneBig.AllowedIPs = append(oneBig.AllowedIPs, netip.PrefixFrom(netip.AddrFrom4([4]byte{10, byte(i >> 8), byte(i), 0}), 24))
	}
	tests := []struct {
		name     string
		cfg      Config
		budget   int
		messages int // 0: don't check
	}{
		{name: "10000 peers x 3 IPs, default budget", cfg: Config{PrivateKey: &testPriv, ReplacePeers: true, Peers: manyPeers(10000)}, budget: DefaultMessageSize, messages: 27},
		{name: "1000 peers x 3 IPs, 4 KiB", cfg: Config{PrivateKey: &testPriv, ReplacePeers: true, Peers: manyPeers(1000)}, budget: 4096},
		{name: "one peer with 10000 IPs, default budget", cfg: Config{ReplacePeers: true, Peers: []PeerConfig{oneBig}}, budget: DefaultMessageSize, messages: 5},
		{name: "one peer with 10000 IPs, minimum budget", cfg: Config{ReplacePeers: true, Peers: []PeerConfig{oneBig}}, budget: MinMessageSize},
		{name: "big peer between small ones", cfg: Config{Peers: append(append(manyPeers(3), oneBig), manyPeers(6)[3:]...)}, budget: 8192},
	}
	// The big peer's key clashes with manyPeers' first; give it its own.
	tests[4].cfg.Peers[3].PublicKey = testKey(99)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeWG(t, "wg0")
			c, rec := f.client(t)
			c.SetMessageSize(tt.budget)
			if err := c.Configure("wg0", tt.cfg); err != nil {
				t.Fatalf("Configure() error = %v", err)
			}
			sets := setRequests(t, rec.Requests())
			if tt.messages != 0 && len(sets) != tt.messages {
				t.Errorf("sent %d messages, want %d", len(sets), tt.messages)
			}
			samePeers(t, checkSplit(t, sets, tt.cfg, tt.budget), tt.cfg.Peers)
			// The fake kernel applied them: read back and compare.
			d, err := c.Device("wg0")
			if err != nil {
				t.Fatalf("Device() error = %v", err)
			}
			if err := Verify(tt.cfg, d); err != nil {
				t.Errorf("Verify() error = %v", err)
			}
		})
	}
}

// TestConfigure_exactFit builds a budget that one peer fills exactly, then
// one byte less, which must cut the peer before its last allowed IP.
func TestConfigure_exactFit(t *testing.T) {
	cfg := Config{PrivateKey: &testPriv, ReplacePeers: true, Peers: manyPeers(2)}
	// Measure the first message with an unlimited budget, minus peer 1.
	one := Config{PrivateKey: &testPriv, ReplacePeers: true, Peers: cfg.Peers[:1]}
	payload, _, err := newSetBuilder("wg0", &one, maxMessageSize, nil).next()
	if err != nil {
		t.Fatal(err)
	}
	exact := nl.HeaderLen + len(payload)

	for _, tt := range []struct {
		name      string
		budget    int
		firstIPs0 int // allowed IPs of peer 0 in message 0
	}{
		{"exact", exact, 3},
		{"one byte short", exact - 1, 2},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeWG(t, "wg0")
			c, rec := f.client(t)
			c.messageSize = tt.budget // may be below MinMessageSize
			if err := c.Configure("wg0", cfg); err != nil {
				t.Fatalf("Configure() error = %v", err)
			}
			sets := setRequests(t, rec.Requests())
			if len(sets) < 2 {
				t.Fatalf("sent %d messages, want peer 1 in a later one", len(sets))
			}
			if tt.firstIPs0 == 3 && sets[0].Len() != exact {
				t.Errorf("first message is %d bytes, want exactly %d", sets[0].Len(), exact)
			}
			_, tree := genlAttrs(t, sets[0])
			peers := find(tree, unix.WGDEVICE_A_PEERS).Kids
			if len(peers) != 1 {
				t.Fatalf("first message has %d peers, want 1", len(peers))
			}
			if n := len(find(peers[0].Kids, unix.WGPEER_A_ALLOWEDIPS).Kids); n != tt.firstIPs0 {
				t.Errorf("first message has %d allowed IPs of peer 0, want %d", n, tt.firstIPs0)
			}
			samePeers(t, checkSplit(t, sets, cfg, tt.budget), cfg.Peers)
		})
	}
}

// TestConfigure_randomSplits reassembles random configurations cut with
// random budgets.
func TestConfigure_randomSplits(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := range 200 {
		n := r.IntN(20)
		peers := manyPeers(n)
		for j := range peers {
			extra := r.IntN(60)
			for k := range extra {
				peers[j].AllowedIPs = append(peers[j].AllowedIPs, netip.PrefixFrom(netip.AddrFrom4([4]byte{172, byte(j), byte(k), 0}), 24))
			}
			if r.IntN(4) == 0 {
				peers[j].PresharedKey = &testPSK
			}
			peers[j].ReplaceAllowedIPs = r.IntN(2) == 0
		}
		cfg := Config{PrivateKey: &testPriv, ReplacePeers: r.IntN(2) == 0, ListenPort: ptr(1), Peers: peers}
		budget := MinMessageSize + r.IntN(4096)
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			f := newFakeWG(t, "wg0")
			c, rec := f.client(t)
			c.SetMessageSize(budget)
			if err := c.Configure("wg0", cfg); err != nil {
				t.Fatalf("Configure() error = %v", err)
			}
			sets := setRequests(t, rec.Requests())
			samePeers(t, checkSplit(t, sets, cfg, budget), cfg.Peers)
			d, err := c.Device("wg0")
			if err != nil {
				t.Fatal(err)
			}
			if err := Verify(cfg, d); err != nil {
				t.Errorf("Verify() error = %v", err)
			}
		})
	}
}

func TestConfigure_invalidSendsNothing(t *testing.T) {
	dup := manyPeers(3)
	dup[2].PublicKey = dup[0].PublicKey
	overlap := manyPeers(3)
	overlap[2].AllowedIPs = append(overlap[2].AllowedIPs, overlap[0].AllowedIPs[1])
	tests := []struct {
		name   string
		ifname string
		cfg    Config
	}{
		{"bad ifname", "this-name-is-too-long", Config{}},
		{"listen port", "wg0", Config{ListenPort: ptr(65536)}},
		{"zero public key", "wg0", Config{Peers: []PeerConfig{{}}}},
		{"duplicate peer", "wg0", Config{Peers: dup}},
		{"prefix on two peers", "wg0", Config{Peers: overlap}},
		{"prefix twice", "wg0", Config{Peers: []PeerConfig{{PublicKey: testKey(1), AllowedIPs: []netip.Prefix{mustPrefix("10.0.0.1/24"), mustPrefix("10.0.0.0/24")}}}}},
		{"invalid prefix", "wg0", Config{Peers: []PeerConfig{{PublicKey: testKey(1), AllowedIPs: []netip.Prefix{{}}}}}},
		{"keepalive range", "wg0", Config{Peers: []PeerConfig{{PublicKey: testKey(1), PersistentKeepalive: ptr(65536 * time.Second)}}}},
		{"keepalive fraction", "wg0", Config{Peers: []PeerConfig{{PublicKey: testKey(1), PersistentKeepalive: ptr(1500 * time.Millisecond)}}}},
		{"endpoint port 0", "wg0", Config{Peers: []PeerConfig{{PublicKey: testKey(1), Endpoint: netip.MustParseAddrPort("192.0.2.1:0")}}}},
		{"endpoint zone", "wg0", Config{Peers: []PeerConfig{{PublicKey: testKey(1), Endpoint: netip.MustParseAddrPort("[fe80::1%a/b]:1")}}}},
		{"remove with settings", "wg0", Config{Peers: []PeerConfig{{PublicKey: testKey(1), Remove: true, AllowedIPs: []netip.Prefix{mustPrefix("10.0.0.0/8")}}}}},
		{"last of many peers", "wg0", Config{Peers: append(manyPeers(5000), PeerConfig{})}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeWG(t, "wg0")
			c, rec := f.client(t)
			err := c.Configure(tt.ifname, tt.cfg)
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("Configure() error = %v, want ErrInvalid", err)
			}
			var fe *FieldError
			if !errors.As(err, &fe) || fe.Field == "" {
				t.Errorf("Configure() error = %v, want a *FieldError naming the field", err)
			}
			if n := len(setRequests(t, rec.Requests())); n != 0 {
				t.Errorf("sent %d SET messages for an invalid config, want 0", n)
			}
		})
	}
}

func TestConfigure_unresolvableZoneSendsNothing(t *testing.T) {
	f := newFakeWG(t, "wg0")
	c, rec := f.client(t)
	cfg := Config{Peers: []PeerConfig{{PublicKey: testKey(1), Endpoint: netip.MustParseAddrPort("[fe80::1%nosuchif0]:1")}}}
	if err := c.Configure("wg0", cfg); err == nil {
		t.Fatal("Configure() error = nil, want an error for an unknown zone interface")
	}
	if n := len(setRequests(t, rec.Requests())); n != 0 {
		t.Errorf("sent %d SET messages, want 0", n)
	}
}

func TestConfigure_kernelError(t *testing.T) {
	f := newFakeWG(t, "wg0")
	f.failSet = 2
	c, _ := f.client(t)
	c.SetMessageSize(4096)
	err := c.Configure("wg0", Config{Peers: manyPeers(200)})
	if !errors.Is(err, unix.EINVAL) {
		t.Fatalf("Configure() error = %v, want EINVAL", err)
	}
	if !strings.Contains(err.Error(), "message 2 ") || !strings.Contains(err.Error(), "earlier messages stay applied") {
		t.Errorf("Configure() error = %q, want it to name message 2 and the partial state", err)
	}
	var nerr *nl.Error
	if !errors.As(err, &nerr) || nerr.Message != "injected failure" {
		t.Errorf("Configure() error = %v, want the kernel's extended ACK text", err)
	}
}

func TestConfigure_noDevice(t *testing.T) {
	f := newFakeWG(t, "wg0")
	c, _ := f.client(t)
	if err := c.Configure("wg1", Config{}); !errors.Is(err, unix.ENODEV) {
		t.Errorf("Configure(wg1) error = %v, want ENODEV", err)
	}
	if _, err := c.Device("wg1"); !errors.Is(err, unix.ENODEV) {
		t.Errorf("Device(wg1) error = %v, want ENODEV", err)
	}
}

func TestNewClient_notLoaded(t *testing.T) {
	conn := nltest.Dial(nltest.ServeFamily("nlctrl-only", 0x10, nil))
	_, err := NewClient(conn)
	if !errors.Is(err, ErrNotLoaded) || !errors.Is(err, unix.ENOENT) {
		t.Fatalf("NewClient() error = %v, want ErrNotLoaded wrapping ENOENT", err)
	}
	// The text is what an operator reads on the console.
	if !strings.HasPrefix(err.Error(), "wireguard module not loaded") {
		t.Errorf("NewClient() error = %q, want it to start with %q", err, "wireguard module not loaded")
	}
}

func TestSetMessageSize(t *testing.T) {
	c := &Client{}
	for _, tt := range []struct{ in, want int }{{0, DefaultMessageSize}, {-1, DefaultMessageSize}, {1, MinMessageSize}, {1 << 20, 65535}, {4096, 4096}} {
		c.SetMessageSize(tt.in)
		if c.messageSize != tt.want {
			t.Errorf("SetMessageSize(%d) = %d, want %d", tt.in, c.messageSize, tt.want)
		}
	}
}

// TestMinMessageSize checks that the largest possible peer fragment fits
// in MinMessageSize after the largest device header.
func TestMinMessageSize(t *testing.T) {
	cfg := Config{PrivateKey: &testPriv, ListenPort: ptr(1), FirewallMark: ptr(uint32(1)), ReplacePeers: true,
		Peers: []PeerConfig{{PublicKey: testKey(1), PresharedKey: &testPSK, Endpoint: netip.MustParseAddrPort("[2001:db8::1]:1"),
			PersistentKeepalive: ptr(time.Second), ReplaceAllowedIPs: true, UpdateOnly: true,
			AllowedIPs: []netip.Prefix{mustPrefix("2001:db8::/32"), mustPrefix("2001:db9::/32")}}}}
	b := newSetBuilder("fifteen-bytes-x", &cfg, MinMessageSize, nil)
	payload, rng, err := b.next()
	if err != nil || rng.count != 1 {
		t.Fatalf("next() = %d peers, %v; want the peer in the first message", rng.count, err)
	}
	// With the second IP the fragment is 40 bytes longer.
	if l := nl.HeaderLen + len(payload) - 40; l > 280 {
		t.Errorf("largest first message with one allowed IP is %d bytes, more than expected", l)
	}
}

func TestAllowedIPLen(t *testing.T) {
	for _, p := range []string{"10.0.0.0/8", "::/0", "::ffff:10.0.0.1/128"} {
		var ae nl.AttrEncoder
		appendAllowedIP(&ae, nil, mustPrefix(p))
		if ae.Len() != allowedIPLen(mustPrefix(p)) {
			t.Errorf("allowedIPLen(%s) = %d, encoded %d", p, allowedIPLen(mustPrefix(p)), ae.Len())
		}
	}
}

// TestConfigure_secretsNotLogged checks that keys stay out of errors and
// formatted configs.
func TestConfigure_secretsNotLogged(t *testing.T) {
	cfg := fullConfig()
	cfg.ListenPort = ptr(-1)
	err := Validate(cfg)
	text := fmt.Sprintf("%v %+v %#v", err, cfg, cfg)
	for _, secret := range []string{testPriv.Reveal(), testPSK.Reveal()} {
		if strings.Contains(text, secret) {
			t.Errorf("secret key printed: %s", text)
		}
	}
}

// BenchmarkBuild10k measures building the SET messages for 10,000 peers
// with three allowed IPs each, validation included.
func BenchmarkBuild10k(b *testing.B) {
	cfg := Config{PrivateKey: &testPriv, ReplacePeers: true, Peers: manyPeers(10000)}
	b.ReportAllocs()
	for b.Loop() {
		if err := Validate(cfg); err != nil {
			b.Fatal(err)
		}
		sb := newSetBuilder("wg0", &cfg, DefaultMessageSize, nil)
		for !sb.done() {
			if _, _, err := sb.next(); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// TestSetBuilder_payloadReused: the messages of a large configuration are
// built in one array (two if a later message is larger than the first),
// not one each, and each is still whole when next returns.
func TestSetBuilder_payloadReused(t *testing.T) {
	cfg := Config{PrivateKey: &testPriv, ReplacePeers: true, Peers: manyPeers(2000)}
	b := newSetBuilder("wg0", &cfg, DefaultMessageSize, nil)
	arrays := map[*byte]bool{}
	peers := 0
	for n := 0; !b.done(); n++ {
		payload, rng, err := b.next()
		if err != nil {
			t.Fatal(err)
		}
		if _, tree := genlAttrs(t, nl.Message{Data: payload}); find(tree, unix.WGDEVICE_A_IFNAME) == nil {
			t.Fatalf("message %d: no WGDEVICE_A_IFNAME", n+1)
		}
		arrays[&payload[:1][0]] = true
		peers += rng.count
		clear(payload) // as Configure does once it is sent
	}
	if peers != 2000 || len(arrays) > 2 {
		t.Errorf("%d peers in messages built in %d arrays, want 2000 in at most 2", peers, len(arrays))
	}
}
