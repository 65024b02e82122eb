package netsetup

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/wgboot/wgboot/netsetup/internal/nl"
	"github.com/wgboot/wgboot/netsetup/internal/nltest"
)

// defaultRoute6 encodes d0's IPv6 default route via gw, as a dump reply.
func defaultRoute6(t testing.TB, gw string) nl.Message {
	t.Helper()
	m, err := routeRequest(unix.RTM_NEWROUTE, 0, Route{Dst: pfx(t, "::/0"), Gateway: addr(t, gw), OIF: d0.Index, Protocol: unix.RTPROT_RA})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestWaitIPv6Router: a global address that is not tentative and a
// default route end the wait; an event makes it read the state again;
// at the deadline the error says what is missing.
func TestWaitIPv6Router(t *testing.T) {
	global, ll := "2001:db8::5054:ff:fe12:3456/64", "fe80::5054:ff:fe12:3456/64"
	type state struct{ addrs, routes []nl.Message }
	tests := []struct {
		name     string
		states   []state // the first is read at once, the next after each event
		wantText string
	}{
		{name: "there at once", states: []state{{
			addrs:  []nl.Message{addrMessage(t, unix.RTM_NEWADDR, ll, settled), addrMessage(t, unix.RTM_NEWADDR, global, settled)},
			routes: []nl.Message{defaultRoute6(t, "fe80::1")}}}},
		{name: "address passes DAD, then the route", states: []state{
			{addrs: []nl.Message{addrMessage(t, unix.RTM_NEWADDR, global, tentative)}},
			{addrs: []nl.Message{addrMessage(t, unix.RTM_NEWADDR, global, settled)}},
			{addrs: []nl.Message{addrMessage(t, unix.RTM_NEWADDR, global, settled)}, routes: []nl.Message{defaultRoute6(t, "fe80::1")}},
		}},
		{name: "tentative at the deadline", states: []state{
			{addrs: []nl.Message{addrMessage(t, unix.RTM_NEWADDR, ll, settled), addrMessage(t, unix.RTM_NEWADDR, global, tentative)},
				routes: []nl.Message{defaultRoute6(t, "fe80::1")}}},
			wantText: "no global address: 2001:db8::5054:ff:fe12:3456/64 (tentative) after"},
		{name: "no router at all", states: []state{{addrs: []nl.Message{addrMessage(t, unix.RTM_NEWADDR, ll, settled)}}},
			wantText: "no global address, no default route after"},
		{name: "address without a route", states: []state{{addrs: []nl.Message{addrMessage(t, unix.RTM_NEWADDR, global, settled)}}},
			wantText: ": no default route after"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k := newKernel(t, d0)
			h := k.handle()
			subscribed := false
			s := withEvents(h, func() { subscribed = true })
			var mu sync.Mutex
			cur := 0
			k.on[unix.RTM_GETADDR] = func(req nl.Message) ([]nl.Message, error) {
				mu.Lock()
				defer mu.Unlock()
				return nltest.Dump(req, tt.states[cur].addrs...), nil
			}
			k.on[unix.RTM_GETROUTE] = func(req nl.Message) ([]nl.Message, error) {
				mu.Lock()
				defer mu.Unlock()
				msgs := tt.states[cur].routes
				if cur+1 < len(tt.states) {
					// The next state comes with an event.
					cur++
					s.send(t, addrMessage(t, unix.RTM_NEWADDR, global, settled))
				}
				return nltest.Dump(req, msgs...), nil
			}
			ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
			defer cancel()
			r, err := h.WaitIPv6Router(ctx, d0.Index)
			if !subscribed {
				t.Error("WaitIPv6Router did not subscribe")
			}
			if tt.wantText != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantText) || !errors.Is(err, context.DeadlineExceeded) {
					t.Fatalf("WaitIPv6Router() = %+v, %v; want an error containing %q", r, err, tt.wantText)
				}
				return
			}
			if err != nil {
				t.Fatalf("WaitIPv6Router() error = %v", err)
			}
			if len(r.Addresses) != 1 || r.Addresses[0] != pfx(t, global) || r.Gateway != addr(t, "fe80::1") {
				t.Errorf("WaitIPv6Router() = %+v", r)
			}
			select {
			case <-s.closed:
			default:
				t.Error("WaitIPv6Router did not close its subscription")
			}
		})
	}
}
