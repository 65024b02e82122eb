package wg

import (
	"fmt"
	"net/netip"
	"slices"
	"testing"
)

// diffPrefixes compares masked sets, repeats and order aside, for the few
// allowed IPs of most peers and for a peer with many (sorted another way).
func TestDiffPrefixes(t *testing.T) {
	ps := func(ss ...string) []netip.Prefix {
		var out []netip.Prefix
		for _, s := range ss {
			out = append(out, mustPrefix(s))
		}
		return out
	}
	many := func(n, from int) []netip.Prefix {
		var out []netip.Prefix
		for i := n - 1; i >= 0; i-- {
			out = append(out, mustPrefix(fmt.Sprintf("10.%d.%d.1/24", (from+i)/256, (from+i)%256)))
			if (from+i)%3 == 0 {
				out = append(out, mustPrefix(fmt.Sprintf("fd00::%x/128", from+i)))
			}
		}
		return out
	}
	tests := []struct {
		name           string
		want, got      []netip.Prefix
		missing, extra []netip.Prefix
	}{
		{"equal, other order and masking", ps("10.0.0.1/8", "fd00::/8", "192.0.2.7/32"), ps("192.0.2.7/32", "fd00::/8", "10.0.0.0/8"), nil, nil},
		{"repeats", ps("10.0.0.0/8", "10.1.0.0/8", "10.0.0.0/8"), ps("10.0.0.0/8"), nil, nil},
		{"same address, other lengths", ps("10.0.0.0/16", "10.0.0.0/8"), ps("10.0.0.0/8", "10.0.0.0/24"), ps("10.0.0.0/16"), ps("10.0.0.0/24")},
		{"both ways", ps("fd00::/8", "10.0.0.0/8"), ps("192.0.2.0/24", "10.0.0.0/8"), ps("fd00::/8"), ps("192.0.2.0/24")},
		{"none", nil, nil, nil, nil},
		{"many, equal", many(40, 0), append(many(20, 20), many(20, 0)...), nil, nil},
		{"many, shifted", many(40, 0), many(40, 5),
			append(ps("10.0.0.0/24", "10.0.1.0/24", "10.0.2.0/24", "10.0.3.0/24", "10.0.4.0/24"), ps("fd00::/128", "fd00::3/128")...),
			append(ps("10.0.40.0/24", "10.0.41.0/24", "10.0.42.0/24", "10.0.43.0/24", "10.0.44.0/24"), ps("fd00::2a/128")...)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			missing, extra := diffPrefixes(tt.want, tt.got)
			if !slices.Equal(missing, tt.missing) || !slices.Equal(extra, tt.extra) {
				t.Errorf("diffPrefixes() = %v, %v; want %v, %v", missing, extra, tt.missing, tt.extra)
			}
		})
	}
}

// BenchmarkVerify10k compares a device of 10,000 peers with three allowed
// IPs each, read back in another order, with its configuration.
func BenchmarkVerify10k(b *testing.B) {
	cfg := Config{PrivateKey: &testPriv, ReplacePeers: true, Peers: manyPeers(10000)}
	d := &Device{PublicKey: testPriv.PublicKey(), HasPrivateKey: true}
	for _, p := range cfg.Peers {
		ips := slices.Clone(p.AllowedIPs)
		slices.Reverse(ips)
		gp := Peer{PublicKey: p.PublicKey, Endpoint: p.Endpoint, AllowedIPs: ips}
		if p.PersistentKeepalive != nil {
			gp.PersistentKeepalive = *p.PersistentKeepalive
		}
		d.Peers = append(d.Peers, gp)
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := Verify(cfg, d); err != nil {
			b.Fatal(err)
		}
	}
}
