package sntp

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// Port is the NTP port.
const Port = 123

// Result is the time a server gave.
type Result struct {
	Server  netip.AddrPort
	Stratum uint8
	// Time is the server's time when the reply arrived, the network
	// delay taken out: its transmit time plus half the round trip spent
	// outside the server.
	Time time.Time
	// At is the local time.Now() when the reply arrived, with its
	// monotonic reading: [Result.Now] counts from it.
	At time.Time
	// Delay is the round trip, less the time the server held the
	// request.
	Delay time.Duration
}

// Now is the server's time now, by the monotonic clock since the reply
// came: what to set the clock to.
func (r Result) Now() time.Time {
	return r.Time.Add(time.Since(r.At))
}

// Query asks server for the time, once, and waits for its answer until
// timeout or ctx's end. base is a time near the true one, such as the
// build time, which places the server's timestamp in its 136-year era. A
// server that is down usually fails at once: the kernel reports its ICMP
// port unreachable on the connected socket.
func Query(ctx context.Context, server netip.AddrPort, base time.Time, timeout time.Duration) (Result, error) {
	res := Result{Server: server}
	deadline := time.Now().Add(timeout)
	ctxDeadline, ok := ctx.Deadline()
	if ok && ctxDeadline.Before(deadline) {
		deadline = ctxDeadline
	}
	var nonce [8]byte
	if _, err := unix.Getrandom(nonce[:], 0); err != nil {
		return res, os.NewSyscallError("getrandom", err)
	}
	f, err := dial(ctx, server, deadline)
	if err != nil {
		return res, err
	}
	defer f.Close()
	sent := time.Now()
	if _, err := f.Write(request(nonce)); err != nil {
		return res, sysErr("send", err)
	}
	buf := make([]byte, 512)
	for {
		n, err := f.Read(buf)
		got := time.Now()
		if err != nil {
			if errors.Is(err, os.ErrDeadlineExceeded) {
				if ctx.Err() != nil {
					return res, ctx.Err()
				}
				if deadline.Equal(ctxDeadline) {
					// ctx's timer may not have fired yet.
					return res, context.DeadlineExceeded
				}
				return res, fmt.Errorf("no answer within %v", timeout)
			}
			return res, sysErr("receive", err)
		}
		r, err := parseReply(buf[:n], nonce, base)
		if errors.Is(err, ErrMalformed) {
			continue // not the answer (a stray or forged datagram): wait on
		}
		if err != nil {
			return res, err
		}
		// RFC 4330 §5: delay = (T4 - T1) - (T3 - T2); the local span is
		// on the monotonic clock.
		held := r.transmit.Sub(r.receive)
		delay := max(got.Sub(sent)-max(held, 0), 0)
		res.Stratum, res.Delay, res.At = r.stratum, delay, got
		res.Time = r.transmit.Add(delay / 2)
		return res, nil
	}
}

// conn is a socket as an os.File, so that the runtime's poller does the
// waiting, with the function that stops its context watch.
type conn struct {
	*os.File
	stop func() bool
}

func (c conn) Close() error {
	c.stop()
	return c.File.Close()
}

// dial opens a non-blocking UDP socket connected to server, with deadline
// set and ctx's end forcing it.
func dial(ctx context.Context, server netip.AddrPort, deadline time.Time) (conn, error) {
	a := server.Addr().Unmap()
	family := unix.AF_INET6
	var sa unix.Sockaddr
	if a.Is4() {
		family = unix.AF_INET
		sa = &unix.SockaddrInet4{Port: int(server.Port()), Addr: a.As4()}
	} else {
		if a.Zone() != "" {
			return conn{}, fmt.Errorf("server %s: a zoned address is not supported", server)
		}
		sa = &unix.SockaddrInet6{Port: int(server.Port()), Addr: a.As16()}
	}
	fd, err := unix.Socket(family, unix.SOCK_DGRAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return conn{}, os.NewSyscallError("socket", err)
	}
	// A UDP connect only records the peer (or fails at once: no route).
	if err := unix.Connect(fd, sa); err != nil {
		unix.Close(fd)
		return conn{}, os.NewSyscallError("connect", err)
	}
	f := os.NewFile(uintptr(fd), "ntp")
	if err := f.SetDeadline(deadline); err != nil {
		f.Close()
		return conn{}, err
	}
	// Wake the wait at once when ctx ends before the deadline. The
	// function may run after Close: SetDeadline on a closed file only
	// fails.
	return conn{f, context.AfterFunc(ctx, func() { f.SetDeadline(time.Unix(1, 0)) })}, nil
}

// sysErr is a socket call's error as "op: errno".
func sysErr(op string, err error) error {
	var errno unix.Errno
	if errors.As(err, &errno) {
		return os.NewSyscallError(op, errno)
	}
	return err
}

// First asks servers in turn until one gives the time: every server once a
// round, each try waiting timeout, doubled every round (1s, 2s, 4s for a
// timeout of 1s), with a pause between rounds, until ctx ends. A server
// that sends a kiss-o'-death is not asked again. It returns the first
// answer, or every server's last failure.
func First(ctx context.Context, servers []netip.AddrPort, base time.Time, timeout time.Duration) (Result, error) {
	last := make([]error, len(servers))
	pause := 250 * time.Millisecond
	for round := 0; ; round++ {
		asked := false
		for i, s := range servers {
			if errors.Is(last[i], ErrKissOfDeath) {
				continue
			}
			if ctx.Err() != nil {
				break
			}
			asked = true
			r, err := Query(ctx, s, base, timeout<<min(round, 4))
			if err == nil {
				return r, nil
			}
			last[i] = err
		}
		if !asked || ctx.Err() != nil {
			break
		}
		t := time.NewTimer(pause << min(round, 4))
		select {
		case <-ctx.Done():
		case <-t.C:
		}
		t.Stop()
	}
	errs := make([]error, 0, len(servers)+1)
	for i, s := range servers {
		if last[i] != nil {
			errs = append(errs, fmt.Errorf("%s: %w", s, last[i]))
		}
	}
	if ctx.Err() != nil {
		errs = append(errs, ctx.Err())
	}
	if len(errs) == 0 {
		return Result{}, errors.New("no NTP server")
	}
	return Result{}, errors.Join(errs...)
}
