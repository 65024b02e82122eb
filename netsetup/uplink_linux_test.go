package netsetup

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/wgboot/wgboot/netsetup/internal/nl"
	"github.com/wgboot/wgboot/netsetup/internal/nltest"
)

// logLines collects logf output.
type logLines []string

func (l *logLines) logf(format string, args ...any) {
	*l = append(*l, fmt.Sprintf(format, args...))
}

func testUplink(t *testing.T) Uplink {
	return Uplink{
		Interface:      "d0",
		Addresses:      []netip.Prefix{pfx(t, "192.0.2.10/24"), pfx(t, "2001:db8::10/64")},
		Gateways:       []netip.Addr{addr(t, "192.0.2.1"), addr(t, "fe80::1")},
		CarrierTimeout: time.Second,
	}
}

func TestBringUpUplink(t *testing.T) {
	k := newKernel(t, d0)
	h := k.handle()
	s := withEvents(h, nil)
	// The carrier comes after WaitCarrier has read the state.
	s.send(t, linkMessage(t, unix.RTM_NEWLINK, carrierUp))
	var log logLines
	if err := h.BringUpUplink(t.Context(), testUplink(t), log.logf); err != nil {
		t.Fatal(err)
	}
	checkGolden(t, "transcripts/uplink.golden", k.Transcript())
	want := []string{"uplink d0: carrier after", "uplink d0: address 192.0.2.10/24", "uplink d0: address 2001:db8::10/64",
		"uplink d0: default route via 192.0.2.1", "uplink d0: default route via fe80::1"}
	if len(log) != len(want) {
		t.Fatalf("log = %q, want %d lines", log, len(want))
	}
	for i, w := range want {
		if !strings.HasPrefix(log[i], w) {
			t.Errorf("log line %d = %q, want prefix %q", i, log[i], w)
		}
	}
}

func TestBringUpUplinkNoCarrier(t *testing.T) {
	k := newKernel(t, d0)
	h := k.handle()
	withEvents(h, nil)
	u := testUplink(t)
	u.CarrierTimeout = 100 * time.Millisecond
	var log logLines
	err := h.BringUpUplink(t.Context(), u, log.logf)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("BringUpUplink() = %v, want a carrier timeout", err)
	}
	// Addresses and routes are configured anyway.
	var got []uint16
	for _, m := range k.requests() {
		if m.Type == unix.RTM_NEWADDR || m.Type == unix.RTM_NEWROUTE {
			got = append(got, m.Type)
		}
	}
	if want := []uint16{unix.RTM_NEWADDR, unix.RTM_NEWADDR, unix.RTM_NEWROUTE, unix.RTM_NEWROUTE}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("requests after the timeout: %v, want %v", got, want)
	}
	if len(log) == 0 || !strings.Contains(log[0], "no carrier within 100ms") {
		t.Errorf("log = %q, want a no-carrier line first", log)
	}
}

func TestBringUpUplinkErrorsJoined(t *testing.T) {
	k := newKernel(t, d0)
	k.on[unix.RTM_NEWROUTE] = func(req nl.Message) ([]nl.Message, error) {
		r, _, err := parseRoute(req)
		if err == nil && r.Gateway.Is4() {
			return nltest.Errno(req, unix.ENETUNREACH, "Nexthop has invalid gateway"), nil
		}
		return nltest.Ack(req), nil
	}
	k.on[unix.RTM_NEWADDR] = func(req nl.Message) ([]nl.Message, error) {
		a, err := parseAddress(req)
		if err == nil && a.Prefix.Addr().Is6() {
			return nltest.Errno(req, unix.EACCES, "IPv6 is disabled on this device"), nil
		}
		return nltest.Ack(req), nil
	}
	u := testUplink(t)
	u.CarrierTimeout = 0
	err := k.handle().BringUpUplink(t.Context(), u, nil)
	if !errors.Is(err, unix.ENETUNREACH) || !errors.Is(err, unix.EACCES) {
		t.Fatalf("BringUpUplink() = %v, want both failures joined", err)
	}
	for _, s := range []string{"uplink d0: add address 2001:db8::10/64", "IPv6 is disabled on this device",
		"uplink d0: replace route 0.0.0.0/0 via 192.0.2.1 dev 2", "Nexthop has invalid gateway"} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error %q lacks %q", err, s)
		}
	}
	n := 0
	for _, m := range k.requests() {
		if m.Type == unix.RTM_NEWROUTE {
			n++
		}
	}
	if n != 2 {
		t.Errorf("sent %d routes, want 2: a failure does not stop the others", n)
	}
}

func TestBringUpUplinkValidation(t *testing.T) {
	tests := []struct {
		name string
		edit func(u *Uplink)
	}{
		{"bad name", func(u *Uplink) { u.Interface = "eth 0" }},
		{"two IPv4 gateways", func(u *Uplink) { u.Gateways = append(u.Gateways, addr(t, "192.0.2.2")) }},
		{"unspecified gateway", func(u *Uplink) { u.Gateways = []netip.Addr{addr(t, "::")} }},
		{"unspecified address", func(u *Uplink) { u.Addresses = []netip.Prefix{pfx(t, "0.0.0.0/0")} }},
	}
	for _, tt := range tests {
		k := newKernel(t, d0)
		u := testUplink(t)
		tt.edit(&u)
		if err := k.handle().BringUpUplink(t.Context(), u, nil); err == nil {
			t.Errorf("%s: BringUpUplink() succeeded, want an error", tt.name)
		}
		if len(k.requests()) != 0 {
			t.Errorf("%s: sent requests for an invalid uplink", tt.name)
		}
	}
}

func TestBringUpUplinkMissingLink(t *testing.T) {
	err := newKernel(t).handle().BringUpUplink(t.Context(), testUplink(t), nil)
	if !errors.Is(err, unix.ENODEV) || !strings.Contains(err.Error(), `look up link "d0"`) {
		t.Errorf("BringUpUplink() = %v, want ENODEV naming the link", err)
	}
}

// TestBringUpUplinkDAD: NoDAD marks the IPv6 addresses only, and
// DADTimeout waits for the address that is tentative, then logs it.
func TestBringUpUplinkDAD(t *testing.T) {
	k := newKernel(t, d0)
	h := k.handle()
	s := withEvents(h, nil)
	k.on[unix.RTM_GETADDR] = func(req nl.Message) ([]nl.Message, error) {
		s.send(t, addrMessage(t, unix.RTM_NEWADDR, "2001:db8::10/64", settled))
		return nltest.Dump(req, addrMessage(t, unix.RTM_NEWADDR, "192.0.2.10/24", settled),
			addrMessage(t, unix.RTM_NEWADDR, "2001:db8::10/64", tentative)), nil
	}
	u := testUplink(t)
	u.CarrierTimeout = 0
	u.NoDAD = true
	u.DADTimeout = time.Second
	var log logLines
	if err := h.BringUpUplink(t.Context(), u, log.logf); err != nil {
		t.Fatal(err)
	}
	var flags []string
	for _, m := range k.requests() {
		if m.Type == unix.RTM_NEWADDR {
			flags = append(flags, fmt.Sprintf("%#x", m.Data[2]))
		}
	}
	if want := "[0x0 0x2]"; fmt.Sprint(flags) != want {
		t.Errorf("ifa_flags of the addresses %v, want %s (IFA_F_NODAD on IPv6 only)", flags, want)
	}
	if last := log[len(log)-1]; !strings.HasPrefix(last, "uplink d0: addresses ready after") {
		t.Errorf("last log line %q, want the addresses ready", last)
	}

	// Tentative past the timeout: an error, after everything else is done.
	withEvents(h, nil)
	k.on[unix.RTM_GETADDR] = func(req nl.Message) ([]nl.Message, error) {
		return nltest.Dump(req, addrMessage(t, unix.RTM_NEWADDR, "2001:db8::10/64", tentative)), nil
	}
	u.DADTimeout = 100 * time.Millisecond
	err := h.BringUpUplink(t.Context(), u, nil)
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "2001:db8::10 still tentative") {
		t.Errorf("BringUpUplink() = %v, want the address still tentative", err)
	}
}
