package main

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/wgboot/wgboot/board"
)

// TestHubProfile checks that the -hub profile is what the table says: n
// peers with 2n distinct allowed IPs, none the tunnel's own address, the
// table as asked, and a profile that boot accepts.
func TestHubProfile(t *testing.T) {
	for _, n := range []int{1, 300, 5000} {
		for _, table := range hubTables {
			data := hubProfile(n, table)
			p, ds := board.Parse("hub.toml", data)
			if ds.HasErrors() {
				t.Fatalf("n=%d table=%s: %v", n, table, ds.Err())
			}
			if ds := p.Validate(); ds.HasErrors() {
				t.Fatalf("n=%d table=%s: validate: %v", n, table, ds.Err())
			}
			if len(p.Tunnels) != 1 || len(p.Tunnels[0].Peers) != n {
				t.Fatalf("n=%d: %d tunnels", n, len(p.Tunnels))
			}
			seen := map[netip.Prefix]bool{}
			for _, peer := range p.Tunnels[0].Peers {
				for _, a := range peer.AllowedIPs {
					if seen[a] || a.Addr() == netip.MustParseAddr("10.0.0.1") {
						t.Fatalf("n=%d: allowed IP %s twice or the tunnel's own", n, a)
					}
					seen[a] = true
				}
			}
			if len(seen) != 2*n {
				t.Errorf("n=%d: %d allowed IPs, want %d", n, len(seen), 2*n)
			}
			if !strings.Contains(string(data), `table = "`+table+`"`) {
				t.Errorf("n=%d: table %q not in the profile", n, table)
			}
		}
	}
}

func TestParseHubBoot(t *testing.T) {
	console := `[    2.045560] wgboot: bench: main
[    2.049386] wgboot: phase profile: done in 52.1ms
[    2.202965] wgboot: phase modules: done in 153.47ms
[    4.359000] wgboot: phase tunnels: done in 2.156s
[    4.360000] wgboot: phase verify: done in 171µs
[    4.361000] wgboot: READY in 2.512s (profile=52.1ms modules=153.47ms tunnels=2.156s verify=171µs)
`
	h, err := parseHubBoot(console)
	if err != nil {
		t.Fatal(err)
	}
	if h.dur["profile"] != 52100*time.Microsecond || h.dur["tunnels"] != 2156*time.Millisecond || h.dur["verify"] != 171*time.Microsecond || h.ready != 2512*time.Millisecond {
		t.Errorf("parsed %+v", h)
	}
	if strings.Join(h.phases, ",") != "profile,modules,tunnels,verify" {
		t.Errorf("phases %q", h.phases)
	}
	if _, err := parseHubBoot(strings.Replace(console, "READY in 2.512s", "FAILED in 2.512s", 1)); err == nil {
		t.Error("no READY: no error")
	}
	failed := console + "[    4.362000] wgboot: FAILED: phase tunnels: route 10.0.0.2/32: file exists\n"
	if _, err := parseHubBoot(failed); err == nil || !strings.Contains(err.Error(), "route 10.0.0.2/32") {
		t.Errorf("FAILED boot: %v", err)
	}
}
