package cli

import "testing"

// The expected values below were measured with Debian 12's wg(8)
// v1.0.20210914, ip(8) from iproute2 6.1 and glibc 2.36, in a network
// namespace; TestImportReference checks the same against them on every run.

func TestStrtoul(t *testing.T) {
	for _, tt := range []struct {
		s        string
		base     int
		want     uint64
		overflow bool
		ok       bool
	}{
		{"0", 0, 0, false, true},
		{"1420", 0, 1420, false, true},
		{"01420", 0, 0o1420, false, true},
		{"0x500", 0, 0x500, false, true},
		{"0X500", 0, 0x500, false, true},
		{"0x", 0, 0, false, false},
		{"08", 0, 0, false, false},
		{"+5", 0, 5, false, true},
		{"-0", 0, 0, false, true},
		{"-1", 10, 1<<64 - 1, false, true},
		{"18446744073709551616", 10, 1<<64 - 1, true, true},
		{"0x20", 16, 0x20, false, true},
		{"0x0x5", 16, 0, false, false},
		{"0123", 10, 123, false, true},
		{"", 10, 0, false, false},
		{"12a", 10, 0, false, false},
	} {
		n, overflow, ok := strtoul(tt.s, tt.base)
		if n != tt.want && ok || overflow != tt.overflow || ok != tt.ok {
			t.Errorf("strtoul(%q, %d) = %d, %v, %v; want %d, %v, %v", tt.s, tt.base, n, overflow, ok, tt.want, tt.overflow, tt.ok)
		}
	}
}

func TestWGNumber(t *testing.T) {
	for _, tt := range []struct {
		s     string
		hex   bool
		limit uint64
		want  uint64
		ok    bool
	}{
		{"off", true, 1<<32 - 1, 0, true},
		{"OFF", false, 65535, 0, true},
		{"0x20", true, 1<<32 - 1, 32, true},
		{"0X20", true, 1<<32 - 1, 0, false}, // wg: "Fwmark is neither 0/off nor 0-0xffffffff"
		{"0x", true, 1<<32 - 1, 0, false},
		{"0123", true, 1<<32 - 1, 123, true}, // decimal, not octal: wg shows 0x7b
		{"0xffffffff", true, 1<<32 - 1, 1<<32 - 1, true},
		{"4294967296", true, 1<<32 - 1, 0, false},
		{"0x19", false, 65535, 0, false}, // keepalive is decimal only
		{"025", false, 65535, 25, true},
		{"65536", false, 65535, 0, false},
		{"+5", false, 65535, 0, false},
	} {
		n, ok := wgNumber(tt.s, tt.hex, tt.limit)
		if n != tt.want || ok != tt.ok {
			t.Errorf("wgNumber(%q, %v) = %d, %v; want %d, %v", tt.s, tt.hex, n, ok, tt.want, tt.ok)
		}
	}
}

func TestReadService(t *testing.T) {
	for _, tt := range []struct {
		s       string
		port    uint16
		numeric bool
		wraps   bool
	}{
		{"51820", 51820, true, false},
		{"051820", 51820, true, false},
		{"123456", 57920, true, true}, // wg shows ListenPort = 57920
		{"70000", 4464, true, true},
		{"65536", 0, true, true},
		{"+7", 7, true, false},
		{"-1", 0, false, false},
		{"domain", 0, false, false},
		{"0x10", 0, false, false}, // glibc: "Servname not supported"
		{"", 0, false, false},
	} {
		sp := readService(tt.s)
		if sp.port != tt.port || sp.numeric != tt.numeric || sp.wraps != tt.wraps {
			t.Errorf("readService(%q) = %+v; want port %d numeric %v wraps %v", tt.s, sp, tt.port, tt.numeric, tt.wraps)
		}
	}
}

func TestInetAton(t *testing.T) {
	for _, tt := range []struct {
		s    string
		want string // "" for an error
	}{
		{"192.0.2.1", "192.0.2.1"},
		{"127.1", "127.0.0.1"},
		{"0x7f.1", "127.0.0.1"},
		{"2130706433", "127.0.0.1"},
		{"0177.0.0.1", "127.0.0.1"},
		{"01.2.3.4", "1.2.3.4"},
		{"192.0.513", "192.0.2.1"},
		{"1.2.3.256", ""},
		{"1.2.3.4.5", ""},
		{"1.", ""},
		{"+1.2.3.4", ""},
		{"4294967296", ""},
		{"256.1", ""},
	} {
		a, ok := inetAton(tt.s)
		if got := a.String(); ok != (tt.want != "") || ok && got != tt.want {
			t.Errorf("inetAton(%q) = %s, %v; want %q", tt.s, got, ok, tt.want)
		}
	}
}

func TestIPPrefix(t *testing.T) {
	for _, tt := range []struct {
		s     string
		want  string // "" for an error
		plain bool
	}{
		{"10.0.0.1/24", "10.0.0.1/24", true},
		{"10.0.0.1", "10.0.0.1/32", true},
		{"fd00::1/64", "fd00::1/64", true},
		{"fd00::1", "fd00::1/128", true},
		{"10.0.0.1/255.255.255.0", "10.0.0.1/24", false},
		{"10.0.0.2/024", "10.0.0.2/20", false},
		{"10.0.0.3/0x18", "10.0.0.3/24", false},
		{"10.1", "10.1.0.0/32", false},
		{"010.0.0.4/24", "8.0.0.4/24", false},
		{"10.0.0.5/+24", "10.0.0.5/24", false},
		{"fd00::2/0x40", "fd00::2/64", false},
		{"10.0.0.6/255.0.255.0", "", false},
		{"10.0.0.7/33", "", false},
		{"fe80::1%d0/64", "", false},
		{"10.0.0.8/08", "", false},
		{"1.2.3.4.5", "", false},
	} {
		p, plain, ok := ipPrefix(tt.s)
		if ok != (tt.want != "") || ok && (p.String() != tt.want || plain != tt.plain) {
			t.Errorf("ipPrefix(%q) = %s, plain %v, %v; want %q, plain %v", tt.s, p, plain, ok, tt.want, tt.plain)
		}
	}
}

func TestAllowedIP(t *testing.T) {
	for _, tt := range []struct {
		s    string
		want string
	}{
		{"10.0.0.0/8", "10.0.0.0/8"},
		{"10.0.0.0/08", "10.0.0.0/8"},
		{"10.0.0.1", "10.0.0.1/32"},
		{"::/0", "::/0"},
		{"::ffff:10.0.0.0/104", "::ffff:10.0.0.0/104"},
		{"10.0.0.0/", ""},
		{"10.0.0.0/+8", ""},
		{"010.0.0.0/8", ""},
		{"fe80::/64%lo", ""},
		{"fe80::1%lo", ""},
		{"10.0.0.0/33", ""},
		{"10.0.0.0/255.0.0.0", ""},
		{"", ""},
	} {
		p, ok := allowedIP(tt.s)
		if ok != (tt.want != "") || ok && p.String() != tt.want {
			t.Errorf("allowedIP(%q) = %s, %v; want %q", tt.s, p, ok, tt.want)
		}
	}
}

func TestEndpointSyntax(t *testing.T) {
	for _, tt := range []struct {
		v, host, port string
		kind          hostKind
		addr          string
	}{
		{"192.0.2.1:51820", "192.0.2.1", "51820", hostIP, "192.0.2.1"},
		{"2001:db8:43::1:51820", "2001:db8:43::1", "51820", hostIP, "2001:db8:43::1"},
		{"[2001:db8::1]:51820", "2001:db8::1", "51820", hostIP, "2001:db8::1"},
		{"[192.0.2.1]:51820", "192.0.2.1", "51820", hostIP, "192.0.2.1"},
		{"[fe80::1%lo]:51820", "fe80::1%lo", "51820", hostZoned, "fe80::1%lo"},
		{"fe80::1%1:51820", "fe80::1%1", "51820", hostZoned, "fe80::1%1"},
		{"vpn.example.com:51820", "vpn.example.com", "51820", hostName, "invalid IP"},
		{"2001:db8::1", "2001:db8:", "1", hostInvalid, "invalid IP"},
		{"192.0.2.256:1", "192.0.2.256", "1", hostInvalid, "invalid IP"},
	} {
		host, port, bad := endpointSyntax(tt.v)
		if host != tt.host || port != tt.port || bad != "" {
			t.Errorf("endpointSyntax(%q) = %q, %q, %q; want %q, %q", tt.v, host, port, bad, tt.host, tt.port)
			continue
		}
		a, kind, _ := endpointHost(host)
		if kind != tt.kind || a.String() != tt.addr {
			t.Errorf("endpointHost(%q) = %s, %d; want %s, %d", host, a, kind, tt.addr, tt.kind)
		}
	}
	for _, v := range []string{"[::1]", "[::1]51820", "[::1]:", "192.0.2.1", "192.0.2.1:", "[::1:51820"} {
		if _, _, bad := endpointSyntax(v); bad == "" {
			t.Errorf("endpointSyntax(%q) accepted it; wg(8) refuses it", v)
		}
	}
}

func TestDeleteBlanks(t *testing.T) {
	if got := deleteBlanks("Listen Port =\t51 820\r\v\f"); got != "ListenPort=51820" {
		t.Errorf("deleteBlanks = %q", got)
	}
	if got := deleteBlanks("a\u00a0b"); got != "a\u00a0b" {
		t.Errorf("deleteBlanks deleted a no-break space: %q", got)
	}
}
