package bringup

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wgboot/wgboot/board"
	"github.com/wgboot/wgboot/internal/netnstest"
	"github.com/wgboot/wgboot/netsetup"
)

// Privileged tests of Uplink against the host kernel on a veth pair, with
// Debian's dnsmasq as the DHCP server and router advertiser in the other
// namespace (internal/netnstest). The kernel state is read back with ip(8),
// an independent reader.

// lines is a logger that keeps what it is given.
type lines struct {
	t  *testing.T
	mu sync.Mutex
	l  []string
}

func (l *lines) add(level, f string, a ...any) {
	s := fmt.Sprintf(f, a...)
	l.t.Logf("%s: %s", level, s)
	l.mu.Lock()
	l.l = append(l.l, level+": "+s)
	l.mu.Unlock()
}
func (l *lines) Infof(f string, a ...any)  { l.add("info", f, a...) }
func (l *lines) Warnf(f string, a ...any)  { l.add("warn", f, a...) }
func (l *lines) Errorf(f string, a ...any) { l.add("err", f, a...) }

func (l *lines) has(sub string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.ContainsFunc(l.l, func(s string) bool { return strings.Contains(s, sub) })
}

// uplinkIn runs Net.Uplink in the client namespace.
func uplinkIn(t *testing.T, p *netnstest.Pair, u board.Uplink) (*Uplink, error, *lines) {
	return uplinkNeeding(t, p, u, true)
}

// uplinkNeeding is uplinkIn with needIPv6 given.
func uplinkNeeding(t *testing.T, p *netnstest.Pair, u board.Uplink, needIPv6 bool) (*Uplink, error, *lines) {
	t.Helper()
	log := &lines{t: t}
	var up *Uplink
	var upErr error
	err := netnstest.Do(p.Client, func() error {
		rt, err := netsetup.Open()
		if err != nil {
			return err
		}
		defer rt.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		n := &Net{RT: rt, Log: log}
		up, upErr = n.Uplink(ctx, u, needIPv6)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return up, upErr, log
}

// ipJSON runs ip -j in the client namespace and decodes its output.
func ipJSON(t *testing.T, p *netnstest.Pair, v any, args ...string) {
	t.Helper()
	out := netnstest.Output(t, append([]string{"ip", "-j", "-n", p.Client}, args...)...)
	if err := json.Unmarshal([]byte(out), v); err != nil {
		t.Fatalf("ip %v: %v\n%s", args, err, out)
	}
}

type ipAddr struct {
	AddrInfo []struct {
		Family    string
		Local     string
		Prefixlen int
		Scope     string
		Tentative bool
		Valid     uint32 `json:"valid_life_time"`
		Preferred uint32 `json:"preferred_life_time"`
	} `json:"addr_info"`
	MTU int
}

type ipRoute struct {
	Dst      string
	Gateway  string
	Dev      string
	Protocol string
}

// TestIntegrationUplinkDHCP gets a lease from dnsmasq and checks what the
// kernel has then: the address with the lease's lifetimes, option 121's
// routes (and not option 3's router as a default route of its own) with
// protocol dhcp, the MTU of option 26.
func TestIntegrationUplinkDHCP(t *testing.T) {
	t.Parallel()
	p := netnstest.NewPair(t)
	netnstest.Run(t, "ip", "-n", p.Server, "addr", "add", "192.0.2.1/24", "dev", netnstest.ServerLink)
	netnstest.Dnsmasq(t, p.Server, netnstest.ServerLink, "DHCP, IP range",
		"--dhcp-range=192.0.2.10,192.0.2.20,255.255.255.0,1h",
		"--dhcp-option=option:router,192.0.2.99",
		"--dhcp-option=option:dns-server,192.0.2.53",
		"--dhcp-option=121,10.0.0.0/8,192.0.2.254,0.0.0.0/0,192.0.2.1",
		"--dhcp-option=26,1400",
	)
	up, err, log := uplinkIn(t, p, board.Uplink{Interface: netnstest.ClientLink, DHCP: true, DHCPTimeout: 20 * time.Second, CarrierTimeout: 5 * time.Second})
	if err != nil {
		t.Fatalf("Uplink() error = %v", err)
	}
	if up.Lease == nil || up.MTU != 1400 || !slices.Contains(up.Gateways, netip.MustParseAddr("192.0.2.1")) {
		t.Fatalf("Uplink() = %+v", up)
	}
	leased := up.Lease.Address
	if !slices.Contains(up.Addresses, leased) {
		t.Errorf("Uplink().Addresses = %v, want the lease's %s", up.Addresses, leased)
	}
	var links []ipAddr
	ipJSON(t, p, &links, "addr", "show", "dev", netnstest.ClientLink)
	found := false
	for _, a := range links[0].AddrInfo {
		if a.Local == leased.Addr().String() && a.Prefixlen == leased.Bits() {
			found = true
			if a.Valid > 3600 || a.Valid < 3500 || a.Preferred != a.Valid {
				t.Errorf("leased address lifetimes valid %d, preferred %d; want the lease's 3600 s, less what passed", a.Valid, a.Preferred)
			}
		}
	}
	if !found || links[0].MTU != 1400 {
		t.Errorf("kernel has %+v, want %s and mtu 1400", links, leased)
	}
	var routes []ipRoute
	ipJSON(t, p, &routes, "route", "show", "dev", netnstest.ClientLink)
	want := map[string]string{"10.0.0.0/8": "192.0.2.254", "default": "192.0.2.1"}
	for _, r := range routes {
		if gw, ok := want[r.Dst]; ok {
			if r.Gateway != gw || r.Protocol != "dhcp" {
				t.Errorf("route %+v, want via %s proto dhcp", r, gw)
			}
			delete(want, r.Dst)
		}
		if r.Gateway == "192.0.2.99" {
			t.Errorf("route %+v through option 3's router, which option 121 replaces", r)
		}
	}
	if len(want) > 0 {
		t.Errorf("routes %+v lack %v", routes, want)
	}
	for _, l := range []string{"dhcp: lease " + leased.String() + " from 192.0.2.1 for 1h0m0s",
		"dhcp: mtu 1400, routes 10.0.0.0/8 via 192.0.2.254, 0.0.0.0/0 via 192.0.2.1, name servers 192.0.2.53",
		"router (option 3) 192.0.2.99 ignored"} {
		if !log.has(l) {
			t.Errorf("log lacks %q", l)
		}
	}
}

// TestIntegrationUplinkRA: IPv6 from router advertisements (dnsmasq's),
// with DAD off: the uplink returns once the SLAAC address is usable and
// the default route is there.
func TestIntegrationUplinkRA(t *testing.T) {
	t.Parallel()
	p := netnstest.NewPair(t)
	netnstest.Run(t, "ip", "-n", p.Server, "addr", "add", "2001:db8:1::1/64", "dev", netnstest.ServerLink, "nodad")
	netnstest.Dnsmasq(t, p.Server, netnstest.ServerLink, "",
		"--enable-ra", "--dhcp-range=::,constructor:"+netnstest.ServerLink+",ra-only,64,1h")
	start := time.Now()
	up, err, log := uplinkIn(t, p, board.Uplink{Interface: netnstest.ClientLink, AcceptRA: true, RATimeout: 20 * time.Second, NoDAD: true})
	if err != nil {
		t.Fatalf("Uplink() error = %v", err)
	}
	t.Logf("IPv6 router after %v", time.Since(start))
	if len(up.Router.Addresses) == 0 || !netip.MustParsePrefix("2001:db8:1::/64").Contains(up.Router.Addresses[0].Addr()) ||
		!up.Router.Gateway.IsLinkLocalUnicast() {
		t.Errorf("Uplink().Router = %+v", up.Router)
	}
	var links []ipAddr
	ipJSON(t, p, &links, "-6", "addr", "show", "dev", netnstest.ClientLink)
	usable := false
	for _, a := range links[0].AddrInfo {
		usable = usable || a.Scope == "global" && !a.Tentative && up.Router.Addresses[0].Addr().String() == a.Local
	}
	if !usable {
		t.Errorf("kernel has %+v, want the SLAAC address usable", links)
	}
	if !log.has("ipv6: 2001:db8:1:") {
		t.Errorf("log lacks the IPv6 line")
	}
}

// TestIntegrationUplinkDAD: a static IPv6 address starts tentative; Uplink
// returns once it is not, so that the first handshake is not lost.
func TestIntegrationUplinkDAD(t *testing.T) {
	t.Parallel()
	p := netnstest.NewPair(t)
	up, err, log := uplinkIn(t, p, board.Uplink{Interface: netnstest.ClientLink,
		Address: []netip.Prefix{netip.MustParsePrefix("2001:db8:2::2/64")}})
	if err != nil {
		t.Fatalf("Uplink() error = %v", err)
	}
	var links []ipAddr
	ipJSON(t, p, &links, "-6", "addr", "show", "dev", netnstest.ClientLink)
	usable := false
	for _, a := range links[0].AddrInfo {
		usable = usable || a.Local == "2001:db8:2::2" && !a.Tentative
	}
	if !usable {
		t.Errorf("kernel has %+v after Uplink, want 2001:db8:2::2 usable", links)
	}
	if !log.has("addresses ready after") || !slices.Contains(up.Addresses, netip.MustParsePrefix("2001:db8:2::2/64")) {
		t.Errorf("Uplink() = %+v; log lacks the DAD line", up)
	}
	// No IPv6 endpoint: no wait, the kernel finishes DAD on its own.
	p2 := netnstest.NewPair(t)
	start := time.Now()
	if _, err, log := uplinkNeeding(t, p2, board.Uplink{Interface: netnstest.ClientLink,
		Address: []netip.Prefix{netip.MustParsePrefix("2001:db8:2::2/64")}}, false); err != nil || log.has("addresses ready") {
		t.Errorf("Uplink() without IPv6 endpoints: %v, waited for DAD", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("Uplink() without IPv6 endpoints took %v", d)
	}
}

// TestIntegrationUplinkDHCPSilent: nothing answers. Alone, DHCP fails the
// uplink at dhcp_timeout; beside a static IPv6 address, it is a warning
// and the uplink comes up with what it has.
func TestIntegrationUplinkDHCPSilent(t *testing.T) {
	t.Parallel()
	t.Run("alone", func(t *testing.T) {
		t.Parallel()
		p := netnstest.NewPair(t)
		start := time.Now()
		_, err, _ := uplinkIn(t, p, board.Uplink{Interface: netnstest.ClientLink, DHCP: true, DHCPTimeout: 2 * time.Second})
		if err == nil || !strings.Contains(err.Error(), "dhcp on v0: no lease within 2") {
			t.Errorf("Uplink() error = %v, want no lease", err)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("Uplink() took %v with a 2 s dhcp_timeout", d)
		}
	})
	t.Run("beside IPv6", func(t *testing.T) {
		t.Parallel()
		p := netnstest.NewPair(t)
		up, err, log := uplinkIn(t, p, board.Uplink{Interface: netnstest.ClientLink, DHCP: true, DHCPTimeout: 2 * time.Second,
			Address: []netip.Prefix{netip.MustParsePrefix("2001:db8:3::2/64")}, NoDAD: true})
		if err != nil {
			t.Fatalf("Uplink() error = %v, want a warning only", err)
		}
		if len(up.Warnings) != 1 || !errors.Is(up.Warnings[0], up.Warnings[0]) || up.Lease != nil {
			t.Errorf("Uplink() = %+v, want one warning and no lease", up)
		}
		if !log.has("warn: dhcp on v0: no lease within 2") || !log.has("going on with 2001:db8:3::2/64") {
			t.Errorf("log lacks the warning")
		}
	})
}

// TestIntegrationUplinkByMAC: a profile's mac chooses the link that has
// it (a veth has no permanent address: its current one); a mac that no
// link has fails the uplink with the links it saw.
func TestIntegrationUplinkByMAC(t *testing.T) {
	t.Parallel()
	p := netnstest.NewPair(t)
	var links []struct{ Address string }
	ipJSON(t, p, &links, "link", "show", "dev", netnstest.ClientLink)
	mac, err := board.ParseMAC(links[0].Address)
	if err != nil {
		t.Fatalf("ip link: %v", err)
	}
	addr := netip.MustParsePrefix("192.0.2.2/24")
	up, err, log := uplinkIn(t, p, board.Uplink{MAC: mac, Address: []netip.Prefix{addr}})
	if err != nil {
		t.Fatalf("Uplink(mac %s) error = %v", mac, err)
	}
	if up.Interface != netnstest.ClientLink || !slices.Contains(up.Addresses, addr) {
		t.Errorf("Uplink(mac %s) = %s %v, want %s with %s", mac, up.Interface, up.Addresses, netnstest.ClientLink, addr)
	}
	if !log.has("uplink: " + netnstest.ClientLink + " has the address " + mac.String()) {
		t.Errorf("the log does not say which link has the mac")
	}
	other := board.MAC{0x52, 0x54, 0, 0xde, 0xad, 1}
	_, err, _ = uplinkIn(t, p, board.Uplink{MAC: other, Address: []netip.Prefix{addr}})
	if !errors.Is(err, netsetup.ErrNoSuchMAC) || !strings.Contains(err.Error(), netnstest.ClientLink+" "+mac.String()) {
		t.Errorf("Uplink(mac %s) error = %v, want ErrNoSuchMAC listing %s", other, err, netnstest.ClientLink)
	}
}
