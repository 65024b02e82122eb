package main

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/wgboot/wgboot/board"
	"github.com/wgboot/wgboot/internal/dnsclient"
	"github.com/wgboot/wgboot/internal/sntp"
	"github.com/wgboot/wgboot/internal/sntp/sntptest"
)

// TestNTPAddrs: [clock] ntp by name. Every address of every server, in
// the profile's order and each name's answer's (A first); the port the
// profile gives; a name that gives none is reported and the others are
// asked all the same. The first address that answers gives the time:
// here the name's second, its first refusing.
func TestNTPAddrs(t *testing.T) {
	pc, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	go (&sntptest.Server{}).Serve(pc)
	port := pc.LocalAddr().(*net.UDPAddr).Port
	srv := dnsServer(t, map[string][]string{
		"time.example.net.": {"127.0.0.3", "127.0.0.1", "::1"},
		"pool.example.net.": {"192.0.2.1"},
	})
	p, ds := board.Parse("ntp.toml", []byte(`[board]
name = "ntp"
[clock]
ntp = ["time.example.net:`+strconv.Itoa(port)+`", "192.0.2.9", "gone.example.net", "pool.example.net", "time.example.net:`+strconv.Itoa(port)+`"]
`))
	if ds.HasErrors() {
		t.Fatal(ds.Err())
	}
	b, log := testResolveBoot(t)
	dns := &dnsclient.Client{Servers: []netip.AddrPort{srv}, Timeout: time.Second}
	addrs, names, err := b.ntpAddrs(t.Context(), dns, p.Clock.NTP)
	ap := func(a string, port int) netip.AddrPort {
		return netip.AddrPortFrom(netip.MustParseAddr(a), uint16(port))
	}
	want := []netip.AddrPort{ap("127.0.0.3", port), ap("127.0.0.1", port), ap("::1", port), ap("192.0.2.9", 123), ap("192.0.2.1", 123)}
	if !slices.Equal(addrs, want) {
		t.Errorf("ntpAddrs() = %v, want %v", addrs, want)
	}
	if !errors.Is(err, dnsclient.ErrNotFound) || !strings.Contains(err.Error(), "gone.example.net") {
		t.Errorf("ntpAddrs() error = %v, want gone.example.net's NXDOMAIN", err)
	}
	if names[want[1]] != "time.example.net" || names[want[4]] != "pool.example.net" || names[want[3]] != "" {
		t.Errorf("names = %v", names)
	}
	if !strings.Contains(log.String(), "resolve: time.example.net: 127.0.0.3 127.0.0.1 ::1 from "+srv.String()) {
		t.Errorf("log lacks the lookup:\n%s", log)
	}
	res, err := sntp.First(t.Context(), addrs, time.Now(), time.Second)
	if err != nil || res.Server != want[1] {
		t.Errorf("sntp.First(%v) = %+v, %v; want the answer of %v", addrs, res, err, want[1])
	}
}

// TestNTPAddrsBounded: a DNS server that never answers costs at most half
// the phase's time, and the servers given by address are still asked.
func TestNTPAddrsBounded(t *testing.T) {
	silent, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { silent.Close() })
	b, log := testResolveBoot(t)
	servers := []board.Endpoint{{Host: "pool.example.net", Port: 123}, {Addr: netip.MustParseAddrPort("192.0.2.9:123")}}
	dns := &dnsclient.Client{Servers: []netip.AddrPort{netip.MustParseAddrPort(silent.LocalAddr().String())}}
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Second)
	defer cancel()
	start := time.Now()
	addrs, _, err := b.ntpAddrs(ctx, dns, servers)
	if d := time.Since(start); d < 900*time.Millisecond || d > 1500*time.Millisecond {
		t.Errorf("ntpAddrs() with a silent DNS server took %v; want half of 2s", d)
	}
	if !slices.Equal(addrs, []netip.AddrPort{servers[1].Addr}) || err == nil {
		t.Errorf("ntpAddrs() = %v, %v; want the address alone and the name's failure", addrs, err)
	}
	// No DNS server at all: said so, and the addresses asked.
	addrs, _, err = b.ntpAddrs(t.Context(), &dnsclient.Client{}, servers)
	if !slices.Equal(addrs, []netip.AddrPort{servers[1].Addr}) || err == nil {
		t.Errorf("ntpAddrs() without DNS servers = %v, %v", addrs, err)
	}
	if !strings.Contains(log.String(), "clock: ntp: no DNS server to ask for pool.example.net") {
		t.Errorf("log lacks the missing DNS server:\n%s", log)
	}
}
