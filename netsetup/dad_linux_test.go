package netsetup

import (
	"context"
	"errors"
	"net/netip"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/wgboot/wgboot/netsetup/internal/nl"
	"github.com/wgboot/wgboot/netsetup/internal/nltest"
)

// addrMessage encodes an address of d0 with flags, as the kernel reports it
// (IFA_FLAGS holds them all), for dumps and notifications.
func addrMessage(t testing.TB, typ uint16, prefix string, flags uint32) nl.Message {
	t.Helper()
	p := pfx(t, prefix)
	var ae nl.AttrEncoder
	ae.Bytes(unix.IFA_ADDRESS, p.Addr().AsSlice())
	ae.Uint32(unix.IFA_FLAGS, flags)
	m, err := message(typ, 0, ifaddrmsg(family(p.Addr()), uint8(p.Bits()), uint8(flags), 0, d0.Index), &ae)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

const (
	tentative = unix.IFA_F_TENTATIVE | unix.IFA_F_PERMANENT
	settled   = unix.IFA_F_PERMANENT
)

func TestWaitDAD(t *testing.T) {
	ll := "fe80::1/64"
	global := "2001:db8::2/64"
	tests := []struct {
		name string
		// initial are the addresses when WaitDAD reads them.
		initial []nl.Message
		// events are sent after the read, one datagram each; nil stands
		// for ENOBUFS, after which the addresses read are later.
		events [][]nl.Message
		later  []nl.Message
		only   []string
		// wantErr is matched with errors.Is; wantText must be in the
		// error.
		wantErr  error
		wantText string
	}{
		{name: "nothing tentative", initial: []nl.Message{
			addrMessage(t, unix.RTM_NEWADDR, "10.0.0.2/24", settled), addrMessage(t, unix.RTM_NEWADDR, global, settled)}},
		{name: "detection completes", initial: []nl.Message{
			addrMessage(t, unix.RTM_NEWADDR, ll, tentative), addrMessage(t, unix.RTM_NEWADDR, global, tentative)},
			events: [][]nl.Message{
				{addrMessage(t, unix.RTM_NEWADDR, ll, settled)},
				{addrMessage(t, unix.RTM_NEWADDR, global, settled)},
			}},
		{name: "still tentative at the deadline", initial: []nl.Message{
			addrMessage(t, unix.RTM_NEWADDR, ll, settled), addrMessage(t, unix.RTM_NEWADDR, global, tentative)},
			wantErr: context.DeadlineExceeded, wantText: "2001:db8::2 still tentative after"},
		{name: "detection fails", initial: []nl.Message{addrMessage(t, unix.RTM_NEWADDR, global, tentative)},
			events:  [][]nl.Message{{addrMessage(t, unix.RTM_NEWADDR, global, tentative|unix.IFA_F_DADFAILED)}},
			wantErr: ErrDADFailed, wantText: "2001:db8::2/64: duplicate address detected"},
		{name: "already failed", initial: []nl.Message{addrMessage(t, unix.RTM_NEWADDR, global, tentative|unix.IFA_F_DADFAILED)},
			wantErr: ErrDADFailed},
		{name: "optimistic is usable", initial: []nl.Message{addrMessage(t, unix.RTM_NEWADDR, global, tentative|unix.IFA_F_OPTIMISTIC)}},
		{name: "only the addresses asked for", only: []string{"2001:db8::2"}, initial: []nl.Message{
			addrMessage(t, unix.RTM_NEWADDR, ll, tentative), addrMessage(t, unix.RTM_NEWADDR, global, settled)}},
		{name: "asked for, not on the link", only: []string{"2001:db8::3"}, initial: []nl.Message{
			addrMessage(t, unix.RTM_NEWADDR, global, settled)}, wantText: "[2001:db8::3] not on the link"},
		{name: "lost events: read again", initial: []nl.Message{addrMessage(t, unix.RTM_NEWADDR, global, tentative)},
			events: [][]nl.Message{nil}, later: []nl.Message{addrMessage(t, unix.RTM_NEWADDR, global, settled)}},
		{name: "deleted while tentative", initial: []nl.Message{addrMessage(t, unix.RTM_NEWADDR, global, tentative)},
			events:   [][]nl.Message{{addrMessage(t, unix.RTM_DELADDR, global, tentative)}},
			wantText: "[2001:db8::2] not on the link"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k := newKernel(t, d0)
			h := k.handle()
			reqsAtSubscribe := -1
			s := withEvents(h, func() { reqsAtSubscribe = len(k.requests()) })
			reads := 0
			k.on[unix.RTM_GETADDR] = func(req nl.Message) ([]nl.Message, error) {
				reads++
				if reads > 1 {
					return nltest.Dump(req, tt.later...), nil
				}
				// After the first read, the events happen.
				for _, msgs := range tt.events {
					if msgs == nil {
						s.ch <- event{err: &nl.Error{Op: "receive notifications", Err: unix.ENOBUFS}}
						continue
					}
					s.send(t, msgs...)
				}
				return nltest.Dump(req, tt.initial...), nil
			}
			var only []netip.Addr
			for _, a := range tt.only {
				only = append(only, addr(t, a))
			}
			ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
			defer cancel()
			start := time.Now()
			err := h.WaitDAD(ctx, 2, only...)
			wantFail := tt.wantErr != nil || tt.wantText != ""
			if (err != nil) != wantFail || (tt.wantErr != nil && !errors.Is(err, tt.wantErr)) ||
				(tt.wantText != "" && !strings.Contains(err.Error(), tt.wantText)) {
				t.Fatalf("WaitDAD() = %v, want error %v containing %q", err, tt.wantErr, tt.wantText)
			}
			if reqsAtSubscribe != 0 {
				t.Errorf("WaitDAD sent %d requests before subscribing, want 0 (subscribe, then read)", reqsAtSubscribe)
			}
			if errors.Is(tt.wantErr, context.DeadlineExceeded) && time.Since(start) < 250*time.Millisecond {
				t.Errorf("WaitDAD gave up after %v, before its deadline", time.Since(start))
			}
			select {
			case <-s.closed:
			default:
				t.Error("WaitDAD did not close its subscription")
			}
		})
	}
}
