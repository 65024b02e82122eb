package bringup

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/wgboot/wgboot/board"
	"github.com/wgboot/wgboot/internal/netnstest"
	"github.com/wgboot/wgboot/netsetup"
)

// TestIntegrationUndoDHCP: a profile whose uplink got a DHCP lease is
// undone (the fallback to the image's profile, issue 13): the leased
// address and the lease's routes leave the kernel, with a host route to
// an off-subnet gateway; the link stays up.
func TestIntegrationUndoDHCP(t *testing.T) {
	t.Parallel()
	p := netnstest.NewPair(t)
	netnstest.Run(t, "ip", "-n", p.Server, "addr", "add", "192.0.2.1/24", "dev", netnstest.ServerLink)
	netnstest.Dnsmasq(t, p.Server, netnstest.ServerLink, "DHCP, IP range",
		"--dhcp-range=192.0.2.10,192.0.2.20,255.255.255.0,1h",
		"--dhcp-option=121,10.0.0.0/8,198.51.100.7,0.0.0.0/0,192.0.2.1",
	)
	prof := &board.Profile{Uplink: board.Uplink{Interface: netnstest.ClientLink, DHCP: true,
		DHCPTimeout: 20 * time.Second, CarrierTimeout: 5 * time.Second}}
	up, err, log := uplinkIn(t, p, prof.Uplink)
	if err != nil || up.Lease == nil {
		t.Fatalf("Uplink() = %+v, %v", up, err)
	}
	leased := up.Lease.Address
	undoIn(t, p, prof, up, log)
	var links []ipAddr
	ipJSON(t, p, &links, "-4", "addr", "show", "dev", netnstest.ClientLink)
	for _, l := range links { // none: ip omits a link without IPv4 addresses
		for _, a := range l.AddrInfo {
			if a.Local == leased.Addr().String() {
				t.Errorf("the leased address %s is still on the link after Undo", leased)
			}
		}
	}
	var routes []ipRoute
	ipJSON(t, p, &routes, "-4", "route", "show", "dev", netnstest.ClientLink)
	if len(routes) != 0 {
		t.Errorf("routes left after Undo: %+v", routes)
	}
	var state []struct{ Flags []string }
	ipJSON(t, p, &state, "link", "show", "dev", netnstest.ClientLink)
	if len(state) != 1 || !slices.Contains(state[0].Flags, "UP") {
		t.Errorf("link after Undo: %+v, want it up", state)
	}
	if !log.has("undo: uplink " + netnstest.ClientLink + ": dhcp lease " + leased.String() + " and its routes removed") {
		t.Error("Undo did not log the lease it removed")
	}
}

// TestIntegrationUndoRA: a profile whose uplink turned router
// advertisements on, DAD off, and got a lease with an MTU is undone (the
// fallback to the image's profile, issue 13): the link's IPv6 settings
// get the values they had before the bring-up, the SLAAC address and the
// default route from the router go, and the MTU is the link's own again.
func TestIntegrationUndoRA(t *testing.T) {
	t.Parallel()
	p := netnstest.NewPair(t)
	conf := func(key string) string {
		return "/proc/sys/net/ipv6/conf/" + netnstest.ClientLink + "/" + key
	}
	// Values other than the kernel's defaults and the bring-up's, set
	// before any router advertises: what Undo must put back.
	before := map[string]string{"accept_ra": "0", "autoconf": "0", "accept_dad": "1", "accept_ra_defrtr": "1"}
	netnstest.Run(t, "ip", "netns", "exec", p.Client, "sh", "-c",
		"echo 0 >"+conf("accept_ra")+" && echo 0 >"+conf("autoconf"))
	netnstest.Run(t, "ip", "-n", p.Server, "addr", "add", "192.0.2.1/24", "dev", netnstest.ServerLink)
	netnstest.Run(t, "ip", "-n", p.Server, "addr", "add", "2001:db8:1::1/64", "dev", netnstest.ServerLink, "nodad")
	netnstest.Dnsmasq(t, p.Server, netnstest.ServerLink, "DHCP, IP range",
		"--dhcp-range=192.0.2.10,192.0.2.20,255.255.255.0,1h",
		"--dhcp-option=26,1400",
		"--enable-ra", "--dhcp-range=::,constructor:"+netnstest.ServerLink+",ra-only,64,1h")
	prof := &board.Profile{Uplink: board.Uplink{Interface: netnstest.ClientLink, DHCP: true, AcceptRA: true, NoDAD: true,
		DHCPTimeout: 20 * time.Second, RATimeout: 20 * time.Second, CarrierTimeout: 5 * time.Second}}
	up, err, log := uplinkIn(t, p, prof.Uplink)
	if err != nil || up.Lease == nil || up.MTU != 1400 || len(up.Router.Addresses) == 0 {
		t.Fatalf("Uplink() = %+v, %v; want a lease with mtu 1400 and a SLAAC address", up, err)
	}
	undoIn(t, p, prof, up, log)
	for key, want := range before {
		if got := strings.TrimSpace(netnstest.Output(t, "ip", "netns", "exec", p.Client, "cat", conf(key))); got != want {
			t.Errorf("%s = %s after Undo, want %s as before the bring-up", key, got, want)
		}
	}
	var links []ipAddr
	ipJSON(t, p, &links, "-6", "addr", "show", "dev", netnstest.ClientLink, "scope", "global")
	for _, l := range links {
		if len(l.AddrInfo) > 0 {
			t.Errorf("global IPv6 addresses left after Undo: %+v", l.AddrInfo)
		}
	}
	var routes []ipRoute
	ipJSON(t, p, &routes, "-6", "route", "show", "dev", netnstest.ClientLink)
	for _, r := range routes {
		if r.Dst != "fe80::/64" {
			t.Errorf("IPv6 route left after Undo: %+v", r)
		}
	}
	var state []struct{ MTU int }
	ipJSON(t, p, &state, "link", "show", "dev", netnstest.ClientLink)
	if len(state) != 1 || state[0].MTU != 1500 {
		t.Errorf("link after Undo: %+v, want the veth's mtu 1500", state)
	}
	for _, line := range []string{"ipv6 settings back to accept_dad 1, autoconf 0, accept_ra 0", "mtu back to 1500", "from router advertisements, removed"} {
		if !log.has("undo: uplink " + netnstest.ClientLink + ": " + line) {
			t.Errorf("Undo did not log %q", line)
		}
	}
}

// TestIntegrationUndoFailedUplink: an uplink that fails after it changed
// the link's IPv6 settings (no carrier here) returns what it did with the
// error, and Undo puts the settings back.
func TestIntegrationUndoFailedUplink(t *testing.T) {
	t.Parallel()
	p := netnstest.NewPair(t)
	netnstest.Run(t, "ip", "-n", p.Server, "link", "set", netnstest.ServerLink, "down")
	prof := &board.Profile{Uplink: board.Uplink{Interface: netnstest.ClientLink, AcceptRA: true,
		RATimeout: time.Second, CarrierTimeout: 200 * time.Millisecond}}
	path := "/proc/sys/net/ipv6/conf/" + netnstest.ClientLink + "/accept_ra"
	want := strings.TrimSpace(netnstest.Output(t, "ip", "netns", "exec", p.Client, "cat", path))
	up, err, log := uplinkIn(t, p, prof.Uplink)
	if err == nil || up == nil {
		t.Fatalf("Uplink() without carrier = %+v, %v; want what it did and an error", up, err)
	}
	undoIn(t, p, prof, up, log)
	if got := strings.TrimSpace(netnstest.Output(t, "ip", "netns", "exec", p.Client, "cat", path)); got != want {
		t.Errorf("accept_ra = %s after Undo, want %s as before the bring-up", got, want)
	}
}

// undoIn runs Net.Undo in the client namespace and fails t if it fails.
func undoIn(t *testing.T, p *netnstest.Pair, prof *board.Profile, up *Uplink, log *lines) {
	t.Helper()
	err := netnstest.Do(p.Client, func() error {
		rt, err := netsetup.Open()
		if err != nil {
			return err
		}
		defer rt.Close()
		return (&Net{RT: rt, Log: log}).Undo(prof, up)
	})
	if err != nil {
		t.Fatalf("Undo() error = %v", err)
	}
}
