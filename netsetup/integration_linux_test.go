package netsetup

import (
	"context"
	"errors"
	"net/netip"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// Privileged tests against the host kernel, each in a fresh network
// namespace (see newNetNS): they skip unless root, and as root they run.
// State is read back over netlink, never by running ip(8). The namespace,
// and everything in it, disappears when the test ends.
//
// Build and run them as the CI does:
//
//	go test -c -o out/netsetup.test ./netsetup
//	sudo out/netsetup.test -test.run '^TestIntegration' -test.v

// dummyKind returns the kind to use for dummy links: "dummy", or "ifb" when
// the kernel lacks the dummy driver (CONFIG_DUMMY unset, no module), since
// an ifb link behaves alike here: no lower device, carrier when up.
func dummyKind(t testing.TB, h *Handle) string {
	t.Helper()
	_, err := h.CreateLink("probe0", "dummy")
	if err == nil {
		l, err := h.LinkByName("probe0")
		if err == nil {
			err = h.DeleteLink(l.Index)
		}
		if err != nil {
			t.Fatal(err)
		}
		return "dummy"
	}
	if !errors.Is(err, unix.EOPNOTSUPP) {
		t.Fatal(err)
	}
	t.Logf("kernel has no dummy driver (%v): using ifb links instead", err)
	return "ifb"
}

// newDummy creates a dummy (or stand-in) link.
func newDummy(t testing.TB, h *Handle, name string) Link {
	t.Helper()
	l, err := h.CreateLink(name, dummyKind(t, h))
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func TestIntegrationLinks(t *testing.T) {
	t.Parallel()
	h := newNetNS(t).handle(t)
	kind := dummyKind(t, h)
	l, err := h.CreateLink("d0", kind)
	if err != nil {
		t.Fatal(err)
	}
	if l.Name != "d0" || l.Kind != kind || l.Index <= 1 || l.Up() {
		t.Errorf("CreateLink(d0, %s) = %+v", kind, l)
	}
	if _, err := h.CreateLink("d0", kind); !errors.Is(err, unix.EEXIST) {
		t.Errorf("CreateLink(d0) again = %v, want EEXIST", err)
	}
	if err := h.SetMTU(l.Index, 1400); err != nil {
		t.Fatal(err)
	}
	if err := h.RenameLink(l.Index, "d1"); err != nil {
		t.Fatal(err)
	}
	if err := h.SetLinkUp(l.Index, true); err != nil {
		t.Fatal(err)
	}
	got, err := h.LinkByName("d1")
	if err != nil {
		t.Fatal(err)
	}
	if got.Index != l.Index || got.MTU != 1400 || !got.Up() || !got.Carrier() {
		t.Errorf("after MTU, rename and up: %+v, want index %d, mtu 1400, up with carrier", got, l.Index)
	}
	if err := h.SetLinkUp(l.Index, false); err != nil {
		t.Fatal(err)
	}
	if got, err = h.LinkByIndex(l.Index); err != nil || got.Up() {
		t.Errorf("LinkByIndex after down = %+v, %v, want down", got, err)
	}

	v, err := h.CreateLink("v0", "veth", VethPeer("v1"))
	if err != nil {
		t.Fatal(err)
	}
	peer, err := h.LinkByName("v1")
	if err != nil || v.Kind != "veth" || peer.Kind != "veth" {
		t.Fatalf("veth pair: %+v, %+v, %v", v, peer, err)
	}
	links, err := h.Links()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, l := range links {
		names = append(names, l.Name)
	}
	slices.Sort(names)
	if want := []string{"d1", "lo", "v0", "v1"}; !reflect.DeepEqual(names, want) {
		t.Errorf("Links() names = %v, want %v", names, want)
	}

	for _, index := range []int32{l.Index, v.Index} {
		if err := h.DeleteLink(index); err != nil {
			t.Fatal(err)
		}
	}
	for _, name := range []string{"d1", "v0", "v1"} {
		if _, err := h.LinkByName(name); !errors.Is(err, unix.ENODEV) {
			t.Errorf("LinkByName(%s) after delete = %v, want ENODEV", name, err)
		}
	}
	if err := h.DeleteLink(l.Index); !errors.Is(err, unix.ENODEV) {
		t.Errorf("DeleteLink twice = %v, want ENODEV", err)
	}
}

func TestIntegrationAddresses(t *testing.T) {
	t.Parallel()
	h := newNetNS(t).handle(t)
	l := newDummy(t, h, "d0")
	v4, v6 := pfx(t, "10.0.0.2/24"), pfx(t, "2001:db8::2/64")
	for _, p := range []netip.Prefix{v4, v6} {
		if err := h.AddAddress(l.Index, p); err != nil {
			t.Fatal(err)
		}
		// Again: EEXIST, verified, is success.
		if err := h.AddAddress(l.Index, p); err != nil {
			t.Errorf("AddAddress(%s) again = %v, want nil", p, err)
		}
	}
	// The same IPv6 address with another prefix length is an error.
	if err := h.AddAddress(l.Index, pfx(t, "2001:db8::2/56")); !errors.Is(err, unix.EEXIST) {
		t.Errorf("AddAddress(2001:db8::2/56) = %v, want EEXIST", err)
	}
	// A second IPv4 address on the link (SIOCSIFADDR cannot do this).
	if err := h.AddAddress(l.Index, pfx(t, "10.0.1.2/24")); err != nil {
		t.Fatal(err)
	}
	got := addressesOf(t, h, l.Index)
	for _, p := range []netip.Prefix{v4, v6, pfx(t, "10.0.1.2/24")} {
		if !slices.Contains(got, p) {
			t.Errorf("Addresses() = %v, lacks %s", got, p)
		}
	}
	if err := h.DeleteAddress(l.Index, v4); err != nil {
		t.Fatal(err)
	}
	if err := h.DeleteAddress(l.Index, v4); !errors.Is(err, unix.EADDRNOTAVAIL) {
		t.Errorf("DeleteAddress twice = %v, want EADDRNOTAVAIL", err)
	}
	if got := addressesOf(t, h, l.Index); slices.Contains(got, v4) {
		t.Errorf("Addresses() after delete = %v, still has %s", got, v4)
	}
}

// addressesOf returns the prefixes on a link.
func addressesOf(t testing.TB, h *Handle, index int32) []netip.Prefix {
	t.Helper()
	addrs, err := h.Addresses(index)
	if err != nil {
		t.Fatal(err)
	}
	var out []netip.Prefix
	for _, a := range addrs {
		if a.Index != index {
			t.Errorf("Addresses(%d) returned %+v of another link", index, a)
		}
		out = append(out, a.Prefix)
	}
	return out
}

func TestIntegrationRoutes(t *testing.T) {
	t.Parallel()
	h := newNetNS(t).handle(t)
	l := newDummy(t, h, "d0")
	if err := h.SetLinkUp(l.Index, true); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"10.0.0.2/24", "2001:db8::2/64"} {
		if err := h.AddAddress(l.Index, pfx(t, p)); err != nil {
			t.Fatal(err)
		}
	}
	routes := []Route{
		{Dst: pfx(t, "10.1.0.0/16"), Gateway: addr(t, "10.0.0.1"), OIF: l.Index, Metric: 100},
		{Dst: pfx(t, "0.0.0.0/0"), Gateway: addr(t, "10.0.0.1"), OIF: l.Index},
		{Dst: pfx(t, "10.2.0.0/16"), OIF: l.Index, Table: 51820},
		{Dst: pfx(t, "0.0.0.0/0"), OIF: l.Index, Table: 51820},
		{Dst: pfx(t, "2001:db8:1::/48"), OIF: l.Index, Table: 51820},
		{Dst: pfx(t, "::/0"), Gateway: addr(t, "fe80::1"), OIF: l.Index, Metric: 10},
	}
	for _, r := range routes {
		if err := h.ReplaceRoute(r); err != nil {
			t.Fatal(err)
		}
		// Idempotent.
		if err := h.ReplaceRoute(r); err != nil {
			t.Fatalf("ReplaceRoute(%s) again = %v", r, err)
		}
	}
	for _, tc := range []struct {
		family uint8
		table  uint32
		want   []Route
	}{
		{unix.AF_INET, 51820, routes[2:4]},
		{unix.AF_INET6, 51820, routes[4:5]},
	} {
		got, err := h.Routes(tc.family, tc.table)
		if err != nil {
			t.Fatal(err)
		}
		var want []Route
		for _, r := range tc.want {
			want = append(want, r.withDefaults())
		}
		if !sameRoutes(got, want) {
			t.Errorf("Routes(%d, %d) = %+v, want %+v", tc.family, tc.table, got, want)
		}
	}
	main, err := h.Routes(unix.AF_UNSPEC, unix.RT_TABLE_MAIN)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range []Route{routes[0], routes[1], routes[5]} {
		if !containsRoute(main, r.withDefaults()) {
			t.Errorf("Routes(main) lacks %+v; got %+v", r.withDefaults(), main)
		}
	}
	if got, err := h.Routes(unix.AF_INET, 51821); err != nil || len(got) != 0 {
		t.Errorf("Routes of a missing table = %v, %v, want none", got, err)
	}
	if err := h.DeleteRoute(routes[2]); err != nil {
		t.Fatal(err)
	}
	if err := h.DeleteRoute(routes[2]); !errors.Is(err, unix.ESRCH) {
		t.Errorf("DeleteRoute twice = %v, want ESRCH", err)
	}
	if got, _ := h.Routes(unix.AF_INET, 51820); containsRoute(got, routes[2].withDefaults()) {
		t.Errorf("route %s still there after delete", routes[2])
	}
	// The kernel's reason reaches the error.
	err = h.ReplaceRoute(Route{Dst: pfx(t, "10.3.0.0/16"), Gateway: addr(t, "192.0.2.1"), OIF: l.Index})
	if !errors.Is(err, unix.ENETUNREACH) {
		t.Errorf("route via an unreachable gateway = %v, want ENETUNREACH", err)
	}
	t.Logf("kernel's answer to an unreachable gateway: %v", err)
}

// sameRoutes compares route sets, ignoring order; IPv6 metric 0 reads back
// as 1024.
func sameRoutes(got, want []Route) bool {
	if len(got) != len(want) {
		return false
	}
	for _, w := range want {
		if w.Dst.Addr().Is6() && w.Metric == 0 {
			w.Metric = 1024
		}
		if !containsRoute(got, w) {
			return false
		}
	}
	return true
}

func TestIntegrationRules(t *testing.T) {
	t.Parallel()
	h := newNetNS(t).handle(t)
	// The two rules of a wg-quick full tunnel, for both families.
	var added []Rule
	for _, fam := range []uint8{unix.AF_INET, unix.AF_INET6} {
		for _, r := range []Rule{
			{Family: fam, Table: 51820, Mark: 51820, Invert: true},
			{Family: fam, SuppressPrefixLen: new(0)},
		} {
			// Twice: no priority, so AddRule must find the first.
			for range 2 {
				if err := h.AddRule(r); err != nil {
					t.Fatal(err)
				}
			}
			added = append(added, r)
		}
	}
	v4, err := h.Rules(unix.AF_INET)
	if err != nil {
		t.Fatal(err)
	}
	want := []Rule{
		{Family: unix.AF_INET, Priority: 0, Table: unix.RT_TABLE_LOCAL},
		{Family: unix.AF_INET, Priority: 32764, Table: unix.RT_TABLE_MAIN, SuppressPrefixLen: new(0)},
		{Family: unix.AF_INET, Priority: 32765, Table: 51820, Mark: 51820, Invert: true},
		{Family: unix.AF_INET, Priority: 32766, Table: unix.RT_TABLE_MAIN},
		{Family: unix.AF_INET, Priority: 32767, Table: unix.RT_TABLE_DEFAULT},
	}
	if !reflect.DeepEqual(v4, want) {
		t.Errorf("Rules(AF_INET) =\n%v\nwant\n%v", v4, want)
	}
	v6, err := h.Rules(unix.AF_INET6)
	if err != nil {
		t.Fatal(err)
	}
	if len(v6) != 4 {
		t.Errorf("Rules(AF_INET6) = %v, want local, the two added, main", v6)
	}
	// With a priority, the kernel's EEXIST ignores the invert flag;
	// AddRule does not.
	masked := Rule{Family: unix.AF_INET, Priority: 100, Table: 51820, Mark: 0xca6c, Mask: 0xffff}
	if err := h.AddRule(masked); err != nil {
		t.Fatal(err)
	}
	if err := h.AddRule(masked); err != nil {
		t.Errorf("AddRule(%s) again = %v, want nil", masked, err)
	}
	inverted := masked
	inverted.Invert = true
	if err := h.AddRule(inverted); !errors.Is(err, unix.EEXIST) {
		t.Errorf("AddRule(%s) over %s = %v, want EEXIST", inverted, masked, err)
	}
	for _, r := range append(added, masked) {
		if err := h.DeleteRule(r); err != nil {
			t.Errorf("DeleteRule(%s) = %v", r, err)
		}
	}
	if err := h.DeleteRule(masked); !errors.Is(err, unix.ENOENT) {
		t.Errorf("DeleteRule twice = %v, want ENOENT", err)
	}
	if v4, _ := h.Rules(unix.AF_INET); len(v4) != 3 {
		t.Errorf("Rules(AF_INET) after deletes = %v, want the 3 defaults", v4)
	}
}

func TestIntegrationWaitCarrier(t *testing.T) {
	t.Parallel()
	h := newNetNS(t).handle(t)
	v0, err := h.CreateLink("v0", "veth", VethPeer("v1"))
	if err != nil {
		t.Fatal(err)
	}
	v1, err := h.LinkByName("v1")
	if err != nil {
		t.Fatal(err)
	}
	if err := h.SetLinkUp(v0.Index, true); err != nil {
		t.Fatal(err)
	}
	// The peer is down: no carrier within the deadline.
	ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
	defer cancel()
	if err := h.WaitCarrier(ctx, v0.Index); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("WaitCarrier with the peer down = %v, want a timeout", err)
	}
	// The peer comes up 200 ms later.
	const delay = 200 * time.Millisecond
	errc := make(chan error, 1)
	time.AfterFunc(delay, func() { errc <- h.SetLinkUp(v1.Index, true) })
	ctx, cancel = context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	start := time.Now()
	if err := h.WaitCarrier(ctx, v0.Index); err != nil {
		t.Fatalf("WaitCarrier = %v", err)
	}
	took := time.Since(start)
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	if took < delay/2 {
		t.Errorf("WaitCarrier returned after %v, before the peer came up", took)
	}
	t.Logf("carrier %v after waiting started (peer up after %v)", took, delay)
	l, err := h.LinkByIndex(v0.Index)
	if err != nil || !l.Carrier() {
		t.Errorf("after WaitCarrier: %+v, %v, want carrier", l, err)
	}
}

func TestIntegrationIoctl(t *testing.T) {
	t.Parallel()
	ns := newNetNS(t)
	h := ns.handle(t)
	l := newDummy(t, h, "d0")
	p := pfx(t, "10.9.0.1/16")
	// ioctls act on the calling thread's namespace: run them on the
	// namespace's thread.
	if err := ns.Do(func() error {
		if err := SetMTUIoctl("d0", 1400); err != nil {
			return err
		}
		if err := SetIPv4Ioctl("d0", p); err != nil {
			return err
		}
		return SetUpIoctl("d0")
	}); err != nil {
		t.Fatal(err)
	}
	got, err := h.LinkByIndex(l.Index)
	if err != nil {
		t.Fatal(err)
	}
	if got.MTU != 1400 || !got.Up() {
		t.Errorf("after ioctls: %+v, want mtu 1400 and up", got)
	}
	if addrs := addressesOf(t, h, l.Index); !slices.Contains(addrs, p) {
		t.Errorf("Addresses() = %v, want %s", addrs, p)
	}
	// SIOCSIFADDR replaces the primary address.
	if err := ns.Do(func() error { return SetIPv4Ioctl("d0", pfx(t, "10.8.0.1/24")) }); err != nil {
		t.Fatal(err)
	}
	if addrs := addressesOf(t, h, l.Index); slices.Contains(addrs, p) || !slices.Contains(addrs, pfx(t, "10.8.0.1/24")) {
		t.Errorf("Addresses() after a second SIOCSIFADDR = %v, want only 10.8.0.1/24", addrs)
	}
	err = ns.Do(func() error { return SetUpIoctl("nosuch0") })
	if !errors.Is(err, unix.ENODEV) {
		t.Errorf("SetUpIoctl(nosuch0) = %v, want ENODEV", err)
	}
}

func TestIntegrationBringUpUplink(t *testing.T) {
	t.Parallel()
	h := newNetNS(t).handle(t)
	u0, err := h.CreateLink("u0", "veth", VethPeer("u1"))
	if err != nil {
		t.Fatal(err)
	}
	u1, err := h.LinkByName("u1")
	if err != nil {
		t.Fatal(err)
	}
	// The far end comes up while the uplink waits for carrier.
	errc := make(chan error, 1)
	time.AfterFunc(200*time.Millisecond, func() { errc <- h.SetLinkUp(u1.Index, true) })
	u := Uplink{
		Interface:      "u0",
		Addresses:      []netip.Prefix{pfx(t, "192.0.2.10/24"), pfx(t, "2001:db8::10/64")},
		Gateways:       []netip.Addr{addr(t, "192.0.2.1"), addr(t, "fe80::1")},
		CarrierTimeout: 5 * time.Second,
	}
	if err := h.BringUpUplink(t.Context(), u, t.Logf); err != nil {
		t.Fatal(err)
	}
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	addrs := addressesOf(t, h, u0.Index)
	for _, p := range u.Addresses {
		if !slices.Contains(addrs, p) {
			t.Errorf("uplink addresses %v lack %s", addrs, p)
		}
	}
	routes, err := h.Routes(unix.AF_UNSPEC, unix.RT_TABLE_MAIN)
	if err != nil {
		t.Fatal(err)
	}
	for _, gw := range u.Gateways {
		want := Route{Dst: defaultPrefix(gw), Gateway: gw, OIF: u0.Index}.withDefaults()
		if gw.Is6() {
			want.Metric = 1024
		}
		if !containsRoute(routes, want) {
			t.Errorf("main table lacks %+v; has %+v", want, routes)
		}
	}
	// Idempotent: a second run changes nothing and succeeds.
	if err := h.BringUpUplink(t.Context(), u, t.Logf); err != nil {
		t.Errorf("BringUpUplink again = %v", err)
	}
}

func TestIntegrationConfigureTunnelLink(t *testing.T) {
	t.Parallel()
	h := newNetNS(t).handle(t)
	// A dummy link stands in for wireguard, which may be missing;
	// TestIntegrationWireGuardLink covers the real kind.
	l := newDummy(t, h, "wg0")
	tl := TunnelLink{
		Name:      "wg0",
		MTU:       1420,
		Addresses: []netip.Prefix{pfx(t, "10.8.0.2/24"), pfx(t, "fd00:8::2/64")},
		Routes:    []netip.Prefix{pfx(t, "10.8.0.0/24"), pfx(t, "0.0.0.0/0"), pfx(t, "fd00:9::/64")},
		Table:     51820,
	}
	for range 2 { // idempotent
		if err := h.ConfigureTunnelLink(tl); err != nil {
			t.Fatal(err)
		}
	}
	got, err := h.LinkByIndex(l.Index)
	if err != nil || got.MTU != 1420 || !got.Up() {
		t.Errorf("tunnel link %+v, %v, want mtu 1420, up", got, err)
	}
	addrs := addressesOf(t, h, l.Index)
	for _, p := range tl.Addresses {
		if !slices.Contains(addrs, p) {
			t.Errorf("addresses %v lack %s", addrs, p)
		}
	}
	routes, err := h.Routes(unix.AF_UNSPEC, 51820)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range tl.Routes {
		want := Route{Dst: p, OIF: l.Index, Table: 51820}.withDefaults()
		if p.Addr().Is6() {
			want.Metric = 1024
		}
		if !containsRoute(routes, want) {
			t.Errorf("table 51820 lacks %+v; has %+v", want, routes)
		}
	}
	// Lowering the MTU under 1280 takes IPv6 off the link: refused up
	// front with a clear error.
	tl.MTU = 1200
	if err := h.ConfigureTunnelLink(tl); err == nil {
		t.Error("ConfigureTunnelLink with mtu 1200 and IPv6 = nil, want an error")
	} else {
		t.Logf("mtu 1200: %v", err)
	}
}

// TestIntegrationReplaceRoutes adds 10,000 routes, half IPv4, half IPv6,
// in batches, with one through a gateway the kernel cannot reach in the
// middle: that one fails with the kernel's reason, all the others are
// there, and a second run changes nothing.
func TestIntegrationReplaceRoutes(t *testing.T) {
	t.Parallel()
	h := newNetNS(t).handle(t)
	l := newDummy(t, h, "wg0")
	if err := h.SetLinkUp(l.Index, true); err != nil {
		t.Fatal(err)
	}
	var routes []Route
	for _, r := range append(manyRoutes(5000, false), manyRoutes(5000, true)...) {
		r.OIF, r.Table = l.Index, 51820
		routes = append(routes, r)
	}
	bad := Route{Dst: pfx(t, "10.255.0.0/16"), Gateway: addr(t, "203.0.113.1"), OIF: l.Index, Table: 51820}
	withBad := slices.Insert(slices.Clone(routes), 5000, bad)
	start := time.Now()
	err := h.ReplaceRoutes(withBad)
	t.Logf("%d routes in %v", len(withBad), time.Since(start))
	if want := "replace route 10.255.0.0/16 via 203.0.113.1 dev 2 table 51820: netlink: RTM_NEWROUTE: network is unreachable: Nexthop has invalid gateway"; err == nil || err.Error() != want {
		t.Errorf("ReplaceRoutes() = %v\nwant %s", err, want)
	}
	for range 2 {
		got, err := h.Routes(unix.AF_UNSPEC, 51820)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(routes) {
			t.Errorf("table 51820 has %d routes, want %d", len(got), len(routes))
		}
		// Idempotent.
		if err := h.ReplaceRoutes(routes); err != nil {
			t.Fatal(err)
		}
	}
}

func TestIntegrationWireGuardLink(t *testing.T) {
	t.Parallel()
	h := newNetNS(t).handle(t)
	l, created, err := h.EnsureWireGuardLink("wg0")
	if errors.Is(err, unix.EOPNOTSUPP) {
		t.Skipf("skipping, the kernel has no wireguard driver: %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	if !created || l.Kind != "wireguard" || l.Name != "wg0" {
		t.Errorf("EnsureWireGuardLink(wg0) = %+v, %v, want a new wireguard link", l, created)
	}
	again, created, err := h.EnsureWireGuardLink("wg0")
	if err != nil || created || again.Index != l.Index {
		t.Errorf("EnsureWireGuardLink(wg0) again = %+v, %v, %v, want the same link, not created", again, created, err)
	}
	if err := h.ConfigureTunnelLink(TunnelLink{Name: "wg0", MTU: 1420,
		Addresses: []netip.Prefix{pfx(t, "10.8.0.2/24"), pfx(t, "fd00:8::2/64")},
		Routes:    []netip.Prefix{pfx(t, "10.8.0.0/16")}}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := h.EnsureWireGuardLink("lo"); err == nil {
		t.Error("EnsureWireGuardLink(lo) = nil, want a kind mismatch error")
	}
}

// flagsOf returns the IFA_F_* flags of address a on the link.
func flagsOf(t testing.TB, h *Handle, index int32, a netip.Prefix) uint32 {
	t.Helper()
	addrs, err := h.Addresses(index)
	if err != nil {
		t.Fatal(err)
	}
	for _, x := range addrs {
		if x.Prefix == a {
			return x.Flags
		}
	}
	t.Fatalf("link %d has no address %s", index, a)
	return 0
}

// TestIntegrationWaitDAD: on a veth pair, an IPv6 address starts tentative
// and WaitDAD returns once duplicate address detection completes; one
// added with NoDAD is never tentative; one that the other end already has
// fails detection, and WaitDAD says which.
func TestIntegrationWaitDAD(t *testing.T) {
	t.Parallel()
	h := newNetNS(t).handle(t)
	v0, err := h.CreateLink("v0", "veth", VethPeer("v1"))
	if err != nil {
		t.Fatal(err)
	}
	v1, err := h.LinkByName("v1")
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range []Link{v0, v1} {
		if err := h.SetLinkUp(l.Index, true); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	if err := h.WaitCarrier(ctx, v0.Index); err != nil {
		t.Fatal(err)
	}

	p := pfx(t, "2001:db8::1/64")
	if err := h.AddAddress(v0.Index, p); err != nil {
		t.Fatal(err)
	}
	if f := flagsOf(t, h, v0.Index, p); f&unix.IFA_F_TENTATIVE == 0 {
		t.Fatalf("%s flags %#x right after adding it, want IFA_F_TENTATIVE", p, f)
	}
	start := time.Now()
	if err := h.WaitDAD(ctx, v0.Index); err != nil {
		t.Fatalf("WaitDAD() = %v", err)
	}
	t.Logf("duplicate address detection took %v", time.Since(start).Round(time.Millisecond))
	for _, a := range addressesOf(t, h, v0.Index) {
		if f := flagsOf(t, h, v0.Index, a); f&unix.IFA_F_TENTATIVE != 0 {
			t.Errorf("%s flags %#x after WaitDAD, want not tentative", a, f)
		}
	}

	nodad := pfx(t, "2001:db8::2/64")
	if err := h.AddAddress(v0.Index, nodad, NoDAD()); err != nil {
		t.Fatal(err)
	}
	if f := flagsOf(t, h, v0.Index, nodad); f&unix.IFA_F_TENTATIVE != 0 || f&unix.IFA_F_NODAD == 0 {
		t.Errorf("%s added with NoDAD: flags %#x, want IFA_F_NODAD and not tentative", nodad, f)
	}

	// v1 has 2001:db8::3 already and answers v0's probe for it.
	dup := pfx(t, "2001:db8::3/64")
	if err := h.AddAddress(v1.Index, dup, NoDAD()); err != nil {
		t.Fatal(err)
	}
	if err := h.AddAddress(v0.Index, dup); err != nil {
		t.Fatal(err)
	}
	err = h.WaitDAD(ctx, v0.Index, dup.Addr())
	if !errors.Is(err, ErrDADFailed) || !strings.Contains(err.Error(), dup.String()) {
		t.Errorf("WaitDAD(%s, present on the other end) = %v, want ErrDADFailed naming it", dup, err)
	}
}

// TestIntegrationBringUpUplinkDAD brings up an IPv6-only uplink on a veth
// pair: with DADTimeout it returns once no address is tentative; with
// NoDAD its address is never tentative.
func TestIntegrationBringUpUplinkDAD(t *testing.T) {
	t.Parallel()
	for _, noDAD := range []bool{false, true} {
		h := newNetNS(t).handle(t)
		u0, err := h.CreateLink("u0", "veth", VethPeer("u1"))
		if err != nil {
			t.Fatal(err)
		}
		u1, err := h.LinkByName("u1")
		if err != nil {
			t.Fatal(err)
		}
		if err := h.SetLinkUp(u1.Index, true); err != nil {
			t.Fatal(err)
		}
		u := Uplink{
			Interface:      "u0",
			Addresses:      []netip.Prefix{pfx(t, "2001:db8::10/64")},
			Gateways:       []netip.Addr{addr(t, "fe80::1")},
			CarrierTimeout: 5 * time.Second,
			NoDAD:          noDAD,
		}
		if !noDAD {
			u.DADTimeout = 10 * time.Second
		}
		start := time.Now()
		if err := h.BringUpUplink(t.Context(), u, t.Logf); err != nil {
			t.Fatal(err)
		}
		t.Logf("nodad %v: uplink up in %v", noDAD, time.Since(start).Round(time.Millisecond))
		f := flagsOf(t, h, u0.Index, u.Addresses[0])
		if f&unix.IFA_F_TENTATIVE != 0 || noDAD != (f&unix.IFA_F_NODAD != 0) {
			t.Errorf("nodad %v: %s flags %#x after BringUpUplink, want not tentative", noDAD, u.Addresses[0], f)
		}
	}
}

// TestIntegrationAddressLifetimes: an address added with Lifetimes, as a
// DHCP lease's is, has them in the kernel (read back from IFA_CACHEINFO),
// and adding it again with others replaces them.
func TestIntegrationAddressLifetimes(t *testing.T) {
	t.Parallel()
	h := newNetNS(t).handle(t)
	l := newDummy(t, h, "d0")
	p := pfx(t, "192.0.2.10/24")
	lifetimes := func() (time.Duration, time.Duration) {
		t.Helper()
		addrs, err := h.Addresses(l.Index)
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range addrs {
			if a.Prefix == p {
				return a.Valid, a.Preferred
			}
		}
		t.Fatalf("%s not on the link: %+v", p, addrs)
		return 0, 0
	}
	if err := h.AddAddress(l.Index, p, Lifetimes(3600*time.Second, 1800*time.Second)); err != nil {
		t.Fatal(err)
	}
	if v, pr := lifetimes(); v < 3598*time.Second || v > 3600*time.Second || pr < 1798*time.Second || pr > 1800*time.Second {
		t.Errorf("lifetimes %v/%v, want 3600s/1800s", v, pr)
	}
	if err := h.AddAddress(l.Index, p, Lifetimes(600*time.Second, 600*time.Second)); err != nil {
		t.Fatalf("AddAddress again: %v", err)
	}
	if v, pr := lifetimes(); v > 600*time.Second || pr > 600*time.Second || v < 598*time.Second {
		t.Errorf("lifetimes after the second add %v/%v, want 600s/600s", v, pr)
	}
	if err := h.AddAddress(l.Index, pfx(t, "192.0.2.11/24"), Lifetimes(time.Second, 2*time.Second)); err == nil {
		t.Error("AddAddress with preferred longer than valid succeeded")
	}
	q := pfx(t, "192.0.2.12/24")
	if err := h.AddAddress(l.Index, q); err != nil {
		t.Fatal(err)
	}
	addrs, _ := h.Addresses(l.Index)
	for _, a := range addrs {
		if a.Prefix == q && (a.Valid != Forever || a.Preferred != Forever) {
			t.Errorf("permanent address has lifetimes %v/%v, want Forever", a.Valid, a.Preferred)
		}
	}
}

// TestIntegrationSetIPv6Conf sets a link's IPv6 settings in its network
// namespace, as sysctl(8) would, reads them back with IPv6Conf, and
// refuses names that would leave the link's directory.
func TestIntegrationSetIPv6Conf(t *testing.T) {
	t.Parallel()
	ns := newNetNS(t)
	h := ns.handle(t)
	newDummy(t, h, "d0")
	var got []byte
	var read int
	err := ns.Do(func() error {
		if err := SetIPv6Conf("d0", "accept_ra", 2); err != nil {
			return err
		}
		var err error
		got, err = os.ReadFile("/proc/sys/net/ipv6/conf/d0/accept_ra")
		if err != nil {
			return err
		}
		read, err = IPv6Conf("d0", "accept_ra")
		return err
	})
	if err != nil || string(got) != "2\n" || read != 2 {
		t.Errorf("accept_ra after SetIPv6Conf: %q, IPv6Conf %d, %v; want 2", got, read, err)
	}
	for _, bad := range []struct{ link, key string }{{"d0", "../all/forwarding"}, {"..", "accept_ra"}, {"d0", ""}, {"nosuch0", "accept_ra"}} {
		if err := ns.Do(func() error { return SetIPv6Conf(bad.link, bad.key, 1) }); err == nil {
			t.Errorf("SetIPv6Conf(%q, %q) succeeded", bad.link, bad.key)
		}
		if _, err := IPv6Conf(bad.link, bad.key); err == nil {
			t.Errorf("IPv6Conf(%q, %q) succeeded", bad.link, bad.key)
		}
	}
}
