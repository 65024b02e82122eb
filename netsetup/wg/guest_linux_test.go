package wg

import (
	"context"
	"encoding/binary"
	"errors"
	"net/netip"
	"os"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/wgboot/wgboot/internal/wgkey"
	"github.com/wgboot/wgboot/netsetup/internal/nl"
)

// The TestGuest* tests run against the real kernel inside a QEMU guest
// (TestE2EGuest boots them with image/testinit, which loads the wireguard
// module and sets WGBOOT_IN_GUEST=1). They create their own links.

func guestClient(t *testing.T) *Client {
	t.Helper()
	if os.Getenv("WGBOOT_IN_GUEST") != "1" {
		t.Skip("needs the wireguard module and root in a throwaway kernel: runs inside QEMU via TestE2EGuest")
	}
	c, err := Open()
	if err != nil {
		t.Fatalf("Open() error = %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// rtnl runs one rtnetlink request that expects an ACK.
func rtnl(t *testing.T, typ, flags uint16, ifi unix.IfInfomsg, fn func(*nl.AttrEncoder)) error {
	t.Helper()
	conn, err := nl.Dial(unix.NETLINK_ROUTE)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fixed := make([]byte, unix.SizeofIfInfomsg)
	fixed[0] = ifi.Family
	nlNative.PutUint32(fixed[4:], uint32(ifi.Index))
	nlNative.PutUint32(fixed[8:], ifi.Flags)
	nlNative.PutUint32(fixed[12:], ifi.Change)
	var ae nl.AttrEncoder
	if fn != nil {
		fn(&ae)
	}
	data, err := nl.Payload(fixed, &ae)
	if err != nil {
		t.Fatal(err)
	}
	_, err = conn.Execute(nl.Message{Header: nl.Header{Type: typ, Flags: flags | unix.NLM_F_ACK}, Data: data}, "rtnetlink")
	return err
}

// newLink creates a wireguard link with a minimal RTM_NEWLINK and deletes
// it when the test ends. (The rtnetlink package is written separately;
// this helper stays in the test.)
func newLink(t *testing.T, name string) {
	t.Helper()
	err := rtnl(t, unix.RTM_NEWLINK, unix.NLM_F_CREATE|unix.NLM_F_EXCL, unix.IfInfomsg{}, func(ae *nl.AttrEncoder) {
		ae.String(unix.IFLA_IFNAME, name)
		ae.Nested(unix.IFLA_LINKINFO, func(li *nl.AttrEncoder) error {
			li.String(unix.IFLA_INFO_KIND, "wireguard")
			return nil
		})
	})
	if err != nil {
		t.Fatalf("create wireguard link %s: %v", name, err)
	}
	t.Cleanup(func() {
		// Deleting a link with 10,000 peers takes minutes under TCG; removing
		// them with REPLACE_PEERS first takes a second.
		start := time.Now()
		if c, err := Open(); err == nil {
			if err := c.Configure(name, Config{ReplacePeers: true}); err != nil {
				t.Errorf("remove peers of %s: %v", name, err)
			}
			c.Close()
		}
		removed := time.Since(start)
		if err := rtnl(t, unix.RTM_DELLINK, 0, unix.IfInfomsg{}, func(ae *nl.AttrEncoder) { ae.String(unix.IFLA_IFNAME, name) }); err != nil {
			t.Errorf("delete link %s: %v", name, err)
		}
		if d := time.Since(start); d > time.Second {
			t.Logf("%s: peers removed in %v, link deleted in %v", name, removed.Round(time.Millisecond), (d - removed).Round(time.Millisecond))
		}
	})
}

// linkUp sets IFF_UP on a link.
func linkUp(t *testing.T, name string) {
	t.Helper()
	idx, err := ifindex(name)
	if err != nil {
		t.Fatal(err)
	}
	if err := rtnl(t, unix.RTM_NEWLINK, 0, unix.IfInfomsg{Index: int32(idx), Flags: unix.IFF_UP, Change: unix.IFF_UP}, nil); err != nil {
		t.Fatalf("set %s up: %v", name, err)
	}
}

func configureAndVerify(t *testing.T, c *Client, ifname string, cfg Config) *Device {
	t.Helper()
	start := time.Now()
	if err := c.Configure(ifname, cfg); err != nil {
		t.Fatalf("Configure() error = %v", err)
	}
	configured := time.Since(start)
	d, err := c.Device(ifname)
	if err != nil {
		t.Fatalf("Device() error = %v", err)
	}
	t.Logf("%s: %d peers configured in %v, read back in %v", ifname, len(cfg.Peers), configured.Round(time.Millisecond),
		(time.Since(start) - configured).Round(time.Millisecond))
	if err := Verify(cfg, d); err != nil {
		t.Fatalf("Verify() error = %v", err)
	}
	return d
}

func genKey(t *testing.T) wgkey.PrivateKey {
	t.Helper()
	k, err := wgkey.GeneratePrivateKey()
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestGuestOnePeer(t *testing.T) {
	c := guestClient(t)
	newLink(t, "wgone")
	priv := genKey(t)
	psk := testPSK
	cfg := Config{
		PrivateKey: &priv, ListenPort: ptr(51820), FirewallMark: ptr(uint32(0x42)), ReplacePeers: true,
		Peers: []PeerConfig{
			{
				PublicKey: testKey(1), PresharedKey: &psk, Endpoint: netip.MustParseAddrPort("192.0.2.1:51820"),
				PersistentKeepalive: ptr(25 * time.Second), ReplaceAllowedIPs: true,
				AllowedIPs: []netip.Prefix{mustPrefix("10.0.0.1/32"), mustPrefix("fd00::1/128"), mustPrefix("10.9.8.7/16")},
			},
			{PublicKey: testKey(2), Endpoint: netip.MustParseAddrPort("[2001:db8::1]:51821"), AllowedIPs: []netip.Prefix{mustPrefix("10.0.0.2/32")}},
			{PublicKey: testKey(3), Endpoint: netip.MustParseAddrPort("[fe80::1%lo]:51822")},
		},
	}
	d := configureAndVerify(t, c, "wgone", cfg)
	t.Logf("device %s index %d public key %s", d.Name, d.Index, d.PublicKey)
	if d.Name != "wgone" || d.PublicKey != priv.PublicKey() || !d.HasPrivateKey || d.ListenPort != 51820 || d.FirewallMark != 0x42 {
		t.Errorf("Device() = %+v", d)
	}
	if len(d.Peers) != 3 {
		t.Fatalf("Device() has %d peers, want 3", len(d.Peers))
	}
	p := d.Peers[0]
	if !p.HasPresharedKey || p.PersistentKeepalive != 25*time.Second || p.ProtocolVersion != 1 || !p.LastHandshake.IsZero() {
		t.Errorf("peer 0 = %+v", p)
	}
	if ep := d.Peers[2].Endpoint; ep != netip.MustParseAddrPort("[fe80::1%1]:51822") {
		t.Errorf("link-local endpoint read back as %v, want scope 1 (lo)", ep)
	}
	if d.Peers[1].HasPresharedKey {
		t.Error("peer 1 has a preshared key, want none")
	}

	// Removing the private key and the PSK with zero keys.
	var zeroPriv wgkey.PrivateKey
	var zeroPSK wgkey.PresharedKey
	configureAndVerify(t, c, "wgone", Config{PrivateKey: &zeroPriv, Peers: []PeerConfig{{PublicKey: testKey(1), PresharedKey: &zeroPSK, UpdateOnly: true}}})
}

func TestGuestTenThousandPeers(t *testing.T) {
	c := guestClient(t)
	newLink(t, "wgmany")
	priv := genKey(t)
	cfg := Config{PrivateKey: &priv, ListenPort: ptr(51830), ReplacePeers: true, Peers: manyPeers(10000)}
	d := configureAndVerify(t, c, "wgmany", cfg)
	if len(d.Peers) != 10000 {
		t.Errorf("Device() has %d peers, want 10000", len(d.Peers))
	}
	// Again, replacing every peer: the same state.
	configureAndVerify(t, c, "wgmany", cfg)
}

func TestGuestSplitPeers(t *testing.T) {
	c := guestClient(t)
	newLink(t, "wgsplit")
	big := PeerConfig{PublicKey: testKey(50000), ReplaceAllowedIPs: true, PresharedKey: &testPSK}
	for i := range 10000 {
		big.AllowedIPs = append(big.AllowedIPs, netip.PrefixFrom(netip.AddrFrom4([4]byte{172, 16 + byte(i>>8), byte(i), 0}), 24))
	}
	cfg := Config{ReplacePeers: true, Peers: append(manyPeers(300), big)}
	c.SetMessageSize(4096)
	defer c.SetMessageSize(0)
	d := configureAndVerify(t, c, "wgsplit", cfg)
	if n := len(d.Peers[300].AllowedIPs); n != 10000 {
		t.Errorf("big peer has %d allowed IPs, want 10000", n)
	}
}

func TestGuestReplaceAndRemove(t *testing.T) {
	c := guestClient(t)
	newLink(t, "wgrepl")
	configureAndVerify(t, c, "wgrepl", Config{ReplacePeers: true, Peers: manyPeers(3)})

	// REPLACE_PEERS keeps only the new list.
	next := manyPeers(5)[3:]
	d := configureAndVerify(t, c, "wgrepl", Config{ReplacePeers: true, Peers: next})
	if len(d.Peers) != 2 || d.Peers[0].PublicKey != next[0].PublicKey {
		t.Errorf("after REPLACE_PEERS: %d peers, want the 2 new ones", len(d.Peers))
	}

	// REMOVE_ME removes; UPDATE_ONLY changes an existing peer and does not
	// create a missing one.
	d = configureAndVerify(t, c, "wgrepl", Config{Peers: []PeerConfig{
		{PublicKey: next[0].PublicKey, Remove: true},
		{PublicKey: next[1].PublicKey, UpdateOnly: true, PersistentKeepalive: ptr(7 * time.Second)},
		{PublicKey: testKey(12345), UpdateOnly: true, AllowedIPs: []netip.Prefix{mustPrefix("192.168.77.0/24")}},
	}})
	if len(d.Peers) != 1 || d.Peers[0].PublicKey != next[1].PublicKey || d.Peers[0].PersistentKeepalive != 7*time.Second {
		t.Errorf("after remove/update-only: %+v", d.Peers)
	}

	// REPLACE_ALLOWEDIPS replaces, its absence adds.
	k := next[1].PublicKey
	configureAndVerify(t, c, "wgrepl", Config{Peers: []PeerConfig{{PublicKey: k, ReplaceAllowedIPs: true, AllowedIPs: []netip.Prefix{mustPrefix("10.1.0.0/16")}}}})
	d = configureAndVerify(t, c, "wgrepl", Config{Peers: []PeerConfig{{PublicKey: k, AllowedIPs: []netip.Prefix{mustPrefix("10.2.0.0/16")}}}})
	if got := len(d.Peers[0].AllowedIPs); got != 2 {
		t.Errorf("after adding an allowed IP: %d, want 2", got)
	}
}

func TestGuestSelfPeerIgnored(t *testing.T) {
	c := guestClient(t)
	newLink(t, "wgself")
	priv := genKey(t)
	cfg := Config{PrivateKey: &priv, ReplacePeers: true, Peers: []PeerConfig{{PublicKey: priv.PublicKey(), AllowedIPs: []netip.Prefix{mustPrefix("10.0.0.0/8")}}}}
	d := configureAndVerify(t, c, "wgself", cfg)
	if len(d.Peers) != 0 {
		t.Errorf("the kernel kept a peer with the device's own key: %+v", d.Peers)
	}
}

func TestGuestInvalidRejectedBeforeSending(t *testing.T) {
	c := guestClient(t)
	newLink(t, "wginval")
	good := Config{ReplacePeers: true, Peers: manyPeers(2)}
	configureAndVerify(t, c, "wginval", good)

	// A large replacement whose last peer is invalid: if anything were
	// sent, REPLACE_PEERS in the first message would drop the old peers.
	bad := Config{ReplacePeers: true, Peers: append(manyPeers(5000)[2:], PeerConfig{PublicKey: testKey(77777), AllowedIPs: []netip.Prefix{{}}})}
	if err := c.Configure("wginval", bad); !errors.Is(err, ErrInvalid) {
		t.Fatalf("Configure(invalid) error = %v, want ErrInvalid", err)
	}
	d, err := c.Device("wginval")
	if err != nil {
		t.Fatal(err)
	}
	if err := Verify(good, d); err != nil {
		t.Errorf("device changed by a rejected configuration: %v", err)
	}
}

func TestGuestNoSuchDevice(t *testing.T) {
	c := guestClient(t)
	if err := c.Configure("wgnone", Config{}); !errors.Is(err, unix.ENODEV) {
		t.Errorf("Configure(missing link) error = %v, want ENODEV", err)
	}
	if _, err := c.Device("lo"); !errors.Is(err, unix.EOPNOTSUPP) {
		t.Errorf("Device(lo) error = %v, want EOPNOTSUPP (not a wireguard link)", err)
	}
}

// TestGuestHandshake connects two wireguard links over the loopback and
// waits for both to complete a handshake.
func TestGuestHandshake(t *testing.T) {
	c := guestClient(t)
	linkUp(t, "lo")
	newLink(t, "wga")
	newLink(t, "wgb")
	a, b := genKey(t), genKey(t)
	since := time.Now()
	configureAndVerify(t, c, "wga", Config{PrivateKey: &a, ListenPort: ptr(51901), Peers: []PeerConfig{{
		PublicKey: b.PublicKey(), Endpoint: netip.MustParseAddrPort("127.0.0.1:51902"), PersistentKeepalive: ptr(time.Second),
		AllowedIPs: []netip.Prefix{mustPrefix("10.99.0.2/32")},
	}}})
	configureAndVerify(t, c, "wgb", Config{PrivateKey: &b, ListenPort: ptr(51902), Peers: []PeerConfig{{
		PublicKey: a.PublicKey(), Endpoint: netip.MustParseAddrPort("[::ffff:127.0.0.1]:51901"),
		AllowedIPs: []netip.Prefix{mustPrefix("10.99.0.1/32")},
	}}})
	linkUp(t, "wgb")
	linkUp(t, "wga")
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	for _, side := range []struct {
		link string
		peer wgkey.Key
	}{{"wga", b.PublicKey()}, {"wgb", a.PublicKey()}} {
		got, err := c.WaitHandshake(ctx, side.link, since, []wgkey.Key{side.peer})
		if err != nil {
			t.Fatalf("WaitHandshake(%s) error = %v", side.link, err)
		}
		t.Logf("%s: handshake with %s after %v", side.link, side.peer, got[side.peer].Sub(since).Round(time.Millisecond))
	}
	d, err := c.Device("wga")
	if err != nil {
		t.Fatal(err)
	}
	if p := d.Peers[0]; p.RxBytes == 0 || p.TxBytes == 0 {
		t.Errorf("after a handshake, rx %d tx %d bytes, want both > 0", p.RxBytes, p.TxBytes)
	}
}

var nlNative = binary.NativeEndian
