package board

import (
	"net/netip"
	"reflect"
	"strings"
	"testing"
)

func TestParseIPParam(t *testing.T) {
	p := netip.MustParsePrefix
	a := netip.MustParseAddr
	tests := []struct {
		values  []string
		want    UplinkOverride
		wantErr string
	}{
		{values: []string{"dhcp"}, want: UplinkOverride{DHCP: true}},
		{values: []string{"on"}, want: UplinkOverride{DHCP: true}},
		{values: []string{"any"}, want: UplinkOverride{DHCP: true}},
		{values: []string{"auto6"}, want: UplinkOverride{AcceptRA: true}},
		{values: []string{"eth1:dhcp"}, want: UplinkOverride{Interface: "eth1", DHCP: true}},
		{values: []string{"eth1:dhcp", "eth1:auto6"}, want: UplinkOverride{Interface: "eth1", DHCP: true, AcceptRA: true}},
		{values: []string{"dhcp", "eth1:auto6"}, want: UplinkOverride{Interface: "eth1", DHCP: true, AcceptRA: true}},
		{
			values: []string{"192.0.2.2::192.0.2.1:255.255.255.0::eth0:none"},
			want:   UplinkOverride{Interface: "eth0", Address: []netip.Prefix{p("192.0.2.2/24")}, Gateway: []netip.Addr{a("192.0.2.1")}},
		},
		{
			values: []string{"192.0.2.2::192.0.2.1:24::eth0:off", "[2001:db8::2]::[2001:db8::1]:64::eth0:none"},
			want: UplinkOverride{Interface: "eth0", Address: []netip.Prefix{p("192.0.2.2/24"), p("2001:db8::2/64")},
				Gateway: []netip.Addr{a("192.0.2.1"), a("2001:db8::1")}},
		},
		{
			values: []string{"192.0.2.2:::255.255.255.252:myhost:eth0:none"},
			want:   UplinkOverride{Interface: "eth0", Address: []netip.Prefix{p("192.0.2.2/30")}},
		},
		{
			values: []string{"192.0.2.2::192.0.2.1:24::eth0:none:192.0.2.53:[2001:db8::53]"},
			want: UplinkOverride{Interface: "eth0", Address: []netip.Prefix{p("192.0.2.2/24")}, Gateway: []netip.Addr{a("192.0.2.1")},
				DNS: []netip.Addr{a("192.0.2.53"), a("2001:db8::53")}},
		},
		// Fields wgboot does not apply: the rest applies, and the error says so.
		{
			values:  []string{"eth0:dhcp:1492:52:54:00:12:34:56"},
			want:    UplinkOverride{Interface: "eth0", DHCP: true},
			wantErr: "ip=eth0:dhcp:1492:52:54:00:12:34:56: mtu 1492, macaddr 52:54:00:12:34:56 not supported: ignored, the rest applies",
		},
		{
			values:  []string{"192.0.2.2::192.0.2.1:24::eth0:none:1400"},
			want:    UplinkOverride{Interface: "eth0", Address: []netip.Prefix{p("192.0.2.2/24")}, Gateway: []netip.Addr{a("192.0.2.1")}},
			wantErr: "mtu 1400 not supported",
		},
		// Refused as a whole.
		{values: []string{"dhcp6"}, wantErr: `ip=dhcp6: method "dhcp6" not supported`},
		{values: []string{"eth0:ibft"}, wantErr: `method "ibft" not supported`},
		{values: []string{"none"}, wantErr: `ip=none: method "none" needs a client address`},
		{values: []string{"bogus"}, wantErr: `method "bogus" not supported`},
		{values: []string{":dhcp"}, wantErr: "no interface before the method"},
		{values: []string{"a:b:c"}, wantErr: "want dhcp, <interface>:<method>"},
		{values: []string{"192.0.2.2::192.0.2.1:24::eth0:dhcp"}, wantErr: `method "dhcp" with a client address: want none or off`},
		{values: []string{"192.0.2.2::192.0.2.1:24:::none"}, wantErr: "no interface"},
		{values: []string{"192.0.2.2:192.0.2.9:192.0.2.1:24::eth0:none"}, wantErr: "point-to-point uplinks are not supported"},
		{values: []string{"192.0.2.300::192.0.2.1:24::eth0:none"}, wantErr: `client address: "192.0.2.300" is not an IPv4 address`},
		{values: []string{"2001:db8::2::2001:db8::1:64::eth0:none"}, wantErr: `client address: "2001" is not an IPv4 address (IPv6 goes in brackets)`},
		{values: []string{"[192.0.2.2]::[2001:db8::1]:64::eth0:none"}, wantErr: "is not an IPv6 address"},
		{values: []string{"0.0.0.0::192.0.2.1:24::eth0:none"}, wantErr: "is not a host address"},
		{values: []string{"192.0.2.2::[2001:db8::1]:24::eth0:none"}, wantErr: "not of the client address's family"},
		{values: []string{"192.0.2.2::192.0.2.1:255.0.255.0::eth0:none"}, wantErr: "netmask 255.0.255.0 is not a mask"},
		{values: []string{"192.0.2.2::192.0.2.1:33::eth0:none"}, wantErr: "netmask /33 out of range"},
		{values: []string{"192.0.2.2::192.0.2.1:::eth0:none"}, wantErr: "no netmask"},
		{values: []string{"[2001:db8::2::[2001:db8::1]:64::eth0:none"}, wantErr: "unbalanced ["},
		{values: []string{"eth0:dhcp", "eth1:auto6"}, want: UplinkOverride{Interface: "eth0", DHCP: true},
			wantErr: "device eth1, but an earlier ip= names eth0: one uplink"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.values, " "), func(t *testing.T) {
			var o UplinkOverride
			var errs []string
			for _, v := range tt.values {
				if err := parseIPParam(v, &o); err != nil {
					errs = append(errs, err.Error())
				}
			}
			got := strings.Join(errs, "\n")
			if tt.wantErr == "" && got != "" || !strings.Contains(got, tt.wantErr) {
				t.Errorf("errors %q, want %q", got, tt.wantErr)
			}
			if !reflect.DeepEqual(o, tt.want) {
				t.Errorf("override %+v, want %+v", o, tt.want)
			}
		})
	}
}

// FuzzParseIPParam: no value panics, and what a value without error gives
// is an uplink the boot can apply: host addresses with a prefix length of
// their family, gateways of an address's family.
func FuzzParseIPParam(f *testing.F) {
	for _, s := range []string{"dhcp", "eth0:auto6", "192.0.2.2::192.0.2.1:24::eth0:none",
		"[2001:db8::2]::[2001:db8::1]:64::eth0:none:[2001:db8::53]", "eth0:dhcp:1492:52:54:00:12:34:56", "[::", "]:"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var o UplinkOverride
		if err := parseIPParam(s, &o); err != nil && !strings.Contains(err.Error(), "the rest applies") {
			if !reflect.DeepEqual(o, UplinkOverride{}) {
				t.Fatalf("ip=%s refused (%v) but changed the override: %+v", s, err, o)
			}
			return
		}
		for _, p := range o.Address {
			if !p.IsValid() || p.Addr().IsUnspecified() || p.Bits() < 1 {
				t.Fatalf("ip=%s: address %s", s, p)
			}
		}
		for _, g := range o.Gateway {
			if len(o.Address) == 0 || g.Is4() != o.Address[0].Addr().Is4() {
				t.Fatalf("ip=%s: gateway %s for %v", s, g, o.Address)
			}
		}
		if !o.DHCP && !o.AcceptRA && len(o.Address) == 0 {
			t.Fatalf("ip=%s accepted without any addressing: %+v", s, o)
		}
	})
}
