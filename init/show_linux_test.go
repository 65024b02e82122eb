package main

import (
	"bytes"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/wgboot/wgboot/internal/wgkey"
	"github.com/wgboot/wgboot/netsetup/wg"
)

func TestWriteDevice(t *testing.T) {
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	var dev, peer1, peer2 wgkey.Key
	for i := range dev {
		dev[i], peer1[i], peer2[i] = byte(i), byte(i+1), byte(i+2)
	}
	d := &wg.Device{
		Name: "wg0", Index: 3, PublicKey: dev, HasPrivateKey: true,
		ListenPort: 51820, FirewallMark: 0x1a,
		Peers: []wg.Peer{
			{
				PublicKey: peer1, HasPresharedKey: true,
				Endpoint:            netip.MustParseAddrPort("192.168.50.1:51820"),
				PersistentKeepalive: 25 * time.Second,
				LastHandshake:       now.Add(-(time.Hour + 2*time.Minute + time.Second + 300*time.Millisecond)),
				RxBytes:             1536, TxBytes: 92,
				AllowedIPs: []netip.Prefix{netip.MustParsePrefix("10.77.0.0/24"), netip.MustParsePrefix("fd77::/64")},
			},
			{PublicKey: peer2},
		},
	}
	var b bytes.Buffer
	writeDevice(&b, d, now)
	want := `interface: wg0
  public key: ` + dev.String() + `
  private key: (hidden)
  listening port: 51820
  fwmark: 0x1a

peer: ` + peer1.String() + `
  preshared key: (hidden)
  endpoint: 192.168.50.1:51820
  allowed ips: 10.77.0.0/24, fd77::/64
  latest handshake: 1 hour, 2 minutes, 1 second ago
  transfer: 1.50 KiB received, 92 B sent
  persistent keepalive: every 25 seconds

peer: ` + peer2.String() + `
  allowed ips: (none)
  latest handshake: (none)
`
	if got := b.String(); got != want {
		t.Errorf("writeDevice:\n%s\nwant:\n%s", got, want)
	}
}

func TestWriteDeviceNoKey(t *testing.T) {
	var b bytes.Buffer
	writeDevice(&b, &wg.Device{Name: "wg1"}, time.Now())
	if got, want := b.String(), "interface: wg1\n  public key: (none: no private key set)\n"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestAgoAndSizes(t *testing.T) {
	for d, want := range map[time.Duration]string{
		-time.Second:               "in the future (the clock went back)",
		0:                          "just now",
		time.Second:                "1 second ago",
		59 * time.Second:           "59 seconds ago",
		2 * time.Minute:            "2 minutes ago",
		49*time.Hour + time.Minute: "2 days, 1 hour, 1 minute ago",
	} {
		if got := ago(d); got != want {
			t.Errorf("ago(%v) = %q, want %q", d, got, want)
		}
	}
	for n, want := range map[uint64]string{
		0: "0 B", 1023: "1023 B", 1024: "1.00 KiB", 5 << 20: "5.00 MiB", 3 << 30: "3.00 GiB", 1 << 50: "1024.00 TiB",
	} {
		if got := byteSize(n); got != want {
			t.Errorf("byteSize(%d) = %q, want %q", n, got, want)
		}
	}
}

// TestShowUsage: flags are not interfaces.
func TestShowUsage(t *testing.T) {
	var out, errb bytes.Buffer
	if code := runCLI(&out, &errb, []string{"show", "-x"}); code != 2 || !strings.Contains(errb.String(), "usage: wgboot show") {
		t.Errorf("show -x: code %d, stderr %q", code, errb.String())
	}
}
