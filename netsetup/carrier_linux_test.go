package netsetup

import (
	"context"
	"errors"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/wgboot/wgboot/netsetup/internal/nl"
)

// carrierUp is d0 with carrier.
var carrierUp = func() Link {
	l := d0
	l.Flags |= unix.IFF_UP | unix.IFF_RUNNING | unix.IFF_LOWER_UP
	l.OperState = ifOperUp
	return l
}()

// withEvents gives h a fake link-event subscription and returns its
// socket. subscribed, if not nil, is called when WaitCarrier subscribes.
func withEvents(h *Handle, subscribed func()) *eventSocket {
	s := newEventSocket()
	h.subscribe = func(...uint32) (*nl.Subscription, error) {
		if subscribed != nil {
			subscribed()
		}
		return nl.NewSubscription(s), nil
	}
	return s
}

func TestWaitCarrier(t *testing.T) {
	down := d0
	down.Flags |= unix.IFF_UP
	down.OperState = 2 // IF_OPER_DOWN
	dormant := carrierUp
	dormant.OperState = 5 // IF_OPER_DORMANT
	other := carrierUp
	other.Index, other.Name = 3, "d1"
	tests := []struct {
		name string
		// initial is the link's state when WaitCarrier reads it.
		initial Link
		// events are sent after the read, one datagram each; a nil
		// Message slot stands for ENOBUFS.
		events [][]nl.Message
		// later is the state a re-read (after ENOBUFS) sees.
		later   *Link
		wantErr error
	}{
		{name: "carrier already there", initial: carrierUp},
		{name: "carrier comes by notification", initial: down,
			events: [][]nl.Message{{linkMessage(t, unix.RTM_NEWLINK, carrierUp)}}},
		{name: "other links and dormant states are ignored", initial: down, wantErr: context.DeadlineExceeded,
			events: [][]nl.Message{{linkMessage(t, unix.RTM_NEWLINK, other)}, {linkMessage(t, unix.RTM_NEWLINK, dormant)}}},
		{name: "lost notifications: state read again", initial: down, later: &carrierUp,
			events: [][]nl.Message{nil}},
		{name: "link deleted", initial: down, wantErr: errLinkDeleted,
			events: [][]nl.Message{{linkMessage(t, unix.RTM_DELLINK, down)}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k := newKernel(t, tt.initial)
			h := k.handle()
			var reqsAtSubscribe = -1
			s := withEvents(h, func() { reqsAtSubscribe = len(k.requests()) })
			k.on[unix.RTM_GETLINK] = func(req nl.Message) ([]nl.Message, error) {
				k.on[unix.RTM_GETLINK] = nil
				// After the first read, the events happen.
				for _, msgs := range tt.events {
					if msgs == nil {
						if tt.later != nil {
							k.setLink(*tt.later)
						}
						s.ch <- event{err: &nl.Error{Op: "receive notifications", Err: unix.ENOBUFS}}
						continue
					}
					s.send(t, msgs...)
				}
				return []nl.Message{linkMessage(t, unix.RTM_NEWLINK, tt.initial)}, nil
			}
			ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
			defer cancel()
			start := time.Now()
			err := h.WaitCarrier(ctx, 2)
			if !errors.Is(err, tt.wantErr) || (err == nil) != (tt.wantErr == nil) {
				t.Fatalf("WaitCarrier() = %v, want %v", err, tt.wantErr)
			}
			if reqsAtSubscribe != 0 {
				t.Errorf("WaitCarrier sent %d requests before subscribing, want 0 (subscribe, then read)", reqsAtSubscribe)
			}
			if tt.wantErr == context.DeadlineExceeded {
				if d := time.Since(start); d < 250*time.Millisecond {
					t.Errorf("WaitCarrier gave up after %v, before its deadline", d)
				}
			}
			select {
			case <-s.closed:
			default:
				t.Error("WaitCarrier did not close its subscription")
			}
		})
	}
}

func TestWaitCarrierCancel(t *testing.T) {
	down := d0
	k := newKernel(t, down)
	h := k.handle()
	withEvents(h, nil)
	ctx, cancel := context.WithCancel(t.Context())
	time.AfterFunc(50*time.Millisecond, cancel)
	start := time.Now()
	err := h.WaitCarrier(ctx, 2)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("WaitCarrier() = %v, want context.Canceled", err)
	}
	// A context without a deadline is noticed within carrierPoll.
	if d := time.Since(start); d > carrierPoll+2*time.Second {
		t.Errorf("WaitCarrier returned %v after cancel", d)
	}
}
