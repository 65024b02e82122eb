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
		"١.2.3.4/8", "1.2.3.4:٥", "10.0.0.1/32\x00"}
	for a := range 300 {
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

func FuzzFastNetip(f *testing.F) {
	for _, s := range []string{"10.0.0.1/32", "192.0.2.1:51820", "1.2.3.4/00", "::1/128"} {
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
