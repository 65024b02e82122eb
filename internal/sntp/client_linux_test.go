package sntp

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/wgboot/wgboot/internal/sntp/sntptest"
)

// fakeServer answers NTP requests on a loopback UDP port with
// serverTime, holding each for hold; answer, if not nil, may rewrite or
// drop (nil) each reply.
func fakeServer(t *testing.T, serverTime time.Time, hold time.Duration, answer func(req, rep []byte) [][]byte) netip.AddrPort {
	t.Helper()
	pc, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	start := time.Now()
	s := &sntptest.Server{Now: func() time.Time { return serverTime.Add(time.Since(start)) }, Hold: hold, Rewrite: answer}
	go s.Serve(pc)
	return netip.MustParseAddrPort(pc.LocalAddr().String())
}

var base = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// TestQuery: the time is the server's, the time it held the request is
// not counted as network delay, and a reply that does not echo the nonce
// (a forgery from off the path) is ignored.
func TestQuery(t *testing.T) {
	serverTime := time.Date(2027, 3, 1, 12, 0, 0, 0, time.UTC)
	forged := 0
	srv := fakeServer(t, serverTime, 50*time.Millisecond, func(req, rep []byte) [][]byte {
		bad := append([]byte(nil), rep...)
		bad[24] ^= 0xff
		forged++
		return [][]byte{bad, rep}
	})
	r, err := Query(context.Background(), srv, base, time.Second)
	if err != nil {
		t.Fatalf("Query() = %v", err)
	}
	if forged != 1 {
		t.Errorf("server asked %d times", forged)
	}
	want := serverTime.Add(50 * time.Millisecond)
	if d := r.Time.Sub(want); d < 0 || d > 20*time.Millisecond {
		t.Errorf("Time = %v, want %v plus half the loopback round trip", r.Time, want)
	}
	if r.Delay > 20*time.Millisecond || r.Stratum != 1 || r.Server != srv {
		t.Errorf("Result = %+v; want the delay without the server's 50ms hold", r)
	}
	if d := r.Now().Sub(want); d < 0 || d > 100*time.Millisecond {
		t.Errorf("Now() = %v, want about %v", r.Now(), want)
	}
}

func TestQueryFailures(t *testing.T) {
	// A port nobody listens on: the kernel's ICMP port unreachable ends
	// the wait at once.
	pc, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := netip.MustParseAddrPort(pc.LocalAddr().String())
	pc.Close()
	start := time.Now()
	if _, err := Query(context.Background(), closed, base, 5*time.Second); !errors.Is(err, unix.ECONNREFUSED) {
		t.Errorf("Query(closed port) = %v, want ECONNREFUSED", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("Query(closed port) took %v", d)
	}

	silent := fakeServer(t, base, 0, func(req, rep []byte) [][]byte { return nil })
	start = time.Now()
	if _, err := Query(context.Background(), silent, base, 200*time.Millisecond); err == nil {
		t.Error("Query(silent) succeeded")
	}
	if d := time.Since(start); d < 200*time.Millisecond || d > time.Second {
		t.Errorf("Query(silent, 200ms) took %v", d)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if _, err := Query(ctx, silent, base, 10*time.Second); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Query(silent) past ctx's deadline = %v, want context.DeadlineExceeded", err)
	}

	kod := fakeServer(t, base, 0, func(req, rep []byte) [][]byte {
		rep[1] = 0
		copy(rep[12:], "DENY")
		return [][]byte{rep}
	})
	if _, err := Query(context.Background(), kod, base, time.Second); !errors.Is(err, ErrKissOfDeath) {
		t.Errorf("Query(kiss-o'-death) = %v", err)
	}
}

// TestFirst: servers that fail make way for the next; one that sent a
// kiss-o'-death is not asked again; every failure is reported.
func TestFirst(t *testing.T) {
	kodAsked := 0
	kod := fakeServer(t, base, 0, func(req, rep []byte) [][]byte {
		kodAsked++
		rep[1] = 0
		copy(rep[12:], "RATE")
		return [][]byte{rep}
	})
	silent := fakeServer(t, base, 0, func(req, rep []byte) [][]byte { return nil })
	good := fakeServer(t, time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC), 0, nil)
	r, err := First(context.Background(), []netip.AddrPort{kod, silent, good}, base, 100*time.Millisecond)
	if err != nil || r.Server != good {
		t.Fatalf("First() = %+v, %v; want the third server's answer", r, err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 1500*time.Millisecond)
	defer cancel()
	kodAsked = 0
	_, err = First(ctx, []netip.AddrPort{kod, silent}, base, 100*time.Millisecond)
	if !errors.Is(err, ErrKissOfDeath) || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("First(kod, silent) = %v; want both failures and the deadline", err)
	}
	if kodAsked != 1 {
		t.Errorf("the server that sent a kiss-o'-death was asked %d times", kodAsked)
	}
}
