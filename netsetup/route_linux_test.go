package netsetup

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/wgboot/wgboot/netsetup/internal/nl"
	"github.com/wgboot/wgboot/netsetup/internal/nltest"
)

func TestRouteRequestValidation(t *testing.T) {
	tests := []struct {
		name string
		r    Route
	}{
		{"no destination", Route{OIF: 2}},
		{"host bits set", Route{Dst: pfx(t, "10.1.2.3/16"), OIF: 2}},
		{"neither gateway nor link", Route{Dst: pfx(t, "10.1.0.0/16")}},
		{"unspecified gateway", Route{Dst: pfx(t, "10.1.0.0/16"), Gateway: addr(t, "0.0.0.0")}},
		{"negative link", Route{Dst: pfx(t, "10.1.0.0/16"), OIF: -1}},
	}
	for _, tt := range tests {
		k := newKernel(t, d0)
		if err := k.handle().ReplaceRoute(tt.r); err == nil {
			t.Errorf("%s: ReplaceRoute(%s) succeeded, want an error", tt.name, tt.r)
		}
		if len(k.requests()) != 0 {
			t.Errorf("%s: sent requests for an invalid route", tt.name)
		}
	}
}

func TestRoutesMissingTable(t *testing.T) {
	k := newKernel(t)
	k.on[unix.RTM_GETROUTE] = func(req nl.Message) ([]nl.Message, error) {
		return nltest.Errno(req, unix.ENOENT, "ipv4: FIB table does not exist"), nil
	}
	routes, err := k.handle().Routes(unix.AF_INET, 51820)
	if err != nil || routes != nil {
		t.Errorf("Routes(AF_INET, 51820) = %v, %v, want nil, nil", routes, err)
	}
}

func TestRoutesFilters(t *testing.T) {
	in := []Route{
		{Dst: pfx(t, "10.1.0.0/16"), OIF: 2, Table: 51820},
		{Dst: pfx(t, "10.2.0.0/16"), OIF: 2, Table: 254},
		{Dst: pfx(t, "2001:db8::/32"), OIF: 2, Table: 51820},
	}
	k := newKernel(t)
	// A kernel without strict checking ignores the dump filters.
	k.on[unix.RTM_GETROUTE] = func(req nl.Message) ([]nl.Message, error) {
		var msgs []nl.Message
		for _, r := range in {
			m, err := routeRequest(unix.RTM_NEWROUTE, 0, r)
			if err != nil {
				return nil, err
			}
			msgs = append(msgs, m)
		}
		cloned, _ := routeRequest(unix.RTM_NEWROUTE, 0, in[0])
		cloned.Data[8] = unix.RTM_F_CLONED & 0xff
		cloned.Data[9] = unix.RTM_F_CLONED >> 8
		return nltest.Dump(req, append(msgs, cloned)...), nil
	}
	routes, err := k.handle().Routes(unix.AF_INET, 51820)
	if err != nil {
		t.Fatal(err)
	}
	want := in[0].withDefaults()
	if len(routes) != 1 || routes[0] != want {
		t.Errorf("Routes(AF_INET, 51820) = %+v, want [%+v]", routes, want)
	}
}

func TestReplaceRouteExtAck(t *testing.T) {
	k := newKernel(t, d0)
	k.on[unix.RTM_NEWROUTE] = func(req nl.Message) ([]nl.Message, error) {
		return nltest.Errno(req, unix.ENETUNREACH, "Nexthop has invalid gateway"), nil
	}
	err := k.handle().ReplaceRoute(Route{Dst: pfx(t, "0.0.0.0/0"), Gateway: addr(t, "192.0.2.1"), OIF: 2})
	var ne *nl.Error
	if !errors.Is(err, unix.ENETUNREACH) || !errors.As(err, &ne) || ne.Message != "Nexthop has invalid gateway" {
		t.Fatalf("ReplaceRoute() = %v, want ENETUNREACH with the ext-ack message", err)
	}
	if want := "replace route 0.0.0.0/0 via 192.0.2.1 dev 2: netlink: RTM_NEWROUTE: network is unreachable: Nexthop has invalid gateway"; err.Error() != want {
		t.Errorf("ReplaceRoute() error text:\n%s\nwant:\n%s", err, want)
	}
}

// TestGoldenReplaceRoutes pins the write of a batch of routes: the golden
// vectors of ReplaceRoute, which are compared with iproute2's, back to back
// with sequence numbers 1, 2, 3, in testdata/golden/route-replace-batch.hex
// (-update rewrites it).
func TestGoldenReplaceRoutes(t *testing.T) {
	skipBigEndian(t)
	k := newKernel(t, d0)
	h := k.handle()
	routes := []Route{
		{Dst: pfx(t, "10.2.0.0/16"), OIF: 2, Table: 51820},
		{Dst: pfx(t, "2001:db8:1::/48"), OIF: 2, Table: 51820},
		{Dst: pfx(t, "10.2.0.0/16"), OIF: 2, Table: 100},
	}
	if err := h.ReplaceRoutes(routes); err != nil {
		t.Fatal(err)
	}
	writes := k.sock.Writes()
	if len(writes) != 1 {
		t.Fatalf("%d writes, want 1", len(writes))
	}
	var want []byte
	for i, name := range []string{"route-replace-v4-table", "route-replace-v6-link", "route-replace-v4-small-table"} {
		b, err := readHex(filepath.Join("testdata", "golden", name+".hex"))
		if err != nil {
			t.Fatal(err)
		}
		binary.NativeEndian.PutUint32(b[8:12], uint32(i+1))
		want = append(want, b...)
	}
	if !bytes.Equal(writes[0], want) {
		t.Errorf("ReplaceRoutes writes:\n%s\nwant the single-route vectors back to back:\n%s", hex.Dump(writes[0]), hex.Dump(want))
	}
	path := filepath.Join("testdata", "golden", "route-replace-batch.hex")
	if *update {
		text := "# route-replace-batch: netsetup Handle.ReplaceRoutes(10.2.0.0/16 dev 2 table 51820, 2001:db8:1::/48 dev 2 table 51820, 10.2.0.0/16 dev 2 table 100).\n" +
			"# One write: route-replace-v4-table, route-replace-v6-link and route-replace-v4-small-table back to back, seq 1 to 3.\n" +
			annotate(writes[0])
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	file, err := readHex(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(writes[0], file) {
		t.Errorf("ReplaceRoutes writes:\n%s\nwant (%s):\n%s", hex.Dump(writes[0]), path, hex.Dump(file))
	}
}

// manyRoutes returns n host routes through link 2, IPv4 or IPv6.
func manyRoutes(n int, v6 bool) []Route {
	routes := make([]Route, n)
	for i := range routes {
		a := netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)})
		if v6 {
			a = netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, 13: byte(i >> 16), 14: byte(i >> 8), 15: byte(i)})
		}
		routes[i] = Route{Dst: netip.PrefixFrom(a, a.BitLen()), OIF: 2}
	}
	return routes
}

// TestReplaceRoutes_failures: the kernel refuses some routes; each is named
// with the kernel's reason, the others are applied, and all were sent in
// a few writes.
func TestReplaceRoutes_failures(t *testing.T) {
	k := newKernel(t, d0)
	k.on[unix.RTM_NEWROUTE] = func(req nl.Message) ([]nl.Message, error) {
		if r, _, _ := parseRoute(req); r.Dst.Addr().As4()[3]%100 == 7 {
			return nltest.Errno(req, unix.ENETUNREACH, "Nexthop has invalid gateway"), nil
		}
		return nltest.Ack(req), nil
	}
	h := k.handle()
	routes := manyRoutes(300, false)
	routes = append(routes, Route{Dst: pfx(t, "10.9.9.9/16"), OIF: 2}) // invalid, never sent
	err := h.ReplaceRoutes(routes)
	for _, s := range []string{
		"replace route 10.0.0.7/32 dev 2: netlink: RTM_NEWROUTE: network is unreachable: Nexthop has invalid gateway",
		"replace route 10.0.1.7/32 dev 2:", // 263
		"replace route 10.9.9.9/16 dev 2: destination 10.9.9.9/16 has host bits set",
	} {
		if err == nil || !strings.Contains(err.Error(), s) {
			t.Errorf("ReplaceRoutes() = %v\nwant it to contain %q", err, s)
		}
	}
	if !errors.Is(err, unix.ENETUNREACH) {
		t.Errorf("ReplaceRoutes() = %v, want it to match ENETUNREACH", err)
	}
	if n := len(k.requests()); n != 300 {
		t.Errorf("%d requests, want 300", n)
	}
	if n := len(k.sock.Writes()); n != 3 {
		t.Errorf("%d writes, want 3", n)
	}
}

// TestConfigureTunnelLink_cappedErrors is issue 15.5: a kernel refusing
// IPv6 routes, with 10,000 IPv6 allowed IPs, gave a 1.27 MB error. It is
// now the first 10 and a count.
func TestConfigureTunnelLink_cappedErrors(t *testing.T) {
	k := newKernel(t, wg5)
	k.on[unix.RTM_NEWROUTE] = func(req nl.Message) ([]nl.Message, error) {
		return nltest.Errno(req, unix.EACCES, "IPv6 is disabled on this device"), nil
	}
	var prefixes []netip.Prefix
	for _, r := range manyRoutes(10000, true) {
		prefixes = append(prefixes, r.Dst)
	}
	err := k.handle().ConfigureTunnelLink(TunnelLink{Name: "wg0", Routes: prefixes})
	if err == nil {
		t.Fatal("ConfigureTunnelLink() = nil, want the routes' errors")
	}
	msg := err.Error()
	if len(msg) > 2000 {
		t.Errorf("error of %d bytes, want at most 2000", len(msg))
	}
	if !strings.HasSuffix(msg, "… and 9990 more") || !errors.Is(err, unix.EACCES) {
		t.Errorf("ConfigureTunnelLink() = %s\nwant 10 errors matching EACCES and \"… and 9990 more\"", msg)
	}
	if !strings.Contains(msg, "configure tunnel link wg0: replace route 2001:db8::/128 dev 5: netlink: RTM_NEWROUTE: permission denied: IPv6 is disabled on this device") {
		t.Errorf("ConfigureTunnelLink() = %s\nwant the first route named with the kernel's reason", msg)
	}
}

// TestReplaceRoutes_enobufs: acknowledgements dropped by a full receive
// queue are not failures: those routes are sent again.
func TestReplaceRoutes_enobufs(t *testing.T) {
	k := newKernel(t, d0)
	h := k.handle()
	k.sock.SetQueueLimit(40)
	routes := manyRoutes(300, false)
	if err := h.ReplaceRoutes(routes); err != nil {
		t.Fatalf("ReplaceRoutes() = %v", err)
	}
	seen := make(map[netip.Prefix]int)
	for _, m := range k.requests() {
		r, _, err := parseRoute(m)
		if err != nil {
			t.Fatal(err)
		}
		seen[r.Dst]++
	}
	if len(seen) != len(routes) {
		t.Errorf("%d routes sent, want %d", len(seen), len(routes))
	}
	if n := len(k.requests()); n == len(routes) {
		t.Errorf("%d requests: nothing sent again", n)
	}
}

// TestHandle_SetDeadline: with a kernel that never answers, every call
// returns at the deadline with an error wrapping os.ErrDeadlineExceeded.
func TestHandle_SetDeadline(t *testing.T) {
	k := newKernel(t, wg5)
	silent := func(nl.Message) ([]nl.Message, error) { return nil, nil }
	for _, typ := range []uint16{unix.RTM_GETLINK, unix.RTM_NEWROUTE, unix.RTM_NEWADDR} {
		k.on[typ] = silent
	}
	h := k.handle()
	const wait = 50 * time.Millisecond
	for name, call := range map[string]func() error{
		"ReplaceRoutes":       func() error { return h.ReplaceRoutes(manyRoutes(200, false)) },
		"ReplaceRoute":        func() error { return h.ReplaceRoute(manyRoutes(1, false)[0]) },
		"AddAddress":          func() error { return h.AddAddress(5, pfx(t, "10.8.0.2/24")) },
		"ConfigureTunnelLink": func() error { return h.ConfigureTunnelLink(TunnelLink{Name: "wg0"}) },
	} {
		deadline := time.Now().Add(wait)
		h.SetDeadline(deadline)
		err := call()
		late := time.Since(deadline)
		if !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Errorf("%s() = %v, want os.ErrDeadlineExceeded", name, err)
		}
		if late < 0 || late > time.Second {
			t.Errorf("%s() returned %v after the deadline", name, late)
		}
	}
}
