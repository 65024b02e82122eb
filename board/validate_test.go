package board

import (
	"cmp"
	"errors"
	"net/netip"
	"testing"
	"time"

	"github.com/wgboot/wgboot/internal/krule/kruletest"
	"github.com/wgboot/wgboot/internal/wgkey"
)

// baseProfile returns a valid profile built in code, as import builds one.
func baseProfile(t *testing.T) *Profile {
	t.Helper()
	priv, err := wgkey.ParsePrivateKey(testPrivate)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := wgkey.ParseKey(peerPublic)
	if err != nil {
		t.Fatal(err)
	}
	p := newProfile()
	p.Board.Name = "code"
	p.Uplink.Interface = "eth0"
	p.Uplink.Address = []netip.Prefix{netip.MustParsePrefix("192.0.2.2/24")}
	p.Uplink.Gateway = []netip.Addr{netip.MustParseAddr("192.0.2.1")}
	tun := newTunnel()
	tun.Name = "wg0"
	tun.PrivateKey = priv
	tun.Address = []netip.Prefix{netip.MustParsePrefix("10.9.0.2/24")}
	tun.Peers = []Peer{{PublicKey: pub, AllowedIPs: []netip.Prefix{netip.MustParsePrefix("10.9.0.0/24")}}}
	p.Tunnels = []Tunnel{tun}
	return p
}

func TestValidate_code(t *testing.T) {
	tests := []struct {
		name   string
		modify func(p *Profile)
		path   string // of the one diagnostic expected; "" for none
		kind   error
	}{
		{"valid", func(p *Profile) {}, "", nil},
		{"no positions needed", func(p *Profile) { p.Tunnels[0].MTU = 0 }, "tunnel[0].mtu", ErrRange},
		{"bad on_failure", func(p *Profile) { p.Handoff.OnFailure = "explode" }, "handoff.on_failure", ErrInvalid},
		{"zero deadline", func(p *Profile) { p.Handoff.Deadline = 0 }, "handoff.deadline", ErrRange},
		{"relative init", func(p *Profile) { p.Handoff.Init = "sbin/init" }, "handoff.init", ErrInvalid},
		{"root not a device", func(p *Profile) { p.Handoff.Root, p.Handoff.FSType = "/proc/cmdline", "ext4" }, "handoff.root", ErrInvalid},
		{"root PARTUUID malformed", func(p *Profile) { p.Handoff.Root, p.Handoff.FSType = "PARTUUID=6b3e58a2-1a4c-4f1e-9c39", "ext4" }, "handoff.root", ErrInvalid},
		{"root UUID malformed", func(p *Profile) { p.Handoff.Root, p.Handoff.FSType = "UUID=x", "ext4" }, "handoff.root", ErrInvalid},
		{"root label too long for ext4", func(p *Profile) { p.Handoff.Root, p.Handoff.FSType = "LABEL=a-very-long-root-label", "ext4" }, "handoff.root", ErrInvalid},
		{"root tag in lower case", func(p *Profile) { p.Handoff.Root, p.Handoff.FSType = "label=root", "ext4" }, "handoff.root", ErrInvalid},
		{"persist without fstype", func(p *Profile) { p.Persist.Device = "LABEL=wgboot" }, "persist.fstype", ErrRequired},
		{"persist fstype unknown", func(p *Profile) { p.Persist = Persist{Device: "LABEL=wgboot", FSType: "ntfs"} }, "persist.fstype", ErrInvalid},
		{"persist fstype without device", func(p *Profile) { p.Persist.FSType = "ext4" }, "persist.device", ErrRequired},
		{"persist device malformed", func(p *Profile) { p.Persist = Persist{Device: "PARTLABEL=", FSType: "ext4"} }, "persist.device", ErrInvalid},
		{"persist vfat label too long", func(p *Profile) { p.Persist = Persist{Device: "LABEL=wgboot-config", FSType: "vfat"} }, "persist.device", ErrInvalid},
		{"generate_key without a file", func(p *Profile) {
			p.Persist = Persist{Device: "LABEL=wgboot", FSType: "ext4"}
			p.Tunnels[0].PrivateKeyFile, p.Tunnels[0].GenerateKey = "", true
		}, "tunnel[0].generate_key", ErrRequired},
		{"generate_key in the image", func(p *Profile) {
			p.Persist = Persist{Device: "LABEL=wgboot", FSType: "ext4"}
			p.Tunnels[0].PrivateKeyFile, p.Tunnels[0].GenerateKey = "/etc/wgboot/wg0.key", true
		}, "tunnel[0].generate_key", ErrInvalid},
		{"fleet profile", func(p *Profile) {
			p.Persist = Persist{Device: "LABEL=wgboot", FSType: "ext4"}
			p.Tunnels[0].PrivateKeyFile, p.Tunnels[0].GenerateKey = "/persist/wg0.key", true
			p.Handoff.Root, p.Handoff.FSType = "PARTUUID=0fa4c36b-5b8a-4c2b-b3a8-4c2e5b7a9d02", "ext4"
		}, "", nil},
		{"on the partition", func(p *Profile) {
			p.OnPartition = true
			p.Tunnels[0].PrivateKeyFile = "/persist/wg0.key"
			p.Handoff.Root, p.Handoff.FSType = "LABEL=root", "ext4"
		}, "", nil},
		{"[persist] on the partition", func(p *Profile) {
			p.OnPartition = true
			p.Persist = Persist{Device: "LABEL=other", FSType: "ext4"}
		}, "persist", ErrInvalid},
		{"key on the partition without [persist]", func(p *Profile) {
			p.Tunnels[0].PrivateKeyFile, p.Tunnels[0].GenerateKey = "/persist/wg0.key", true
		}, "tunnel[0].private_key_file", ErrInvalid},
		{"two IPv4 gateways", func(p *Profile) {
			p.Uplink.Gateway = append(p.Uplink.Gateway, netip.MustParseAddr("192.0.2.254"))
		}, "uplink.gateway[1]", ErrDuplicate},
		{"same route in two tunnels", func(p *Profile) {
			second := p.Tunnels[0]
			second.Name, second.Address, second.ListenPort = "wg1", nil, 0
			p.Tunnels = append(p.Tunnels, second)
		}, "tunnel[1].peer[0].allowed_ips[0]", ErrOverlap},
		{"duplicate listen port", func(p *Profile) {
			second := p.Tunnels[0]
			second.Name, second.Address, second.Table = "wg1", nil, TableOff
			p.Tunnels[0].ListenPort, second.ListenPort = 51820, 51820
			p.Tunnels = append(p.Tunnels, second)
		}, "tunnel[1].listen_port", ErrDuplicate},
		{"tunnel named like the uplink", func(p *Profile) { p.Tunnels[0].Name = "eth0" }, "tunnel[0].name", ErrDuplicate},
		{"nested across peers under a default route is quiet", func(p *Profile) {
			p.Tunnels[0].Table, p.Tunnels[0].FwMark = 51820, 51820
			p.Tunnels[0].Peers = append(p.Tunnels[0].Peers, Peer{
				PublicKey:  wgkey.PrivateKeyFromBytes([32]byte{16}).PublicKey(),
				AllowedIPs: []netip.Prefix{netip.MustParsePrefix("0.0.0.0/0")},
			})
		}, "", nil},
		{"endpoint reached by a more specific uplink route", func(p *Profile) {
			p.Tunnels[0].Peers[0].Endpoint = netip.MustParseAddrPort("192.0.2.1:51820")
			p.Tunnels[0].Peers[0].AllowedIPs = []netip.Prefix{netip.MustParsePrefix("192.0.0.0/16")}
		}, "", nil},
		{"endpoint inside a longer allowed prefix", func(p *Profile) {
			p.Tunnels[0].Peers[0].Endpoint = netip.MustParseAddrPort("192.0.2.1:51820")
			p.Tunnels[0].Peers[0].AllowedIPs = []netip.Prefix{netip.MustParsePrefix("192.0.2.0/25")}
		}, "tunnel[0].peer[0].endpoint", ErrLoop},
		{"self peer", func(p *Profile) {
			p.Tunnels[0].Peers[0].PublicKey = p.Tunnels[0].PrivateKey.PublicKey()
		}, "tunnel[0].peer[0].public_key", ErrSelfPeer},
		{"host name without a DNS server", func(p *Profile) {
			p.Tunnels[0].Peers[0].Endpoints = []Endpoint{{Host: "hub.example.net", Port: 51820}}
		}, "tunnel[0].peer[0].endpoint", ErrRequired},
		{"host name with a DNS server", func(p *Profile) {
			p.Uplink.DNS = []netip.Addr{netip.MustParseAddr("192.0.2.53")}
			p.Tunnels[0].Peers[0].Endpoints = []Endpoint{{Host: "hub.example.net", Port: 51820}}
		}, "", nil},
		{"host name with the DHCP lease's name servers", func(p *Profile) {
			p.Uplink.DHCP, p.Uplink.Address, p.Uplink.Gateway = true, nil, nil
			p.Tunnels[0].Peers[0].Endpoints = []Endpoint{{Host: "hub.example.net", Port: 51820}}
		}, "", nil},
		{"fallbacks without a handshake wait", func(p *Profile) {
			p.Tunnels[0].Peers[0].Endpoints = []Endpoint{
				{Addr: netip.MustParseAddrPort("192.0.2.7:51820")}, {Addr: netip.MustParseAddrPort("192.0.2.8:51820")}}
		}, "tunnel[0].peer[0].fallback_endpoints", ErrInvalid},
		{"fallbacks after a timeout as long as the handshake wait", func(p *Profile) {
			p.Handoff.WaitHandshake = 5 * time.Second
			p.Tunnels[0].Peers[0].Endpoints = []Endpoint{
				{Addr: netip.MustParseAddrPort("192.0.2.7:51820")}, {Addr: netip.MustParseAddrPort("192.0.2.8:51820")}}
		}, "tunnel[0].peer[0].endpoint_timeout", ErrRange},
		{"fallbacks with time for each", func(p *Profile) {
			p.Handoff.WaitHandshake = 20 * time.Second
			p.Tunnels[0].Peers[0].Endpoints = []Endpoint{
				{Addr: netip.MustParseAddrPort("192.0.2.7:51820")}, {Addr: netip.MustParseAddrPort("192.0.2.8:51820")}}
		}, "", nil},
		{"a fallback address inside a longer allowed prefix", func(p *Profile) {
			p.Handoff.WaitHandshake = 20 * time.Second
			p.Tunnels[0].Peers[0].Endpoints = []Endpoint{
				{Addr: netip.MustParseAddrPort("198.51.100.7:51820")}, {Addr: netip.MustParseAddrPort("192.0.2.1:51820")}}
			p.Uplink.Gateway = []netip.Addr{netip.MustParseAddr("192.0.2.1")}
			p.Tunnels[0].Peers[0].AllowedIPs = []netip.Prefix{netip.MustParsePrefix("192.0.2.0/25")}
		}, "tunnel[0].peer[0].fallback_endpoints[0]", ErrLoop},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := baseProfile(t)
			tt.modify(p)
			ds := p.Validate()
			if tt.kind == nil {
				if len(ds) != 0 {
					t.Errorf("Validate() = %v, want nothing", ds)
				}
				return
			}
			if len(ds) != 1 || ds[0].Path != tt.path || !errors.Is(ds[0], tt.kind) {
				t.Errorf("Validate() = %v, want one %v at %s", ds, tt.kind, tt.path)
			}
			if ds[0].Pos.Line != 0 {
				t.Errorf("position %v for a profile built in code, want none", ds[0].Pos)
			}
		})
	}
}

func TestValidate_manyPeers(t *testing.T) {
	p, ds := Parse("hub.toml", hubProfile(2000))
	if ds.HasErrors() {
		t.Fatal(ds.Err())
	}
	ds = p.Validate()
	if len(ds) != 1 || !errors.Is(ds[0], ErrSecret) {
		t.Errorf("Validate() = %v, want only the inline key warning", ds)
	}
	p.Tunnels[0].Peers[1999].AllowedIPs = append(p.Tunnels[0].Peers[1999].AllowedIPs, p.Tunnels[0].Peers[7].AllowedIPs[0])
	ds = p.Validate()
	if len(ds) != 2 || ds[1].Path != "tunnel[0].peer[1999].allowed_ips[2]" || !errors.Is(ds[1], ErrOverlap) {
		t.Errorf("Validate() = %v, want the overlap with peer[7]", ds)
	}
}

// TestCompareKeys checks the sort order of allowed IPs against its
// definition: family, address, prefix length, peer, element.
func TestCompareKeys(t *testing.T) {
	var ps []netip.Prefix
	for _, s := range []string{"0.0.0.0/0", "10.0.0.0/8", "10.0.0.0/24", "10.0.0.1/32", "255.255.255.255/32",
		"::/0", "::/128", "::a00:0/104", "::ffff:10.0.0.0/104", "fd00::/8", "fd00::1/128", "ffff::/16"} {
		ps = append(ps, netip.MustParsePrefix(s))
	}
	want := func(a, b allowedEntry) int {
		return cmp.Or(cmp.Compare(a.p.Addr().BitLen(), b.p.Addr().BitLen()), a.p.Addr().Compare(b.p.Addr()),
			cmp.Compare(a.p.Bits(), b.p.Bits()), cmp.Compare(a.peer, b.peer), cmp.Compare(a.elem, b.elem))
	}
	for _, a := range ps {
		for _, b := range ps {
			for _, pe := range [][4]int{{0, 0, 0, 0}, {0, 1, 0, 0}, {1, 0, 0, 0}, {0, 0, 0, 1}, {0, 0, 1, 0}} {
				ea, eb := allowedEntry{a, pe[0], pe[2]}, allowedEntry{b, pe[1], pe[3]}
				got := compareKeys(newAllowedKey(a, pe[0], pe[2]), newAllowedKey(b, pe[1], pe[3]))
				if w := want(ea, eb); got != w {
					t.Errorf("compare(%v, %v) %d = %d, want %d", a, b, pe, got, w)
				}
			}
		}
	}
}

// TestValidate_kernelRules runs the interface names and MTUs that the boot
// path (netsetup, netsetup/wg) is tested with too: check refuses exactly
// what the boot refuses.
func TestValidate_kernelRules(t *testing.T) {
	for _, tt := range kruletest.IfNames {
		for _, field := range []string{"tunnel[0].name", "uplink.interface"} {
			p := baseProfile(t)
			p.Uplink.Interface, p.Tunnels[0].Name = "uplink9", "tunnel9"
			if field == "uplink.interface" {
				p.Uplink.Interface = tt.Name
			} else {
				p.Tunnels[0].Name = tt.Name
			}
			ds := p.Validate()
			var got []string
			for _, d := range ds {
				got = append(got, d.Path)
			}
			switch {
			case tt.OK && len(ds) > 0:
				t.Errorf("%s = %q: %v, want no diagnostics", field, tt.Name, ds)
			case !tt.OK && (len(ds) != 1 || ds[0].Path != field || ds[0].Severity != SeverityError):
				t.Errorf("%s = %q: diagnostics at %q, want one error at %s", field, tt.Name, got, field)
			}
		}
	}
	for _, tt := range kruletest.MTUs {
		p := baseProfile(t)
		p.Tunnels[0].MTU = tt.MTU
		p.Tunnels[0].Address = append(p.Tunnels[0].Address, netip.MustParsePrefix("fd00:9::2/64"))
		ds := p.Validate()
		if tt.IPv6 != (len(ds) == 0) || !tt.IPv6 && !errors.Is(ds[0], ErrMTU) {
			t.Errorf("mtu %d with an IPv6 address: %v, want an ErrMTU: %v", tt.MTU, ds, !tt.IPv6)
		}
	}
}

// TestTunnelPublicKey: PublicKey derives the key once per private key, as
// Validate leaves it, and follows a change of the private key.
func TestTunnelPublicKey(t *testing.T) {
	p := baseProfile(t)
	tun := &p.Tunnels[0]
	want := tun.PrivateKey.PublicKey()
	if ds := p.Validate(); len(ds) > 0 {
		t.Fatal(ds)
	}
	if tun.pub != want {
		t.Fatalf("Validate left %v as the derived public key, want %v", tun.pub, want)
	}
	// A marker in the cache shows whether PublicKey derives again.
	marker := wgkey.Key{1}
	tun.pub = marker
	if tun.PublicKey() != marker {
		t.Error("PublicKey() derived the key again for the same private key")
	}
	other := wgkey.PrivateKeyFromBytes([32]byte{42})
	tun.PrivateKey = other
	if tun.PublicKey() != other.PublicKey() {
		t.Error("PublicKey() did not follow a new private key")
	}
	p.Wipe()
	if !tun.PublicKey().IsZero() {
		t.Error("PublicKey() of a wiped tunnel is not zero")
	}
}

// TestValidate_deadlineWaits: the warning that the uplink's waits and the
// handshake wait do not fit handoff.deadline counts the wait for DAD as
// the boot runs it (Uplink.DADWait): with an IPv6 endpoint and static
// IPv6 addresses, unless dad = false.
func TestValidate_deadlineWaits(t *testing.T) {
	v6 := func(p *Profile) {
		p.Uplink.Address = append(p.Uplink.Address, netip.MustParsePrefix("2001:db8::2/64"))
		p.Uplink.Gateway = append(p.Uplink.Gateway, netip.MustParseAddr("2001:db8::1"))
		p.Tunnels[0].Peers[0].Endpoint = netip.MustParseAddrPort("[2001:db8:1::1]:51820")
	}
	tests := []struct {
		name   string
		modify func(p *Profile)
		msg    string // the warning's; "" for none
	}{
		{"carrier and handshake fit", func(p *Profile) { p.Handoff.WaitHandshake = 46 * time.Second }, ""},
		{"carrier and handshake too long", func(p *Profile) { p.Handoff.WaitHandshake = 51 * time.Second },
			"1m0s is shorter than carrier_timeout + wait_handshake (1m1s)"},
		{"dad makes it too long", func(p *Profile) { v6(p); p.Handoff.WaitHandshake = 46 * time.Second },
			"1m0s is shorter than carrier_timeout + dad (5s) + wait_handshake (1m1s)"},
		{"dad fits", func(p *Profile) { v6(p); p.Handoff.WaitHandshake = 45 * time.Second }, ""},
		{"dad = false", func(p *Profile) { v6(p); p.Uplink.NoDAD = true; p.Handoff.WaitHandshake = 46 * time.Second }, ""},
		{"no IPv6 endpoint: no dad wait", func(p *Profile) {
			v6(p)
			p.Tunnels[0].Peers[0].Endpoint = netip.MustParseAddrPort("198.51.100.1:51820")
			p.Handoff.WaitHandshake = 46 * time.Second
		}, ""},
		{"no static IPv6 address: no dad wait", func(p *Profile) {
			v6(p)
			p.Uplink.Address, p.Uplink.Gateway = p.Uplink.Address[:1], p.Uplink.Gateway[:1]
			p.Uplink.AcceptRA, p.Uplink.RATimeout = true, 10*time.Second
			p.Handoff.WaitHandshake = 36 * time.Second
		}, ""},
		{"dad and dhcp", func(p *Profile) {
			v6(p)
			p.Uplink.Address, p.Uplink.Gateway = p.Uplink.Address[1:], p.Uplink.Gateway[1:] // the lease's IPv4
			p.Uplink.DHCP, p.Uplink.DHCPTimeout = true, 30*time.Second
			p.Handoff.WaitHandshake = 16 * time.Second
		}, "1m0s is shorter than carrier_timeout + dad (5s) + dhcp_timeout + wait_handshake (1m1s)"},
		{"dad and the longer of dhcp and ra", func(p *Profile) {
			v6(p)
			p.Uplink.Address, p.Uplink.Gateway = p.Uplink.Address[1:], nil // the lease's and the router's
			p.Uplink.DHCP, p.Uplink.DHCPTimeout = true, 20*time.Second
			p.Uplink.AcceptRA, p.Uplink.RATimeout = true, 30*time.Second
			p.Handoff.WaitHandshake = 16 * time.Second
		}, "1m0s is shorter than carrier_timeout + dad (5s) + ra_timeout + wait_handshake (1m1s)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := baseProfile(t)
			p.Uplink.CarrierTimeout, p.Handoff.Deadline = 10*time.Second, time.Minute
			tt.modify(p)
			ds := p.Validate()
			if tt.msg == "" {
				if len(ds) != 0 {
					t.Errorf("Validate() = %v, want nothing", ds)
				}
				return
			}
			if len(ds) != 1 || ds[0].Path != "handoff.deadline" || !errors.Is(ds[0], ErrRange) || ds[0].Msg != tt.msg || ds[0].Severity != SeverityWarning {
				t.Errorf("Validate() = %v, want the warning at handoff.deadline: %s", ds, tt.msg)
			}
		})
	}
}

func TestNeedsIPv6(t *testing.T) {
	p := &Profile{Tunnels: []Tunnel{{Peers: []Peer{{}, {Endpoint: netip.MustParseAddrPort("192.0.2.1:51820")}}}}}
	if p.NeedsIPv6() {
		t.Error("NeedsIPv6 with IPv4 endpoints = true")
	}
	p.Tunnels[0].Peers[1].Endpoint = netip.MustParseAddrPort("[::ffff:192.0.2.1]:51820")
	if p.NeedsIPv6() {
		t.Error("NeedsIPv6 with an IPv4-mapped endpoint = true")
	}
	p.Tunnels = append(p.Tunnels, Tunnel{Peers: []Peer{{Endpoint: netip.MustParseAddrPort("[2001:db8::1]:51820")}}})
	if !p.NeedsIPv6() {
		t.Error("NeedsIPv6 with an IPv6 endpoint = false")
	}
}
