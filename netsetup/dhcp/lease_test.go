package dhcp

import (
	"net"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv4"
	"golang.org/x/sys/unix"

	"github.com/wgboot/wgboot/netsetup"
)

var t0 = time.Date(2026, 12, 7, 6, 0, 0, 0, time.UTC)

// ack builds a DHCPACK for 192.0.2.10 from server 192.0.2.1 with the given
// options (raw bytes per code, so that tests can send garbage); a nil
// value deletes a default option.
func ack(t testing.TB, yiaddr string, opts map[dhcpv4.OptionCode][]byte) *dhcpv4.DHCPv4 {
	t.Helper()
	m, err := dhcpv4.New(
		dhcpv4.WithMessageType(dhcpv4.MessageTypeAck),
		dhcpv4.WithYourIP(net.ParseIP(yiaddr)),
		dhcpv4.WithOption(dhcpv4.OptServerIdentifier(net.IPv4(192, 0, 2, 1))),
		dhcpv4.WithOption(dhcpv4.OptSubnetMask(net.CIDRMask(24, 32))),
		dhcpv4.WithOption(dhcpv4.OptIPAddressLeaseTime(time.Hour)),
	)
	if err != nil {
		t.Fatal(err)
	}
	for code, v := range opts {
		if v == nil {
			m.Options.Del(code)
			continue
		}
		m.UpdateOption(dhcpv4.OptGeneric(code, v))
	}
	return m
}

func b(v ...byte) []byte { return v }

func addrs(ss ...string) []netip.Addr {
	var out []netip.Addr
	for _, s := range ss {
		out = append(out, netip.MustParseAddr(s))
	}
	return out
}

// TestFromACK reads leases with every option well formed, missing or
// garbled: the lease keeps what is usable and notes the rest.
func TestFromACK(t *testing.T) {
	tests := []struct {
		name    string
		yiaddr  string
		opts    map[dhcpv4.OptionCode][]byte
		want    Lease // Obtained is t0 in every case
		notes   []string
		wantErr string
	}{
		{
			name:   "minimal",
			yiaddr: "192.0.2.10",
			want: Lease{Address: netip.MustParsePrefix("192.0.2.10/24"), ServerID: netip.MustParseAddr("192.0.2.1"),
				LeaseTime: time.Hour, Renew: 30 * time.Minute, Rebind: time.Hour / 8 * 7},
		},
		{
			name:   "everything",
			yiaddr: "192.0.2.10",
			opts: map[dhcpv4.OptionCode][]byte{
				dhcpv4.OptionRouter:               b(192, 0, 2, 1, 192, 0, 2, 2),
				dhcpv4.OptionDomainNameServer:     b(192, 0, 2, 53, 198, 51, 100, 53, 192, 0, 2, 53),
				dhcpv4.OptionInterfaceMTU:         b(0x05, 0xdc),
				dhcpv4.OptionRenewTimeValue:       b(0, 0, 0x07, 0x08), // 1800 s
				dhcpv4.OptionRebindingTimeValue:   b(0, 0, 0x0c, 0x4e), // 3150 s
				dhcpv4.OptionClasslessStaticRoute: b(8, 10, 192, 0, 2, 254, 0, 192, 0, 2, 1, 24, 198, 51, 100, 0, 0, 0, 0),
			},
			want: Lease{Address: netip.MustParsePrefix("192.0.2.10/24"), ServerID: netip.MustParseAddr("192.0.2.1"),
				Router: netip.MustParseAddr("192.0.2.1"), StaticRoutes: true,
				Routes: []Route{
					{Dst: netip.MustParsePrefix("10.0.0.0/8"), Gateway: netip.MustParseAddr("192.0.2.254")},
					{Dst: netip.MustParsePrefix("0.0.0.0/0"), Gateway: netip.MustParseAddr("192.0.2.1")},
					{Dst: netip.MustParsePrefix("198.51.100.0/24")},
				},
				DNS: addrs("192.0.2.53", "198.51.100.53"), MTU: 1500,
				LeaseTime: time.Hour, Renew: 1800 * time.Second, Rebind: 3150 * time.Second},
		},
		{
			name:   "no mask: class C",
			yiaddr: "192.0.2.10",
			opts:   map[dhcpv4.OptionCode][]byte{dhcpv4.OptionSubnetMask: nil},
			want: Lease{Address: netip.MustParsePrefix("192.0.2.10/24"), ServerID: netip.MustParseAddr("192.0.2.1"),
				LeaseTime: time.Hour, Renew: 30 * time.Minute, Rebind: time.Hour / 8 * 7},
			notes: []string{"no subnet mask (option 1): /24 from the address class"},
		},
		{
			name:   "non-contiguous mask: class A",
			yiaddr: "10.1.2.3",
			opts:   map[dhcpv4.OptionCode][]byte{dhcpv4.OptionSubnetMask: b(255, 0, 255, 0)},
			want: Lease{Address: netip.MustParsePrefix("10.1.2.3/8"), ServerID: netip.MustParseAddr("192.0.2.1"),
				LeaseTime: time.Hour, Renew: 30 * time.Minute, Rebind: time.Hour / 8 * 7},
			notes: []string{"subnet mask (option 1) ff00ff00 is not a mask: /8 from the address class"},
		},
		{
			name:   "short mask, class B",
			yiaddr: "172.16.5.4",
			opts:   map[dhcpv4.OptionCode][]byte{dhcpv4.OptionSubnetMask: b(255, 255)},
			want: Lease{Address: netip.MustParsePrefix("172.16.5.4/16"), ServerID: netip.MustParseAddr("192.0.2.1"),
				LeaseTime: time.Hour, Renew: 30 * time.Minute, Rebind: time.Hour / 8 * 7},
			notes: []string{"subnet mask (option 1) ffff is not a mask: /16 from the address class"},
		},
		{
			name:   "/32 lease",
			yiaddr: "203.0.113.7",
			opts: map[dhcpv4.OptionCode][]byte{dhcpv4.OptionSubnetMask: b(255, 255, 255, 255),
				dhcpv4.OptionRouter: b(203, 0, 113, 1)},
			want: Lease{Address: netip.MustParsePrefix("203.0.113.7/32"), ServerID: netip.MustParseAddr("192.0.2.1"),
				Router: netip.MustParseAddr("203.0.113.1"), LeaseTime: time.Hour, Renew: 30 * time.Minute, Rebind: time.Hour / 8 * 7},
		},
		{
			name:   "garbage routers, name servers, MTU, server id",
			yiaddr: "192.0.2.10",
			opts: map[dhcpv4.OptionCode][]byte{
				dhcpv4.OptionRouter:           b(192, 0, 2),
				dhcpv4.OptionDomainNameServer: b(0, 0, 0, 0, 224, 0, 0, 1, 255, 255, 255, 255, 127, 0, 0, 53, 192, 0, 2, 53),
				dhcpv4.OptionInterfaceMTU:     b(0, 67),
				dhcpv4.OptionServerIdentifier: b(1, 2, 3),
			},
			want: Lease{Address: netip.MustParsePrefix("192.0.2.10/24"), DNS: addrs("192.0.2.53"),
				LeaseTime: time.Hour, Renew: 30 * time.Minute, Rebind: time.Hour / 8 * 7},
			notes: []string{
				"server identifier (option 54) 010203 is not a usable address: ignored",
				"router (option 3) of 3 bytes is malformed: ignored",
				"name server (option 6) 0.0.0.0 is not a usable address: ignored",
				"name server (option 6) 224.0.0.1 is not a usable address: ignored",
				"name server (option 6) 255.255.255.255 is not a usable address: ignored",
				"name server (option 6) 127.0.0.53 is not a usable address: ignored",
				"interface MTU (option 26) 67 is below 68: ignored",
			},
		},
		{
			name:   "unusable routers skipped for the first usable one",
			yiaddr: "192.0.2.10",
			opts:   map[dhcpv4.OptionCode][]byte{dhcpv4.OptionRouter: b(0, 0, 0, 0, 192, 0, 2, 10, 192, 0, 2, 1)},
			want: Lease{Address: netip.MustParsePrefix("192.0.2.10/24"), ServerID: netip.MustParseAddr("192.0.2.1"),
				Router: netip.MustParseAddr("192.0.2.1"), LeaseTime: time.Hour, Renew: 30 * time.Minute, Rebind: time.Hour / 8 * 7},
			notes: []string{"router (option 3) 0.0.0.0 is not a usable gateway: ignored",
				"router (option 3) 192.0.2.10 is the leased address itself: ignored"},
		},
		{
			name:   "malformed option 121: ignored as a whole",
			yiaddr: "192.0.2.10",
			opts: map[dhcpv4.OptionCode][]byte{dhcpv4.OptionRouter: b(192, 0, 2, 1),
				dhcpv4.OptionClasslessStaticRoute: b(8, 10, 192, 0, 2, 254, 33, 1, 2, 3, 4, 5, 6, 7, 8)},
			want: Lease{Address: netip.MustParsePrefix("192.0.2.10/24"), ServerID: netip.MustParseAddr("192.0.2.1"),
				Router: netip.MustParseAddr("192.0.2.1"), LeaseTime: time.Hour, Renew: 30 * time.Minute, Rebind: time.Hour / 8 * 7},
			notes: []string{"classless static routes (option 121) malformed (invalid mask length 33 in route option): ignored, the router option applies"},
		},
		{
			name:   "truncated option 121",
			yiaddr: "192.0.2.10",
			opts:   map[dhcpv4.OptionCode][]byte{dhcpv4.OptionClasslessStaticRoute: b(24, 10, 1, 2, 192, 0)},
			want: Lease{Address: netip.MustParsePrefix("192.0.2.10/24"), ServerID: netip.MustParseAddr("192.0.2.1"),
				LeaseTime: time.Hour, Renew: 30 * time.Minute, Rebind: time.Hour / 8 * 7},
			notes: []string{"classless static routes (option 121) malformed (buffer too short at position 4: have 2 bytes, want 4 bytes): ignored, the router option applies"},
		},
		{
			name:   "option 121 with host bits and a bad gateway",
			yiaddr: "192.0.2.10",
			opts: map[dhcpv4.OptionCode][]byte{
				dhcpv4.OptionClasslessStaticRoute: b(12, 10, 17, 192, 0, 2, 254, 16, 172, 16, 224, 0, 0, 1),
			},
			want: Lease{Address: netip.MustParsePrefix("192.0.2.10/24"), ServerID: netip.MustParseAddr("192.0.2.1"),
				StaticRoutes: true,
				Routes:       []Route{{Dst: netip.MustParsePrefix("10.16.0.0/12"), Gateway: netip.MustParseAddr("192.0.2.254")}},
				LeaseTime:    time.Hour, Renew: 30 * time.Minute, Rebind: time.Hour / 8 * 7},
			notes: []string{"classless static route to 10.17.0.0/12 has host bits set: used as 10.16.0.0/12",
				"classless static route to 172.16.0.0/16: gateway 224.0.0.1 is not a usable gateway: ignored"},
		},
		{
			name:   "no lease time: infinite",
			yiaddr: "192.0.2.10",
			opts:   map[dhcpv4.OptionCode][]byte{dhcpv4.OptionIPAddressLeaseTime: nil, dhcpv4.OptionRenewTimeValue: b(0, 0, 0, 9)},
			want: Lease{Address: netip.MustParsePrefix("192.0.2.10/24"), ServerID: netip.MustParseAddr("192.0.2.1"),
				LeaseTime: Infinite, Renew: Infinite, Rebind: Infinite},
			notes: []string{"no lease time (option 51): taken as infinite"},
		},
		{
			name:   "infinite lease",
			yiaddr: "192.0.2.10",
			opts:   map[dhcpv4.OptionCode][]byte{dhcpv4.OptionIPAddressLeaseTime: b(0xff, 0xff, 0xff, 0xff)},
			want: Lease{Address: netip.MustParsePrefix("192.0.2.10/24"), ServerID: netip.MustParseAddr("192.0.2.1"),
				LeaseTime: Infinite, Renew: Infinite, Rebind: Infinite},
		},
		{
			name:   "malformed lease time",
			yiaddr: "192.0.2.10",
			opts:   map[dhcpv4.OptionCode][]byte{dhcpv4.OptionIPAddressLeaseTime: b(1, 2)},
			want: Lease{Address: netip.MustParsePrefix("192.0.2.10/24"), ServerID: netip.MustParseAddr("192.0.2.1"),
				LeaseTime: Infinite, Renew: Infinite, Rebind: Infinite},
			notes: []string{"lease time (option 51) of 2 bytes is malformed: taken as infinite"},
		},
		{
			name:   "T1 after T2",
			yiaddr: "192.0.2.10",
			opts: map[dhcpv4.OptionCode][]byte{
				dhcpv4.OptionRenewTimeValue:     b(0, 0, 0x0c, 0x4e),
				dhcpv4.OptionRebindingTimeValue: b(0, 0, 0x07, 0x08),
			},
			want: Lease{Address: netip.MustParsePrefix("192.0.2.10/24"), ServerID: netip.MustParseAddr("192.0.2.1"),
				LeaseTime: time.Hour, Renew: 30 * time.Minute, Rebind: time.Hour / 8 * 7},
			notes: []string{"renewal 52m30s and rebinding 30m0s times do not fit the lease time 1h0m0s: 1/2 and 7/8 of it"},
		},
		{
			name:   "only T2, before the default T1",
			yiaddr: "192.0.2.10",
			opts:   map[dhcpv4.OptionCode][]byte{dhcpv4.OptionRebindingTimeValue: b(0, 0, 0x03, 0x84)},
			want: Lease{Address: netip.MustParsePrefix("192.0.2.10/24"), ServerID: netip.MustParseAddr("192.0.2.1"),
				LeaseTime: time.Hour, Renew: 15 * time.Minute, Rebind: 15 * time.Minute},
		},
		{name: "zero lease time", yiaddr: "192.0.2.10", opts: map[dhcpv4.OptionCode][]byte{dhcpv4.OptionIPAddressLeaseTime: b(0, 0, 0, 0)},
			wantErr: "lease time (option 51) is 0"},
		{name: "no address", yiaddr: "0.0.0.0", wantErr: "leased address 0.0.0.0 is not a usable host address"},
		{name: "broadcast address", yiaddr: "255.255.255.255", wantErr: "not a usable host address"},
		{name: "multicast address", yiaddr: "224.0.0.5", wantErr: "not a usable host address"},
		{name: "loopback address", yiaddr: "127.0.0.2", wantErr: "not a usable host address"},
		{name: "subnet's network address", yiaddr: "192.0.2.0", wantErr: "leased address 192.0.2.0/24 is its subnet's network address"},
		{name: "subnet's broadcast address", yiaddr: "192.0.2.255", wantErr: "leased address 192.0.2.255/24 is its subnet's broadcast address"},
		{name: "/31 ends are hosts", yiaddr: "192.0.2.255", opts: map[dhcpv4.OptionCode][]byte{dhcpv4.OptionSubnetMask: b(255, 255, 255, 254)},
			want: Lease{Address: netip.MustParsePrefix("192.0.2.255/31"), ServerID: netip.MustParseAddr("192.0.2.1"),
				LeaseTime: time.Hour, Renew: 30 * time.Minute, Rebind: time.Hour / 8 * 7}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, err := FromACK(ack(t, tt.yiaddr, tt.opts), t0)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("FromACK() = %+v, %v; want error %q", l, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("FromACK() error = %v", err)
			}
			want := tt.want
			want.Obtained, want.Notes = t0, tt.notes
			if !equalLease(*l, want) {
				t.Errorf("FromACK() =\n%+v\nwant\n%+v", *l, want)
			}
		})
	}
}

func equalLease(a, b Lease) bool {
	return a.Address == b.Address && a.ServerID == b.ServerID && a.Router == b.Router &&
		slices.Equal(a.Routes, b.Routes) && a.StaticRoutes == b.StaticRoutes && slices.Equal(a.DNS, b.DNS) &&
		a.MTU == b.MTU && a.LeaseTime == b.LeaseTime && a.Renew == b.Renew && a.Rebind == b.Rebind &&
		a.Obtained.Equal(b.Obtained) && slices.Equal(a.Notes, b.Notes)
}

func TestFromACKNotACK(t *testing.T) {
	for _, mt := range []dhcpv4.MessageType{dhcpv4.MessageTypeOffer, dhcpv4.MessageTypeNak, dhcpv4.MessageTypeNone} {
		m := ack(t, "192.0.2.10", nil)
		if mt == dhcpv4.MessageTypeNone {
			m.Options.Del(dhcpv4.OptionDHCPMessageType)
		} else {
			m.UpdateOption(dhcpv4.OptMessageType(mt))
		}
		if _, err := FromACK(m, t0); err != ErrNotACK {
			t.Errorf("FromACK(%v) error = %v, want ErrNotACK", mt, err)
		}
	}
	if _, err := FromACK(nil, t0); err != ErrNotACK {
		t.Errorf("FromACK(nil) error = %v, want ErrNotACK", err)
	}
}

func pfx(s string) netip.Prefix { return netip.MustParsePrefix(s) }

// TestPlan turns leases into kernel state: routes from option 121 instead
// of option 3 (RFC 3442), host routes to gateways off the subnet, the MTU
// and the lifetimes left.
func TestPlan(t *testing.T) {
	const idx = 2
	dhcpRoute := func(dst, gw string) netsetup.Route {
		r := netsetup.Route{Dst: pfx(dst), OIF: idx, Protocol: unix.RTPROT_DHCP}
		if gw != "" {
			r.Gateway = netip.MustParseAddr(gw)
		}
		return r
	}
	base := Lease{Address: pfx("192.0.2.10/24"), LeaseTime: time.Hour, Obtained: t0}
	tests := []struct {
		name     string
		lease    func(l *Lease)
		now      time.Time
		keepIPv6 bool
		want     Plan
	}{
		{
			name: "address only",
			want: Plan{Address: pfx("192.0.2.10/24"), Valid: time.Hour, Preferred: time.Hour},
		},
		{
			name:  "router: default route",
			lease: func(l *Lease) { l.Router = netip.MustParseAddr("192.0.2.1") },
			now:   t0.Add(1500 * time.Millisecond),
			want: Plan{Address: pfx("192.0.2.10/24"), Valid: time.Hour - 2*time.Second, Preferred: time.Hour - 2*time.Second,
				Routes: []netsetup.Route{dhcpRoute("0.0.0.0/0", "192.0.2.1")}},
		},
		{
			name: "option 121 replaces option 3",
			lease: func(l *Lease) {
				l.Router = netip.MustParseAddr("192.0.2.1")
				l.StaticRoutes = true
				l.Routes = []Route{{Dst: pfx("10.0.0.0/8"), Gateway: netip.MustParseAddr("192.0.2.254")}, {Dst: pfx("198.51.100.0/24")}}
			},
			want: Plan{Address: pfx("192.0.2.10/24"), Valid: time.Hour, Preferred: time.Hour,
				Routes: []netsetup.Route{dhcpRoute("10.0.0.0/8", "192.0.2.254"), dhcpRoute("198.51.100.0/24", "")},
				Notes:  []string{"router (option 3) 192.0.2.1 ignored: the lease has classless static routes (option 121)"}},
		},
		{
			name: "option 121 without usable routes still replaces option 3",
			lease: func(l *Lease) {
				l.Router = netip.MustParseAddr("192.0.2.1")
				l.StaticRoutes = true
			},
			want: Plan{Address: pfx("192.0.2.10/24"), Valid: time.Hour, Preferred: time.Hour,
				Notes: []string{"router (option 3) 192.0.2.1 ignored: the lease has classless static routes (option 121)"}},
		},
		{
			name: "/32 lease: host route to the router first, once",
			lease: func(l *Lease) {
				l.Address = pfx("203.0.113.7/32")
				l.StaticRoutes = true
				l.Routes = []Route{{Dst: pfx("0.0.0.0/0"), Gateway: netip.MustParseAddr("203.0.113.1")},
					{Dst: pfx("10.0.0.0/8"), Gateway: netip.MustParseAddr("203.0.113.1")}}
			},
			want: Plan{Address: pfx("203.0.113.7/32"), Valid: time.Hour, Preferred: time.Hour,
				Routes: []netsetup.Route{dhcpRoute("203.0.113.1/32", ""), dhcpRoute("0.0.0.0/0", "203.0.113.1"), dhcpRoute("10.0.0.0/8", "203.0.113.1")}},
		},
		{
			name:  "infinite lease: permanent address",
			lease: func(l *Lease) { l.LeaseTime = Infinite },
			now:   t0.Add(time.Hour),
			want:  Plan{Address: pfx("192.0.2.10/24"), Valid: Infinite, Preferred: Infinite},
		},
		{
			name: "lease ran out while planning: one second left",
			now:  t0.Add(2 * time.Hour),
			want: Plan{Address: pfx("192.0.2.10/24"), Valid: time.Second, Preferred: time.Second},
		},
		{
			name:  "MTU",
			lease: func(l *Lease) { l.MTU = 1492 },
			want:  Plan{Address: pfx("192.0.2.10/24"), Valid: time.Hour, Preferred: time.Hour, MTU: 1492},
		},
		{
			name:  "MTU below 1280 without IPv6",
			lease: func(l *Lease) { l.MTU = 576 },
			want:  Plan{Address: pfx("192.0.2.10/24"), Valid: time.Hour, Preferred: time.Hour, MTU: 576},
		},
		{
			name:     "MTU below 1280 would disable IPv6",
			lease:    func(l *Lease) { l.MTU = 576 },
			keepIPv6: true,
			want: Plan{Address: pfx("192.0.2.10/24"), Valid: time.Hour, Preferred: time.Hour,
				Notes: []string{"interface MTU (option 26) 576 ignored: below 1280, it would disable IPv6 on the uplink"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := base
			if tt.lease != nil {
				tt.lease(&l)
			}
			now := tt.now
			if now.IsZero() {
				now = t0
			}
			got := l.Plan(idx, now, tt.keepIPv6)
			if got.Address != tt.want.Address || got.Valid != tt.want.Valid || got.Preferred != tt.want.Preferred ||
				!slices.Equal(got.Routes, tt.want.Routes) || got.MTU != tt.want.MTU || !slices.Equal(got.Notes, tt.want.Notes) {
				t.Errorf("Plan() =\n%+v\nwant\n%+v", got, tt.want)
			}
		})
	}
}
