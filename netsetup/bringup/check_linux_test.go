package bringup

import (
	"net/netip"
	"testing"
	"time"

	"github.com/wgboot/wgboot/board"
	"github.com/wgboot/wgboot/netsetup/wg"
)

// TestCheckEndpoints: a peer with fallbacks or a host name passes Check at
// whichever candidate the handshake gate left it; a peer with one address
// must be at that address.
func TestCheckEndpoints(t *testing.T) {
	first := netip.MustParseAddrPort("192.0.2.1:51820")
	fallback := netip.MustParseAddrPort("203.0.113.7:51820")
	tests := []struct {
		name      string
		endpoints []board.Endpoint
		at        netip.AddrPort
		ok        bool
	}{
		{"one address, at it", nil, first, true},
		{"one address, elsewhere", nil, fallback, false},
		{"a fallback, at it", []board.Endpoint{{Addr: first}, {Addr: fallback}}, fallback, true},
		{"a host name, at its address", []board.Endpoint{{Host: "hub.example.net", Port: 51820}}, fallback, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tun := testTunnel()
			tun.Peers[0].Endpoint = first
			tun.Peers[0].Endpoints = tt.endpoints
			dev := &wg.Device{Name: "wg0", ListenPort: 51820}
			for _, p := range tun.Peers {
				dev.Peers = append(dev.Peers, wg.Peer{PublicKey: p.PublicKey, HasPresharedKey: !p.PresharedKey.IsZero(),
					AllowedIPs: p.AllowedIPs})
			}
			dev.Peers[0].Endpoint = tt.at
			dev.Peers[0].PersistentKeepalive = 25 * time.Second
			err := wg.Verify(checkExpectation(tun), dev)
			if (err == nil) != tt.ok {
				t.Errorf("Verify() = %v, want ok %v", err, tt.ok)
			}
		})
	}
}
