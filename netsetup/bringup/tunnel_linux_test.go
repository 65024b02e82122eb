package bringup

import (
	"errors"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/wgboot/wgboot/board"
	"github.com/wgboot/wgboot/internal/wgkey"
	"github.com/wgboot/wgboot/netsetup"
	"github.com/wgboot/wgboot/netsetup/wg"
)

func testKey(b byte) wgkey.PrivateKey {
	var k [wgkey.Len]byte
	for i := range k {
		k[i] = b + byte(i)
	}
	return wgkey.PrivateKeyFromBytes(k)
}

// testTunnel is a client tunnel with two peers, one with a preshared key.
func testTunnel() *board.Tunnel {
	return &board.Tunnel{
		Name:       "wg0",
		PrivateKey: testKey(1),
		ListenPort: 51820,
		MTU:        1380,
		Address:    []netip.Prefix{netip.MustParsePrefix("10.8.0.2/24"), netip.MustParsePrefix("fd00:8::2/64")},
		Table:      board.TableMain,
		Peers: []board.Peer{
			{
				PublicKey:           testKey(2).PublicKey(),
				PresharedKey:        wgkey.PresharedKeyFromBytes([wgkey.Len]byte{9, 9, 9}),
				Endpoint:            netip.MustParseAddrPort("192.0.2.1:51820"),
				AllowedIPs:          []netip.Prefix{netip.MustParsePrefix("10.8.0.0/24"), netip.MustParsePrefix("fd00:8::/64")},
				PersistentKeepalive: 25,
			},
			{
				PublicKey:  testKey(3).PublicKey(),
				AllowedIPs: []netip.Prefix{netip.MustParsePrefix("10.9.0.0/16")},
			},
		},
	}
}

func TestTunnelUp(t *testing.T) {
	k := newFakeKernel(t, fakeLink{name: "eth0", up: true, mtu: 1500})
	n := k.net(t)
	tun := testTunnel()
	psk := tun.Peers[0].PresharedKey

	res, err := n.TunnelUp(tun)
	if err != nil {
		t.Fatalf("TunnelUp() error = %v", err)
	}
	want := []string{
		"create link wg0 kind wireguard",
		"set device wg0: private key true, 2 peer(s), 1 preshared key(s)",
		"mtu 1380 on wg0",
		"address 10.8.0.2/24 on 2",
		"address fd00:8::2/64 on 2",
		"up=true on wg0",
		"route 10.8.0.0/24 dev 2 table 254",
		"route fd00:8::/64 dev 2 table 254",
		"route 10.9.0.0/16 dev 2 table 254",
	}
	if !slices.Equal(k.ops, want) {
		t.Errorf("kernel operations:\n%s\nwant:\n%s", strings.Join(k.ops, "\n"), strings.Join(want, "\n"))
	}
	// The public key is not derived: it was not known, and the kernel
	// derives it (Verify reads it back).
	if res.Name != "wg0" || res.Index != 2 || !res.PublicKey.IsZero() || res.Peers != 2 || res.ListenPort != 51820 {
		t.Errorf("TunnelUp() = %+v", res)
	}
	if !tun.PrivateKey.IsZero() || !psk.IsZero() || !tun.Peers[0].PresharedKey.IsZero() {
		t.Error("keys not zeroed after TunnelUp")
	}
	if res.Expect.PrivateKey != nil {
		t.Error("the expectation keeps a private key")
	}
	if p := res.Expect.Peers[0].PresharedKey; p == nil || p.IsZero() {
		t.Error("the expectation lost that peer 0 has a preshared key")
	}
	if res.Expect.Peers[1].PresharedKey != nil {
		t.Error("the expectation has a preshared key for peer 1")
	}
}

// TestTunnelUpFailureUndoes: a route the kernel refuses fails the tunnel,
// names the route and the kernel's message, and the link goes again.
func TestTunnelUpFailureUndoes(t *testing.T) {
	for _, tc := range []struct {
		name    string
		break_  func(*fakeKernel)
		wantErr string
	}{
		{"route", func(k *fakeKernel) { k.failRoute = netip.MustParsePrefix("10.9.0.0/16") }, "10.9.0.0/16"},
		{"set device", func(k *fakeKernel) { k.failSet = true }, "Invalid argument"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			k := newFakeKernel(t)
			tc.break_(k)
			tun := testTunnel()
			psk := tun.Peers[0].PresharedKey
			_, err := k.net(t).TunnelUp(tun)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("TunnelUp() error = %v, want one naming %q", err, tc.wantErr)
			}
			if !errors.Is(err, unix.EINVAL) {
				t.Errorf("error %v does not wrap EINVAL", err)
			}
			if _, l := k.byName("wg0"); l != nil {
				t.Error("wg0 left behind after a failed bring-up")
			}
			if k.ops[len(k.ops)-1] != "delete link wg0" {
				t.Errorf("last operation %q, want the link deleted", k.ops[len(k.ops)-1])
			}
			if !tun.PrivateKey.IsZero() || !psk.IsZero() {
				t.Error("keys not zeroed after a failed TunnelUp")
			}
		})
	}
}

// TestTunnelUpStaleLink: a wireguard link of the same name is emptied,
// deleted and created anew.
func TestTunnelUpStaleLink(t *testing.T) {
	k := newFakeKernel(t, fakeLink{name: "wg0", kind: "wireguard", up: true})
	if _, err := k.net(t).TunnelUp(testTunnel()); err != nil {
		t.Fatalf("TunnelUp() error = %v", err)
	}
	want := []string{
		"set device wg0: private key false, 0 peer(s), 0 preshared key(s)",
		"delete link wg0",
		"create link wg0 kind wireguard",
	}
	if !slices.Equal(k.ops[:3], want) {
		t.Errorf("first operations:\n%s\nwant:\n%s", strings.Join(k.ops[:3], "\n"), strings.Join(want, "\n"))
	}
}

// TestTunnelUpForeignLink: a link of another kind with the tunnel's name is
// not touched.
func TestTunnelUpForeignLink(t *testing.T) {
	k := newFakeKernel(t, fakeLink{name: "wg0", kind: "dummy"})
	tun := testTunnel()
	if _, err := k.net(t).TunnelUp(tun); err == nil || !strings.Contains(err.Error(), `kind "dummy"`) {
		t.Fatalf("TunnelUp() error = %v, want one about the link's kind", err)
	}
	if len(k.ops) != 0 {
		t.Errorf("kernel changed: %q", k.ops)
	}
	if !tun.PrivateKey.IsZero() {
		t.Error("private key not zeroed")
	}
}

func TestTableOffAddsNoRoutes(t *testing.T) {
	k := newFakeKernel(t)
	tun := testTunnel()
	tun.Table = board.TableOff
	if _, err := k.net(t).TunnelUp(tun); err != nil {
		t.Fatal(err)
	}
	if len(k.routes) != 0 {
		t.Errorf("routes added with table off: %v", k.routes)
	}
}

func TestRules(t *testing.T) {
	full := testTunnel()
	full.Table, full.FwMark = 51820, 51820
	rules := Rules(full)
	want := []netsetup.Rule{
		{Family: unix.AF_INET, Table: 51820, Mark: 51820, Invert: true},
		{Family: unix.AF_INET, Table: unix.RT_TABLE_MAIN, SuppressPrefixLen: new(0)},
		{Family: unix.AF_INET6, Table: 51820, Mark: 51820, Invert: true},
		{Family: unix.AF_INET6, Table: unix.RT_TABLE_MAIN, SuppressPrefixLen: new(0)},
	}
	if len(rules) != len(want) {
		t.Fatalf("Rules() = %v, want %v", rules, want)
	}
	for i := range want {
		if rules[i].String() != want[i].String() || rules[i].Family != want[i].Family {
			t.Errorf("rule %d = %v (family %d), want %v (family %d)", i, rules[i], rules[i].Family, want[i], want[i].Family)
		}
	}
	k := newFakeKernel(t)
	if _, err := k.net(t).TunnelUp(full); err != nil {
		t.Fatal(err)
	}
	if k.rules != 4 {
		t.Errorf("%d rules added, want 4", k.rules)
	}
	for _, tc := range []struct {
		table board.Table
		mark  uint32
	}{{board.TableMain, 51820}, {board.TableOff, 51820}, {51820, 0}} {
		tun := testTunnel()
		tun.Table, tun.FwMark = tc.table, tc.mark
		if r := Rules(tun); r != nil {
			t.Errorf("table %d fwmark %d: Rules() = %v, want none", tc.table, tc.mark, r)
		}
	}
}

func TestDeviceConfig(t *testing.T) {
	tun := testTunnel()
	cfg := DeviceConfig(tun)
	if err := wg.Validate(cfg); err != nil {
		t.Fatalf("Validate(DeviceConfig()) = %v", err)
	}
	if !cfg.ReplacePeers || *cfg.ListenPort != 51820 || len(cfg.Peers) != 2 {
		t.Errorf("DeviceConfig() = %+v", cfg)
	}
	if p := cfg.Peers[0]; !p.ReplaceAllowedIPs || p.PresharedKey == nil || p.PersistentKeepalive.Seconds() != 25 {
		t.Errorf("peer 0 = %+v", p)
	}
	if p := cfg.Peers[1]; p.PresharedKey != nil || *p.PersistentKeepalive != 0 {
		t.Errorf("peer 1 = %+v", p)
	}
	// The configuration shares the keys: zeroing it zeroes the profile's.
	cfg.PrivateKey.Zero()
	if !tun.PrivateKey.IsZero() {
		t.Error("DeviceConfig copied the private key's material")
	}
}

func TestKickTarget(t *testing.T) {
	for _, tc := range []struct {
		allowed string
		want    string
	}{
		{"10.8.0.0/24", "10.8.0.1"},
		{"10.8.0.7/32", "10.8.0.7"},
		{"10.8.0.9/24", "10.8.0.1"},
		{"fd00:8::/64", "fd00:8::1"},
		{"fd00:8::5/128", "fd00:8::5"},
		{"0.0.0.0/0", "192.0.2.1"},
		{"::/0", "2001:db8::1"},
		{"0.0.0.0/1", "64.0.0.1"},
		{"128.0.0.0/1", "128.0.0.1"},
		{"::/1", "2001:db8::1"},
		{"::/128", "::"},
		{"::1/128", "::1"},
	} {
		got, ok := kickTarget([]netip.Prefix{netip.MustParsePrefix(tc.allowed)})
		if !ok || got.String() != tc.want {
			t.Errorf("kickTarget(%s) = %v, %v; want %s", tc.allowed, got, ok, tc.want)
		}
	}
	if _, ok := kickTarget(nil); ok {
		t.Error("kickTarget(nil) found a target")
	}
}

// TestKickIPv6 is the regression test for the handshake gate's panic on a
// peer whose first allowed IP is IPv6: "As4 called on IPv6 address".
func TestKickIPv6(t *testing.T) {
	for _, p := range []string{"fd00:8::/64", "::/0", "2001:db8::7/128"} {
		Kick("wgboot-none0", []netip.Prefix{netip.MustParsePrefix(p)})
	}
}

// TestVerifyPublicKey: Verify takes the device's public key from the
// kernel when TunnelUp did not know it, checks it when it did, and fails
// on a device without a key.
func TestVerifyPublicKey(t *testing.T) {
	pub := testKey(1).PublicKey()
	other := testKey(9).PublicKey()
	tests := []struct {
		name   string
		known  wgkey.Key // Tunnel.PublicKey
		kernel wgkey.Key // the device's, zero: no key reported
		ok     bool
	}{
		{"unknown: the kernel's", wgkey.Key{}, pub, true},
		{"known, the same", pub, pub, true},
		{"known, another", other, pub, false},
		{"no key on the device", wgkey.Key{}, wgkey.Key{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k := newFakeKernel(t, fakeLink{name: "eth0", up: true, mtu: 1500})
			k.dumpKeys = true
			n := k.net(t)
			tun := testTunnel()
			tun.PrivateKey = testKey(1)
			res, err := n.TunnelUp(tun)
			if err != nil {
				t.Fatalf("TunnelUp() error = %v", err)
			}
			k.devices["wg0"].pub = tt.kernel
			res.PublicKey = tt.known
			// The fake models keys and peers, not every field of a
			// device: only the public key is compared here.
			res.Expect = wg.Config{}
			dev, err := n.Verify(res)
			if (err == nil) != tt.ok {
				t.Fatalf("Verify() = %v, want ok %v", err, tt.ok)
			}
			if err == nil && dev.PublicKey != pub {
				t.Errorf("Verify() public key %s, want the kernel's %s", dev.PublicKey, pub)
			}
		})
	}
}
