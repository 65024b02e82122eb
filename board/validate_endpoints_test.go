package board

import (
	"math/rand/v2"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestValidateEndpointMessages pins every diagnostic, with its path and
// words, that Validate gives the endpoints of peers with one endpoint and
// with several (repeats among them in any letter case), so that building
// the paths only when something is reported changes nothing.
func TestValidateEndpointMessages(t *testing.T) {
	const text = `[board]
name = "ep"
[uplink]
interface = "eth0"
address = ["192.0.2.2/24"]
[[tunnel]]
name = "wg0"
private_key = "` + testPrivate + `"
address = ["10.9.0.2/24"]
[[tunnel.peer]]
public_key = "ho3m6xXZ1V3QYg080KspEDJpRrjIn5MB+nIckvhpe0Y="
endpoint = "127.0.0.1:51820"
allowed_ips = ["10.9.0.0/24"]
[[tunnel.peer]]
public_key = "JFZ4L4CEYUxvdJWEliaoVYhwh6qUkXQZG5SPP0CutSg="
endpoint = "198.51.100.7:51820"
allowed_ips = ["10.9.1.0/24"]
[[tunnel.peer]]
public_key = "xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg="
endpoint = "Hub.Example.NET:51820"
fallback_endpoints = ["192.0.2.0:51820", "hub.example.net:51820", "192.0.2.9:51820", "192.0.2.9:51820", "224.0.0.1:51820"]
allowed_ips = ["10.9.2.0/24"]
[[tunnel.peer]]
public_key = "3KLXOEm1kTBcyOYGQRk2Oe2GpOSEn1qEdfkL2HMgUmo="
endpoint = "192.0.2.7:0"
allowed_ips = ["10.9.3.0/24"]
[handoff]
wait_handshake = "20s"
`
	p, ds := Parse("ep.toml", []byte(text))
	if p == nil || ds.HasErrors() {
		t.Fatalf("Parse: %v", ds.Err())
	}
	ds = p.Validate(SkipSelfPeer)
	ds.Sort()
	var got []string
	for _, d := range ds {
		got = append(got, d.Error())
	}
	want := []string{
		`ep.toml:8:15: tunnel[0].private_key: warning: the private key is baked into the image and shared by every device flashed with it; prefer private_key_file`,
		`ep.toml:12:12: tunnel[0].peer[0].endpoint: warning: 127.0.0.1 is a loopback address`,
		`ep.toml:16:12: tunnel[0].peer[1].endpoint: warning: 198.51.100.7 is not on the uplink's networks and the uplink has no IPv4 gateway`,
		`ep.toml:20:12: tunnel[0].peer[2].endpoint: warning: Hub.Example.NET is a host name, and the profile names no DNS server (uplink.dns) and has no dhcp: the boot can only resolve it with nameserver= on the kernel command line`,
		`ep.toml:21:42: tunnel[0].peer[2].fallback_endpoints[1]: warning: the same endpoint as tunnel[0].peer[2].endpoint`,
		`ep.toml:21:86: tunnel[0].peer[2].fallback_endpoints[3]: warning: the same endpoint as tunnel[0].peer[2].fallback_endpoints[2]`,
		`ep.toml:21:105: tunnel[0].peer[2].fallback_endpoints[4]: 224.0.0.1 cannot be a peer's address`,
		`ep.toml:25:12: tunnel[0].peer[3].endpoint: port 0: give the peer's listen port`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("Validate:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestValidateRepeatsAndLoops pins the diagnostics that name the first of
// repeated public keys and allowed IPs: a key repeated twice, the same
// prefix for two peers (host bits set in the second), and endpoints inside
// the allowed IPs of the peers, the longest prefix named with the first
// peer that has it.
func TestValidateRepeatsAndLoops(t *testing.T) {
	const text = `[board]
name = "loops"
[uplink]
interface = "eth0"
address = ["192.0.2.2/24"]
gateway = ["192.0.2.1"]
[[tunnel]]
name = "wg0"
private_key = "` + testPrivate + `"
address = ["10.9.0.2/24"]
[[tunnel.peer]]
public_key = "ho3m6xXZ1V3QYg080KspEDJpRrjIn5MB+nIckvhpe0Y="
endpoint = "198.51.100.7:51820"
allowed_ips = ["198.51.0.0/16", "10.9.1.0/24"]
[[tunnel.peer]]
public_key = "JFZ4L4CEYUxvdJWEliaoVYhwh6qUkXQZG5SPP0CutSg="
endpoint = "10.9.1.9:51820"
allowed_ips = ["198.51.100.0/24", "10.9.1.1/24"]
[[tunnel.peer]]
public_key = "ho3m6xXZ1V3QYg080KspEDJpRrjIn5MB+nIckvhpe0Y="
endpoint = "[2001:db8::7]:51820"
allowed_ips = ["2001:db8::/32", "198.51.100.0/24"]
[[tunnel.peer]]
public_key = "ho3m6xXZ1V3QYg080KspEDJpRrjIn5MB+nIckvhpe0Y="
endpoint = "192.0.2.77:51820"
allowed_ips = ["192.0.2.0/24"]
`
	p, ds := Parse("loops.toml", []byte(text))
	if p == nil || ds.HasErrors() {
		t.Fatalf("Parse: %v", ds.Err())
	}
	ds = p.Validate(SkipSelfPeer)
	ds.Sort()
	var got []string
	for _, d := range ds {
		got = append(got, d.Error())
	}
	want := []string{
		`loops.toml:9:15: tunnel[0].private_key: warning: the private key is baked into the image and shared by every device flashed with it; prefer private_key_file`,
		`loops.toml:13:12: tunnel[0].peer[0].endpoint: 198.51.100.7 is inside 198.51.100.0/24 (tunnel[0].peer[1].allowed_ips[0]) and no more specific uplink route reaches it: packets to the endpoint would loop through the tunnel; use table = 51820 with fwmark = 51820 for policy routing, or table = "off"`,
		`loops.toml:17:12: tunnel[0].peer[1].endpoint: 10.9.1.9 is inside 10.9.1.0/24 (tunnel[0].peer[0].allowed_ips[1]) and no more specific uplink route reaches it: packets to the endpoint would loop through the tunnel; use table = 51820 with fwmark = 51820 for policy routing, or table = "off"`,
		`loops.toml:18:16: tunnel[0].peer[1].allowed_ips[0]: warning: 198.51.100.0/24 is inside 198.51.0.0/16 (tunnel[0].peer[0].allowed_ips[0]); the more specific prefix wins`,
		`loops.toml:18:35: tunnel[0].peer[1].allowed_ips[1]: 10.9.1.1/24 has host bits set; did you mean 10.9.1.0/24?`,
		`loops.toml:18:35: tunnel[0].peer[1].allowed_ips[1]: 10.9.1.0/24 is also allowed for tunnel[0].peer[0].allowed_ips[1]; WireGuard keeps only the last peer's`,
		`loops.toml:20:14: tunnel[0].peer[2].public_key: the same public key as peer[0]`,
		`loops.toml:21:12: tunnel[0].peer[2].endpoint: warning: 2001:db8::7 is not on the uplink's networks and the uplink has no IPv6 gateway`,
		`loops.toml:21:12: tunnel[0].peer[2].endpoint: 2001:db8::7 is inside 2001:db8::/32 (tunnel[0].peer[2].allowed_ips[0]) and no more specific uplink route reaches it: packets to the endpoint would loop through the tunnel; use table = 51820 with fwmark = 51820 for policy routing, or table = "off"`,
		`loops.toml:22:33: tunnel[0].peer[2].allowed_ips[1]: 198.51.100.0/24 is also allowed for tunnel[0].peer[1].allowed_ips[0]; WireGuard keeps only the last peer's`,
		`loops.toml:24:14: tunnel[0].peer[3].public_key: the same public key as peer[0]`,
		`loops.toml:25:12: tunnel[0].peer[3].endpoint: 192.0.2.77 is inside 192.0.2.0/24 (tunnel[0].peer[3].allowed_ips[0]) and no more specific uplink route reaches it: packets to the endpoint would loop through the tunnel; use table = 51820 with fwmark = 51820 for policy routing, or table = "off"`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("Validate:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestSortIPv4Keys: sortIPv4Keys orders as compareKeys does, with repeated
// addresses, lengths and both in any order.
func TestSortIPv4Keys(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{0, 1, 2, 7, 100, 5000} {
		var keys []allowedKey
		for j := range n {
			a := netip.AddrFrom4([4]byte{10, byte(rng.IntN(3)), byte(rng.IntN(4)), byte(rng.IntN(256))})
			if rng.IntN(10) == 0 {
				a = netip.AddrFrom4([4]byte{byte(rng.Uint32()), byte(rng.Uint32()), byte(rng.Uint32()), byte(rng.Uint32())})
			}
			for k := range 1 + rng.IntN(3) {
				p, _ := a.Prefix(rng.IntN(33))
				keys = append(keys, newAllowedKey(p, j, k))
			}
		}
		want := slices.Clone(keys)
		slices.SortFunc(want, compareKeys)
		sortIPv4Keys(keys)
		if !slices.Equal(keys, want) {
			t.Errorf("%d peers: sortIPv4Keys differs from SortFunc(compareKeys)", n)
		}
	}
}

// TestSortKeys: sortKeys orders keys of one family as compareKeys does,
// sorted, reversed and shuffled, with repeated addresses and lengths, in
// the sizes of its insertion and radix sorts, for IPv6 and IPv4 keys.
func TestSortKeys(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, v6 := range []bool{true, false} {
		for _, n := range []int{0, 1, 2, 3, 10, 16, 17, 100, 3000} {
			var keys []allowedKey
			for j := range n {
				var a netip.Addr
				if v6 {
					b := [16]byte{0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, byte(rng.IntN(3)), byte(rng.IntN(4)), byte(rng.IntN(256))}
					if rng.IntN(10) == 0 {
						for i := range b {
							b[i] = byte(rng.Uint32())
						}
					}
					a = netip.AddrFrom16(b)
				} else {
					a = netip.AddrFrom4([4]byte{10, byte(rng.IntN(3)), byte(rng.IntN(4)), byte(rng.IntN(256))})
				}
				for k := range 1 + rng.IntN(3) {
					p, _ := a.Prefix(rng.IntN(a.BitLen() + 1))
					keys = append(keys, newAllowedKey(p, j, k))
				}
			}
			want := slices.Clone(keys)
			slices.SortFunc(want, compareKeys)
			reversed := slices.Clone(want)
			slices.Reverse(reversed)
			for i := range reversed { // peer and element order kept
				reversed[i].peer, reversed[i].elem = int32(i), 0
			}
			wantReversed := slices.Clone(reversed)
			slices.SortFunc(wantReversed, compareKeys)
			for _, c := range []struct {
				name       string
				keys, want []allowedKey
			}{{"shuffled", keys, want}, {"sorted", slices.Clone(want), want}, {"reversed", reversed, wantReversed}} {
				sortKeys(c.keys)
				if !slices.Equal(c.keys, c.want) {
					t.Errorf("v6 %v, %d peers, %s: sortKeys differs from SortFunc(compareKeys)", v6, n, c.name)
				}
			}
		}
	}
}

// BenchmarkSortKeys sorts the IPv6 keys of 10,000 peers, shuffled, with
// sortKeys and, as the baseline, with slices.SortFunc(compareKeys), and
// reports the ratio of their times.
func BenchmarkSortKeys(b *testing.B) {
	rng := rand.New(rand.NewPCG(5, 6))
	var keys []allowedKey
	for j := range 10000 {
		a := netip.AddrFrom16([16]byte{0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, byte(j >> 8), byte(j)})
		keys = append(keys, newAllowedKey(netip.PrefixFrom(a, 128), j, 0))
	}
	rng.Shuffle(len(keys), func(i, j int) { keys[i], keys[j] = keys[j], keys[i] })
	work := make([]allowedKey, len(keys))
	var radix, pdq time.Duration
	for b.Loop() {
		copy(work, keys)
		start := time.Now()
		sortKeys(work)
		radix += time.Since(start)
		copy(work, keys)
		start = time.Now()
		slices.SortFunc(work, compareKeys)
		pdq += time.Since(start)
	}
	n := float64(b.N)
	b.ReportMetric(float64(radix.Nanoseconds())/n, "sortKeys-ns/op")
	b.ReportMetric(float64(pdq.Nanoseconds())/n, "SortFunc-ns/op")
	b.ReportMetric(float64(radix)/float64(pdq), "ratio")
}

// TestAllowedKeyContains: contains answers as netip.Prefix.Contains of
// the prefix and the other's address (both masked), for both families,
// every prefix length and IPv4-mapped IPv6 prefixes.
func TestAllowedKeyContains(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	var prefixes []netip.Prefix
	for range 300 {
		var a netip.Addr
		switch rng.IntN(3) {
		case 0:
			a = netip.AddrFrom4([4]byte{10, byte(rng.IntN(2)), byte(rng.IntN(2)), byte(rng.IntN(4))})
		case 1:
			var b [16]byte
			b[0], b[1], b[8], b[15] = 0x20, 0x01, byte(rng.IntN(2)), byte(rng.IntN(4))
			a = netip.AddrFrom16(b)
		default:
			a = netip.AddrFrom16(netip.AddrFrom4([4]byte{10, 0, 0, byte(rng.IntN(4))}).As16()) // ::ffff:10.0.0.x
		}
		p, _ := a.Prefix(rng.IntN(a.BitLen() + 1))
		prefixes = append(prefixes, p)
	}
	prefixes = append(prefixes, netip.MustParsePrefix("0.0.0.0/0"), netip.MustParsePrefix("::/0"),
		netip.MustParsePrefix("2001::/64"), netip.MustParsePrefix("::ffff:0.0.0.0/96"))
	for _, p := range prefixes { // masked, as the overlap check's keys
		for _, q := range prefixes {
			want := p.Contains(q.Addr())
			if got := newAllowedKey(p, 0, 0).contains(newAllowedKey(q, 0, 0)); got != want {
				t.Errorf("%v contains %v: %v, want %v", p, q.Addr(), got, want)
			}
		}
	}
}
