package bringup

import (
	"slices"
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
	err = netnstest.Do(p.Client, func() error {
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
