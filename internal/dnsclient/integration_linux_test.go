package dnsclient

import (
	"context"
	"errors"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/wgboot/wgboot/internal/netnstest"
	"github.com/wgboot/wgboot/netsetup"
)

// TestIntegrationDnsmasq asks a real, independent resolver — Debian's
// dnsmasq, in a network namespace of its own — over IPv4 and IPv6: plain
// names, a CNAME, NXDOMAIN, NODATA, and an answer too large for UDP that
// dnsmasq truncates, so that the client asks again over TCP.
func TestIntegrationDnsmasq(t *testing.T) {
	ns := netnstest.New(t)
	args := []string{
		"--no-resolv", "--no-hosts", "--bind-interfaces", "--listen-address=127.0.0.1", "--listen-address=::1",
		"--local=/test/", // names under test. that it does not have: NXDOMAIN
		"--host-record=hub.test,192.0.2.1",
		"--host-record=hub2.test,192.0.2.2,2001:db8::2",
		"--host-record=v6only.test,2001:db8::6",
		"--cname=alias.test,hub2.test",
	}
	// 40 A records take 40×16 bytes: more than the 512 of a UDP answer.
	var big []netip.Addr
	for i := range 40 {
		a := netip.AddrFrom4([4]byte{198, 51, 100, byte(i + 1)})
		big = append(big, a)
		args = append(args, "--host-record=big.test,"+a.String())
	}
	if err := ns.Do(func() error {
		h, err := netsetup.Open()
		if err != nil {
			return err
		}
		defer h.Close()
		lo, err := h.LinkByName("lo")
		if err != nil {
			return err
		}
		return h.SetLinkUp(lo.Index, true)
	}); err != nil {
		t.Fatal(err)
	}
	ns.Dnsmasq(t, args...)

	for _, server := range []string{"127.0.0.1:53", "[::1]:53"} {
		c := &Client{Servers: []netip.AddrPort{netip.MustParseAddrPort(server)}, Timeout: 200 * time.Millisecond}
		look := func(host string) (a *Answer, err error) {
			ns.Do(func() error {
				ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
				defer cancel()
				a, err = c.Lookup(ctx, host)
				return nil
			})
			return a, err
		}
		// dnsmasq needs a moment to listen.
		deadline := time.Now().Add(5 * time.Second)
		for {
			_, err := look("hub.test")
			if err == nil {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: dnsmasq does not answer: %v", server, err)
			}
			time.Sleep(50 * time.Millisecond)
		}
		t.Run(server, func(t *testing.T) {
			for _, tt := range []struct {
				host   string
				addrs  []netip.Addr
				cnames []string
				tcp    bool
				err    error
			}{
				{host: "hub.test", addrs: addrs("192.0.2.1")},
				{host: "HUB2.test.", addrs: addrs("192.0.2.2", "2001:db8::2")},
				{host: "v6only.test", addrs: addrs("2001:db8::6")},
				{host: "alias.test", addrs: addrs("192.0.2.2", "2001:db8::2"), cnames: []string{"hub2.test."}},
				{host: "big.test", addrs: big, tcp: true},
				{host: "nothing.test", err: ErrNotFound},
			} {
				a, err := look(tt.host)
				if tt.err != nil {
					if !errors.Is(err, tt.err) {
						t.Errorf("Lookup(%s) = %v, %v, want %v", tt.host, a, err, tt.err)
					}
					continue
				}
				if err != nil {
					t.Errorf("Lookup(%s) error = %v", tt.host, err)
					continue
				}
				got := slices.Clone(a.Addrs)
				slices.SortFunc(got, netip.Addr.Compare)
				if !slices.Equal(got, tt.addrs) || !slices.Equal(a.CNAMEs, tt.cnames) || a.TCP != tt.tcp {
					t.Errorf("Lookup(%s) = %v cnames %v tcp %v, want %v cnames %v tcp %v", tt.host,
						got, a.CNAMEs, a.TCP, tt.addrs, tt.cnames, tt.tcp)
				}
			}
		})
	}
}
