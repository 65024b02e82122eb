package board

import (
	"fmt"
	"net/netip"
	"testing"
)

// TestFastNetip checks parsePrefix and parseAddrPort against net/netip:
// the same value, and an error exactly when net/netip gives one.
func TestFastNetip(t *testing.T) {
	inputs := []string{"", "1", "1.2.3", "1.2.3.4", "1.2.3.4/", "1.2.3.4:", "1.2.3.4/32", "1.2.3.4/33", "1.2.3.4/0",
		"1.2.3.4/00", "1.2.3.4/01", "1.2.3.4/+1", "1.2.3.4/-1", "1.2.3.4/3x", "1.2.3.4//3", "0.0.0.0/0", "255.255.255.255/32",
		"256.1.1.1/8", "1.2.3.04/32", "01.2.3.4/8", "1.2.3.4.5/8", "1.2..4/8", ".1.2.3/8", "1.2.3.4 /8", "1.2.3.4/8 ",
		"1.2.3.1000/8", "1.2.3.4:0", "1.2.3.4:65535", "1.2.3.4:65536", "1.2.3.4:051820", "1.2.3.4:+5", "1.2.3.4:99999999",
		"1.2.3.4:1:2", "[1.2.3.4]:5", "::1/128", "[::1]:5", "fd00::1/64", "1.2.3.4%eth0/8", "1.2.3.4/8/8", "1.2.3.4:5/8",
		"١.2.3.4/8", "1.2.3.4:٥", "10.0.0.1/32\x00",
		// IPv6: every place of "::", too many and too few groups and hex
		// digits, embedded IPv4, zones, upper case, lengths.
		"::/0", "::/128", "::/129", "::", "::/", "::1/128", "1::/16", "1::", "::1", ":/0", ":1/8", "1:/8", "1:::2/8", ":::/8",
		"1::2::3/8", "fd00:beef::/128", "fd00:beef::1:2/64", "FD00:BEEF::A/64", "fd00:BeEf::/32", "fd00:beeef::/32",
		"fd00:bee::/032", "fd00::/01", "fd00::/00", "fd00::/+8", "1:2:3:4:5:6:7:8/128", "1:2:3:4:5:6:7:8:9/128",
		"1:2:3:4:5:6:7/128", "1:2:3:4:5:6:7::/128", "::2:3:4:5:6:7:8/128", "::1:2:3:4:5:6:7:8/128",
		"1:2:3:4:5:6:7:8::/128", "1:2:3:4::5:6:7:8/128", "1:2:3::4:5:6:7/128", "0000:0000::0001/128",
		"00000::1/128", "::ffff:1.2.3.4/128", "::ffff:a00:1/128", "::1.2.3.4/128", "fe80::1%eth0/64",
		"fe80::1%/64", "fe80::g/64", "fe80:: /64", " fe80::/64", "fe80::/64 ", "[::1]/128", "2001:db8::/32:5",
		"2001:db8::/999999", "fd00::1/64/64", "fd00::1:/64", "fd00::1::/64"}
	for a := range 300 {
		inputs = append(inputs, fmt.Sprintf("fd%02x:%x::%x:%d/%d", a%256, a*97, a, a%10, a%130),
			fmt.Sprintf("%x::%x/%d", a*331, a, a))
		for _, b := range []string{"/8", "/32", "/33", ":5", ":65535"} {
			inputs = append(inputs, fmt.Sprintf("%d.%d.%d.%d%s", a, a%7, 255-a%256, a/3, b), fmt.Sprintf("%03d.1.1.1%s", a, b))
		}
	}
	for _, s := range inputs {
		p, err := parsePrefix(s)
		wp, werr := netip.ParsePrefix(s)
		if p != wp || (err == nil) != (werr == nil) {
			t.Errorf("parsePrefix(%q) = %v, %v; net/netip: %v, %v", s, p, err, wp, werr)
		}
		ap, err := parseAddrPort(s)
		wap, werr := netip.ParseAddrPort(s)
		if ap != wap || (err == nil) != (werr == nil) {
			t.Errorf("parseAddrPort(%q) = %v, %v; net/netip: %v, %v", s, ap, err, wap, werr)
		}
	}
}

// TestFastNetipTaken: the spellings of a hub's profile take the fast paths.
func TestFastNetipTaken(t *testing.T) {
	for _, s := range []string{"10.0.0.2/32", "fd00:beef::2/128", "::/0", "2001:db8:1:2:3:4:5:6/128", "1::/16"} {
		if _, rest, ok := cutIPv4(s); ok && rest[0] == '/' {
			continue
		}
		if _, rest, ok := cutIPv6(s); !ok || rest[0] != '/' {
			t.Errorf("%s: not read by cutIPv4 or cutIPv6", s)
		}
	}
	if _, _, ok := cutIPv4("192.0.2.1:51820"); !ok {
		t.Errorf("192.0.2.1:51820: not read by cutIPv4")
	}
}

func FuzzFastNetip(f *testing.F) {
	for _, s := range []string{"10.0.0.1/32", "192.0.2.1:51820", "1.2.3.4/00", "::1/128", "fd00:beef::1:2/64", "1:2:3:4:5:6:7::/112", "::ffff:1.2.3.4/128"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := parsePrefix(s)
		wp, werr := netip.ParsePrefix(s)
		if p != wp || (err == nil) != (werr == nil) {
			t.Errorf("parsePrefix(%q) = %v, %v; net/netip: %v, %v", s, p, err, wp, werr)
		}
		ap, err := parseAddrPort(s)
		wap, werr := netip.ParseAddrPort(s)
		if ap != wap || (err == nil) != (werr == nil) {
			t.Errorf("parseAddrPort(%q) = %v, %v; net/netip: %v, %v", s, ap, err, wap, werr)
		}
	})
}
