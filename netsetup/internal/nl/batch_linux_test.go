//go:build linux

package nl_test

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/wgboot/wgboot/netsetup/internal/nl"
	"github.com/wgboot/wgboot/netsetup/internal/nltest"
)

// delLink is an RTM_DELLINK request for index, as a batch would carry it.
func delLink(index byte) nl.Message {
	return nl.Message{Header: nl.Header{Type: unix.RTM_DELLINK}, Data: ifinfomsg(int32(index))}
}

// delLinks returns n requests for indexes 1 to n.
func delLinks(n int) []nl.Message {
	reqs := make([]nl.Message, n)
	for i := range reqs {
		reqs[i] = delLink(byte(i + 1))
	}
	return reqs
}

// index returns the link index of a delLink request.
func index(req nl.Message) int {
	return int(req.Data[4])
}

// TestConn_ExecuteBatch_golden pins the bytes of one write: the requests
// back to back, each with NLM_F_REQUEST|NLM_F_ACK added to its flags and
// its own sequence number, in order.
func TestConn_ExecuteBatch_golden(t *testing.T) {
	s := nltest.NewSocket(func(req nl.Message) ([]nl.Message, error) { return nltest.Ack(req), nil })
	c := nl.NewConn(s)
	defer c.Close()
	reqs := delLinks(3)
	reqs[2].Flags = unix.NLM_F_NONREC
	if errs := c.ExecuteBatch(reqs, "RTM_DELLINK"); errs != nil {
		t.Fatalf("ExecuteBatch() = %v", errs)
	}
	want := unhex(t, `
		20000000 1100 0500 01000000 00000000   # len 32, RTM_DELLINK, REQUEST|ACK, seq 1, pid 0
		00000000 01000000 00000000 00000000   # ifinfomsg index 1
		20000000 1100 0500 02000000 00000000   # seq 2
		00000000 02000000 00000000 00000000   # index 2
		20000000 1100 0501 03000000 00000000   # REQUEST|ACK|NONREC, seq 3
		00000000 03000000 00000000 00000000   # index 3
	`)
	if w := s.Writes(); len(w) != 1 || !bytes.Equal(w[0], want) {
		t.Errorf("writes:\n%x\nwant one write:\n%s", w, hex.Dump(want))
	}
}

// unhex decodes an annotated hex table: '#' starts a comment.
func unhex(t *testing.T, s string) []byte {
	t.Helper()
	var sb strings.Builder
	for line := range strings.SplitSeq(s, "\n") {
		line, _, _ = strings.Cut(line, "#")
		sb.WriteString(strings.Join(strings.Fields(line), ""))
	}
	b, err := hex.DecodeString(sb.String())
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestConn_ExecuteBatch_failureInTheMiddle(t *testing.T) {
	s := nltest.NewSocket(func(req nl.Message) ([]nl.Message, error) {
		if index(req) == 3 {
			return nltest.Errno(req, unix.ENODEV, "no such link"), nil
		}
		return nltest.Ack(req), nil
	})
	c := nl.NewConn(s)
	defer c.Close()
	errs := c.ExecuteBatch(delLinks(5), "RTM_DELLINK")
	if len(errs) != 5 {
		t.Fatalf("ExecuteBatch() = %v, want 5 outcomes", errs)
	}
	for i, err := range errs {
		if i != 2 && err != nil {
			t.Errorf("request %d: %v, want acknowledged", i, err)
		}
	}
	var e *nl.Error
	if !errors.Is(errs[2], unix.ENODEV) || !errors.As(errs[2], &e) || e.Message != "no such link" || e.Seq != 3 || e.Op != "RTM_DELLINK" {
		t.Errorf("request 2: %#v, want ENODEV with the extended ACK, seq 3", errs[2])
	}
	// The requests after the failure were sent in the same write and
	// handled, as the kernel does.
	if w := s.Writes(); len(w) != 1 {
		t.Errorf("%d writes, want 1", len(w))
	}
}

// TestConn_ExecuteBatch_outOfOrder has acknowledgements come in any order,
// with stale ones and duplicates among them: each is matched to its
// request by sequence number.
func TestConn_ExecuteBatch_outOfOrder(t *testing.T) {
	var held []nl.Message
	c := nltest.Dial(func(req nl.Message) ([]nl.Message, error) {
		var ack []nl.Message
		switch index(req) % 3 {
		case 0:
			ack = nltest.Errno(req, unix.EPERM, "")
		default:
			ack = nltest.Ack(req)
		}
		if index(req)%2 == 1 {
			// Held back, answered after the next request's.
			held = append(held, ack...)
			return nil, nil
		}
		stale := nltest.Ack(req)
		stale[0].Seq = req.Seq + 1000
		out := append(ack, held...)
		out = append(out, stale...)
		out = append(out, ack...) // a duplicate
		held = nil
		return out, nil
	})
	defer c.Close()
	reqs := delLinks(6)
	errs := c.ExecuteBatch(reqs, "RTM_DELLINK")
	for i, err := range errs {
		wantFail := index(reqs[i])%3 == 0
		if gotFail := errors.Is(err, unix.EPERM); gotFail != wantFail || (!wantFail && err != nil) {
			t.Errorf("request %d (index %d): %v, want EPERM %v", i, index(reqs[i]), err, wantFail)
		}
	}
}

// TestConn_ExecuteBatch_missingAck: one acknowledgement never comes. The
// batch ends at the deadline; the request without an acknowledgement is
// reported as such, the later requests as not sent.
func TestConn_ExecuteBatch_missingAck(t *testing.T) {
	s := nltest.NewSocket(func(req nl.Message) ([]nl.Message, error) {
		if index(req) == 2 {
			return nil, nil
		}
		return nltest.Ack(req), nil
	})
	c := nl.NewConn(s)
	defer c.Close()
	reqs := delLinks(200) // two writes
	c.SetDeadline(time.Now().Add(50 * time.Millisecond))
	errs := c.ExecuteBatch(reqs, "RTM_DELLINK")
	if len(errs) != len(reqs) {
		t.Fatalf("ExecuteBatch() = %d outcomes, want %d", len(errs), len(reqs))
	}
	for i, err := range errs {
		switch {
		case i == 1:
			if !errors.Is(err, nl.ErrNoAck) || !errors.Is(err, os.ErrDeadlineExceeded) {
				t.Errorf("request %d: %v, want no acknowledgement by the deadline", i, err)
			}
		case i < 128:
			if err != nil {
				t.Errorf("request %d: %v, want acknowledged", i, err)
			}
		default:
			if !errors.Is(err, nl.ErrNotSent) || !errors.Is(err, os.ErrDeadlineExceeded) {
				t.Errorf("request %d: %v, want not sent", i, err)
			}
		}
	}
	if w := s.Writes(); len(w) != 1 {
		t.Errorf("%d writes, want 1: nothing after the deadline", len(w))
	}
}

// TestConn_ExecuteBatch_enobufs models a receive buffer that holds 40
// acknowledgements: the kernel drops the rest and the socket reports
// ENOBUFS. Those requests are reported as unacknowledged, the next writes
// are halved, and every request is accounted for.
func TestConn_ExecuteBatch_enobufs(t *testing.T) {
	s := nltest.NewSocket(func(req nl.Message) ([]nl.Message, error) { return nltest.Ack(req), nil })
	s.SetQueueLimit(40)
	c := nl.NewConn(s)
	defer c.Close()
	start := time.Now()
	errs := c.ExecuteBatch(delLinks(200), "RTM_DELLINK")
	if d := time.Since(start); d > time.Second {
		t.Errorf("ExecuteBatch() took %v: it waited for dropped acknowledgements", d)
	}
	var acked, lost int
	for i, err := range errs {
		switch {
		case err == nil:
			acked++
		case errors.Is(err, nl.ErrNoAck) && errors.Is(err, unix.ENOBUFS):
			lost++
		default:
			t.Errorf("request %d: %v, want acknowledged or lost to ENOBUFS", i, err)
		}
	}
	// Writes of 128 (40 acknowledged), 64 (40) and 8 requests.
	if acked != 88 || lost != 112 {
		t.Errorf("%d acknowledged, %d lost; want 88 and 112", acked, lost)
	}
	var sizes []int
	for _, w := range s.Writes() {
		msgs, err := nl.ParseMessages(w)
		if err != nil {
			t.Fatal(err)
		}
		sizes = append(sizes, len(msgs))
	}
	if fmt.Sprint(sizes) != "[128 64 8]" {
		t.Errorf("requests per write %v, want [128 64 8]", sizes)
	}
	// The halved size stays; the Conn works on.
	s.SetQueueLimit(0)
	if errs := c.ExecuteBatch(delLinks(100), "RTM_DELLINK"); errs != nil {
		t.Errorf("next ExecuteBatch() = %v", errs)
	}
	if n := len(s.Writes()); n != 3+4 {
		t.Errorf("next batch of 100 took %d writes, want 4 of at most 32", n-3)
	}
}

// TestConn_ExecuteBatch_limits: 128 requests or 32 KiB per write, and a
// request larger than that goes alone.
func TestConn_ExecuteBatch_limits(t *testing.T) {
	tests := []struct {
		name      string
		n, size   int
		wantSizes string
	}{
		{"small requests", 300, 16, "[128 128 44]"},
		{"1 KiB requests", 40, 1024 - 16, "[32 8]"},
		{"one huge request", 3, 40 << 10, "[1 1 1]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := nltest.NewSocket(func(req nl.Message) ([]nl.Message, error) { return nltest.Ack(req), nil })
			c := nl.NewConn(s)
			defer c.Close()
			reqs := make([]nl.Message, tt.n)
			for i := range reqs {
				reqs[i] = nl.Message{Header: nl.Header{Type: unix.RTM_DELLINK}, Data: make([]byte, tt.size)}
			}
			if errs := c.ExecuteBatch(reqs, "RTM_DELLINK"); errs != nil {
				t.Fatal(errs)
			}
			var sizes []int
			var seq uint32
			for _, w := range s.Writes() {
				if len(w) > 32<<10 && tt.size < 32<<10 {
					t.Errorf("write of %d bytes", len(w))
				}
				msgs, err := nl.ParseMessages(w)
				if err != nil {
					t.Fatal(err)
				}
				for _, m := range msgs {
					seq++
					if m.Seq != seq {
						t.Fatalf("sequence number %d, want %d", m.Seq, seq)
					}
				}
				sizes = append(sizes, len(msgs))
			}
			if got := fmt.Sprint(sizes); got != tt.wantSizes {
				t.Errorf("requests per write %s, want %s", got, tt.wantSizes)
			}
		})
	}
}

func TestConn_ExecuteBatch_sendError(t *testing.T) {
	errFake := errors.New("fake send failure")
	c := nltest.Dial(func(nl.Message) ([]nl.Message, error) { return nil, errFake })
	defer c.Close()
	errs := c.ExecuteBatch(delLinks(130), "RTM_DELLINK")
	for i, err := range errs {
		if !errors.Is(err, nl.ErrNotSent) || !errors.Is(err, errFake) {
			t.Errorf("request %d: %v, want not sent: %v", i, err, errFake)
		}
	}
	if len(errs) != 130 {
		t.Errorf("%d outcomes, want 130", len(errs))
	}
}

func TestConn_ExecuteBatch_closed(t *testing.T) {
	c := nltest.Dial(func(req nl.Message) ([]nl.Message, error) { return nltest.Ack(req), nil })
	c.Close()
	errs := c.ExecuteBatch(delLinks(2), "RTM_DELLINK")
	if len(errs) != 2 || !errors.Is(errs[0], nl.ErrNotSent) || !errors.Is(errs[1], nl.ErrNotSent) {
		t.Errorf("ExecuteBatch() on a closed Conn = %v, want 2 not sent", errs)
	}
	if errs := c.ExecuteBatch(nil, "RTM_DELLINK"); errs != nil {
		t.Errorf("ExecuteBatch(nil) = %v", errs)
	}
}
