package netsetup

import (
	"net/netip"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/wgboot/wgboot/internal/krule/kruletest"
)

// wg5 is a wireguard link as the kernel creates it.
var wg5 = Link{Index: 5, Name: "wg0", Kind: "wireguard", Type: unix.ARPHRD_NONE, MTU: 1420,
	Flags: unix.IFF_POINTOPOINT | unix.IFF_NOARP}

// tunnelWG0 is the link both TunnelLink tests configure.
func tunnelWG0(t *testing.T) TunnelLink {
	return TunnelLink{
		Name:      "wg0",
		MTU:       1380,
		Addresses: []netip.Prefix{pfx(t, "10.8.0.2/24"), pfx(t, "fd00:8::2/64")},
		// Host bits are ignored.
		Routes: []netip.Prefix{pfx(t, "10.8.0.1/24"), pfx(t, "0.0.0.0/0"), pfx(t, "::/0")},
		Table:  51820,
	}
}

func TestConfigureTunnelLink(t *testing.T) {
	k := newKernel(t, wg5)
	err := k.handle().ConfigureTunnelLink(tunnelWG0(t))
	if err != nil {
		t.Fatal(err)
	}
	checkGolden(t, "transcripts/tunnel.golden", k.Transcript())
}

// TestConfigureTunnelLinkOf: the link just created is configured as read
// then, without a lookup, and the same way as ConfigureTunnelLink does it.
func TestConfigureTunnelLinkOf(t *testing.T) {
	k := newKernel(t, wg5)
	err := k.handle().ConfigureTunnelLinkOf(wg5, tunnelWG0(t))
	if err != nil {
		t.Fatal(err)
	}
	got := k.Transcript()
	if strings.Contains(got, "RTM_GETLINK") {
		t.Errorf("ConfigureTunnelLinkOf looked the link up:\n%s", got)
	}
	// ConfigureTunnelLink's transcript but its lookup (a request and its
	// reply) and the sequence numbers after it.
	k2 := newKernel(t, wg5)
	if err := k2.handle().ConfigureTunnelLink(TunnelLink{Name: "wg0", MTU: 1380,
		Addresses: []netip.Prefix{pfx(t, "10.8.0.2/24"), pfx(t, "fd00:8::2/64")},
		Routes:    []netip.Prefix{pfx(t, "10.8.0.1/24"), pfx(t, "0.0.0.0/0"), pfx(t, "::/0")},
		Table:     51820}); err != nil {
		t.Fatal(err)
	}
	strip := func(s string) []string {
		var out []string
		for _, l := range strings.Split(s, "\n") {
			if i := strings.Index(l, " seq="); i >= 0 {
				if j := strings.Index(l[i+1:], " "); j >= 0 {
					l = l[:i] + l[i+1+j:]
				}
			}
			out = append(out, l)
		}
		return out
	}
	want := strip(k2.Transcript())[2:]
	if g := strip(got); strings.Join(g, "\n") != strings.Join(want, "\n") {
		t.Errorf("ConfigureTunnelLinkOf:\n%s\nwant ConfigureTunnelLink's without its lookup:\n%s", strings.Join(g, "\n"), strings.Join(want, "\n"))
	}
}

func TestConfigureTunnelLinkSmallMTU(t *testing.T) {
	k := newKernel(t, wg5)
	err := k.handle().ConfigureTunnelLink(TunnelLink{
		Name:      "wg0",
		MTU:       1200,
		Addresses: []netip.Prefix{pfx(t, "10.8.0.2/24"), pfx(t, "fd00:8::2/64")},
		Routes:    []netip.Prefix{pfx(t, "10.8.0.0/24"), pfx(t, "fd00:8::/64")},
	})
	for _, s := range []string{"fd00:8::2/64: the link's mtu 1200 is below 1280", "fd00:8::/64: the link's mtu 1200"} {
		if err == nil || !strings.Contains(err.Error(), s) {
			t.Errorf("ConfigureTunnelLink() = %v, want an error containing %q", err, s)
		}
	}
	// The MTU first, no IPv6 request at all, IPv4 configured.
	var got []string
	for _, m := range k.requests() {
		switch m.Type {
		case unix.RTM_NEWADDR:
			a, _ := parseAddress(m)
			got = append(got, "addr "+a.Prefix.String())
		case unix.RTM_NEWROUTE:
			r, _, _ := parseRoute(m)
			got = append(got, "route "+r.Dst.String())
		case unix.RTM_NEWLINK:
			got = append(got, "link")
		}
	}
	if want := "link addr 10.8.0.2/24 link route 10.8.0.0/24"; strings.Join(got, " ") != want {
		t.Errorf("requests: %q, want %q", strings.Join(got, " "), want)
	}
}

// TestConfigureTunnelLinkMTUs runs the MTUs that board.Validate is tested
// with too (kruletest.MTUs): an IPv6 address goes to the kernel exactly
// when check lets the tunnel carry IPv6.
func TestConfigureTunnelLinkMTUs(t *testing.T) {
	for _, tt := range kruletest.MTUs {
		k := newKernel(t, wg5)
		err := k.handle().ConfigureTunnelLink(TunnelLink{Name: "wg0", MTU: tt.MTU, Addresses: []netip.Prefix{pfx(t, "fd00:8::2/64")}})
		sent := false
		for _, m := range k.requests() {
			sent = sent || m.Type == unix.RTM_NEWADDR
		}
		if sent != tt.IPv6 || (err == nil) != tt.IPv6 {
			t.Errorf("mtu %d: IPv6 address sent %v, error %v; want sent %v", tt.MTU, sent, err, tt.IPv6)
		}
	}
}
