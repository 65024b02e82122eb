package main

import (
	"bufio"
	"errors"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/wgboot/wgboot/internal/dnsclient"
)

const testZone = `
# the hub
hub.wgboot.test A 192.168.50.1
hub.wgboot.test AAAA fd50::1
alias.wgboot.test CNAME hub.wgboot.test
dangling.wgboot.test CNAME gone.wgboot.test
big.wgboot.test A 192.168.50.9
big.wgboot.test TC
`

// TestResponder asks the responder with wgboot's own client: what the
// boot will see in the end-to-end tests.
func TestResponder(t *testing.T) {
	z, err := parseZone(bufio.NewScanner(strings.NewReader(testZone)))
	if err != nil {
		t.Fatal(err)
	}
	s, err := listen("127.0.0.1:0", z, t.Logf)
	if err != nil {
		t.Fatal(err)
	}
	defer s.close()
	go s.serve()
	c := &dnsclient.Client{Servers: []netip.AddrPort{s.addr()}}
	for _, tt := range []struct {
		host  string
		addrs []string
		tcp   bool
		err   error
	}{
		{host: "hub.wgboot.test", addrs: []string{"192.168.50.1", "fd50::1"}},
		{host: "Alias.wgboot.test", addrs: []string{"192.168.50.1", "fd50::1"}},
		{host: "big.wgboot.test", addrs: []string{"192.168.50.9"}, tcp: true},
		{host: "dangling.wgboot.test", err: dnsclient.ErrNotFound},
		{host: "nothing.wgboot.test", err: dnsclient.ErrNotFound},
	} {
		a, err := c.Lookup(t.Context(), tt.host)
		if tt.err != nil {
			if !errors.Is(err, tt.err) {
				t.Errorf("Lookup(%s) = %v, want %v", tt.host, err, tt.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("Lookup(%s): %v", tt.host, err)
			continue
		}
		var got []string
		for _, a := range a.Addrs {
			got = append(got, a.String())
		}
		if !slices.Equal(got, tt.addrs) || a.TCP != tt.tcp {
			t.Errorf("Lookup(%s) = %v tcp=%v, want %v tcp=%v", tt.host, got, a.TCP, tt.addrs, tt.tcp)
		}
	}
}

func TestParseZoneErrors(t *testing.T) {
	for _, bad := range []string{"hub A", "hub A fd50::1", "hub MX x", "hub AAAA 192.0.2.1"} {
		if _, err := parseZone(bufio.NewScanner(strings.NewReader(bad))); err == nil {
			t.Errorf("parseZone(%q) = nil error", bad)
		}
	}
}
