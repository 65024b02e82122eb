package board

import (
	"net/netip"
	"os"
	"slices"
	"testing"
	"time"
)

func TestParse_endpoints(t *testing.T) {
	data, err := os.ReadFile("testdata/valid/endpoints.toml")
	if err != nil {
		t.Fatal(err)
	}
	p, ds := Parse("endpoints.toml", data)
	if ds.HasErrors() {
		t.Fatal(ds.Err())
	}
	if want := []netip.Addr{netip.MustParseAddr("192.0.2.53"), netip.MustParseAddr("2001:db8:2::53")}; !slices.Equal(p.Uplink.DNS, want) {
		t.Errorf("uplink.dns = %v, want %v", p.Uplink.DNS, want)
	}
	first := &p.Tunnels[0].Peers[0]
	want := []Endpoint{
		{Host: "hub.example.net", Port: 51820},
		{Addr: netip.MustParseAddrPort("203.0.113.7:51820")},
		{Host: "hub2.example.net", Port: 51821},
		{Addr: netip.MustParseAddrPort("[2001:db8:7::1]:51820")},
		{Host: "HUB.example.net", Port: 51820},
	}
	if !slices.Equal(first.Endpoints, want) || first.Endpoint.IsValid() || first.EndpointTimeout != 8*time.Second {
		t.Errorf("peer[0]: endpoints %v, endpoint %v, timeout %v; want %v, none until resolved, 8s",
			first.Endpoints, first.Endpoint, first.EndpointTimeout, want)
	}
	if got := first.EndpointList()[2].String(); got != "hub2.example.net:51821" {
		t.Errorf("String() = %q", got)
	}
	second := &p.Tunnels[0].Peers[1]
	if !slices.Equal(second.Endpoints, []Endpoint{{Host: "vpn.example.com.", Port: 443}}) || second.EndpointTimeout != DefaultEndpointTimeout {
		t.Errorf("peer[1]: endpoints %v timeout %v", second.Endpoints, second.EndpointTimeout)
	}
	if !first.HasHost() || !second.HasHost() {
		t.Error("HasHost() = false for a peer with a host name")
	}
}

// TestParse_endpointFirst: endpoint is Endpoints[0] whichever key comes
// first, in a table (the fast path) or an inline table (the toml
// package's path); an address endpoint is also Endpoint, the address the
// kernel gets.
func TestParse_endpointFirst(t *testing.T) {
	const key = `"ho3m6xXZ1V3QYg080KspEDJpRrjIn5MB+nIckvhpe0Y="`
	for _, peer := range []string{
		"[[tunnel.peer]]\npublic_key = " + key + "\nfallback_endpoints = [\"hub.example.net:51820\"]\nendpoint = \"192.0.2.1:51820\"\nallowed_ips = [\"10.9.0.0/24\"]\n",
		"[[tunnel.peer]]\npublic_key = " + key + "\nendpoint = \"192.0.2.1:51820\"\nfallback_endpoints = [\"hub.example.net:51820\"]\nallowed_ips = [\"10.9.0.0/24\"]\n",
		"peer = [{ public_key = " + key + ", fallback_endpoints = [\"hub.example.net:51820\"], endpoint = \"192.0.2.1:51820\", allowed_ips = [\"10.9.0.0/24\"] }]\n",
	} {
		src := `[board]
name = "b"
[uplink]
interface = "eth0"
address = ["192.0.2.2/24"]
dns = ["192.0.2.53"]
[handoff]
wait_handshake = "20s"
[[tunnel]]
name = "wg0"
private_key_file = "/k"
` + peer
		p, ds := Parse("b.toml", []byte(src))
		if ds.HasErrors() {
			t.Fatalf("%s: %v", peer, ds.Err())
		}
		got := &p.Tunnels[0].Peers[0]
		want := []Endpoint{{Addr: netip.MustParseAddrPort("192.0.2.1:51820")}, {Host: "hub.example.net", Port: 51820}}
		if !slices.Equal(got.Endpoints, want) || got.Endpoint != want[0].Addr || got.EndpointTimeout != DefaultEndpointTimeout {
			t.Errorf("%s:\nendpoints %v, endpoint %v, timeout %v; want %v", peer, got.Endpoints, got.Endpoint, got.EndpointTimeout, want)
		}
	}
}
