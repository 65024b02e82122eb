package dnsclient

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/net/dns/dnsmessage"
	"golang.org/x/sys/unix"
)

// Defaults of Client's tuning.
const (
	// DefaultTimeout is how long the first round waits for each server:
	// a recursive server on the LAN answers a cached name in
	// milliseconds and a cold one in well under a second.
	DefaultTimeout = time.Second
	// DefaultRounds is how many times each server is asked. The wait
	// doubles every round (1s, 2s, 4s), so a silent server costs 7s,
	// and the caller's context bounds it all anyway.
	DefaultRounds = 3
	// backoff is the pause before the second round, doubling after: it
	// keeps a server that refuses at once from being asked in a loop.
	backoff = 250 * time.Millisecond
)

// Client asks a list of recursive DNS servers for a host's addresses.
// The zero value asks nobody; set Servers.
type Client struct {
	// Servers are asked in order, each until one answers. An address
	// without a port is asked on port 53. IPv6 link-local addresses take
	// their interface as the zone (fe80::1%eth0).
	Servers []netip.AddrPort
	// Timeout is the first round's wait for each server; 0 means
	// DefaultTimeout. It doubles each round.
	Timeout time.Duration
	// Rounds is how many times the list is tried; 0 means DefaultRounds.
	Rounds int
	// Logf, if not nil, receives one line per failed try, for debugging.
	Logf func(format string, args ...any)
}

// Answer is a successful lookup.
type Answer struct {
	Host string // the name asked for, as given
	// CNAMEs is the chain from Host to the name that has the addresses,
	// if there is one.
	CNAMEs []string
	// Addrs are the name's addresses: A records first, then AAAA, each
	// in the server's order.
	Addrs []netip.Addr
	// TTL is the smallest time to live of the records used.
	TTL    time.Duration
	Server netip.AddrPort // the server that answered
	TCP    bool           // whether an answer came over TCP (it was truncated over UDP)
}

// Error is a failed lookup: the host, and what the servers said.
type Error struct {
	Host string
	// Err is the failure that decided: ErrNotFound or ErrNoAddress (an
	// answer, from Server), or else the context's error or the last
	// server's failure.
	Err error
	// Server is the server whose answer was ErrNotFound or ErrNoAddress.
	Server netip.AddrPort
	// Servers holds each server's last failure, in the order asked,
	// when no server answered.
	Servers []ServerError
}

// ServerError is what went wrong with one server.
type ServerError struct {
	Server netip.AddrPort
	Err    error
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.Host)
	b.WriteString(": ")
	switch {
	case e.Server.IsValid():
		b.WriteString(e.Err.Error())
		b.WriteString(" from ")
		b.WriteString(e.Server.String())
	case len(e.Servers) == 1 && e.Servers[0].Err == e.Err:
		b.WriteString(e.Servers[0].Server.String())
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	case len(e.Servers) > 0:
		b.WriteString(e.Err.Error())
		b.WriteString(" (")
		for i, s := range e.Servers {
			if i > 0 {
				b.WriteString("; ")
			}
			b.WriteString(s.Server.String())
			b.WriteString(": ")
			b.WriteString(s.Err.Error())
		}
		b.WriteString(")")
	default:
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// types are the record types asked for, in the order Answer lists them.
var types = [...]dnsmessage.Type{dnsmessage.TypeA, dnsmessage.TypeAAAA}

// Lookup asks the servers for host's A and AAAA records, both at once on
// one socket. Each server is asked in turn until one answers; all of them
// up to Rounds times, with a doubling wait and a backoff between rounds,
// never past ctx's deadline. A server that fails (SERVFAIL, REFUSED, no
// answer, unreachable) makes way for the next one; NXDOMAIN ends the
// lookup. The lookup ends with the first server whose answers give an
// address, even when the other record type failed there.
func (c *Client) Lookup(ctx context.Context, host string) (*Answer, error) {
	fail := &Error{Host: host}
	if err := CheckHost(host); err != nil {
		fail.Err = err
		return nil, fail
	}
	if len(c.Servers) == 0 {
		fail.Err = ErrNoServers
		return nil, fail
	}
	name, err := dnsmessage.NewName(fqdn(host))
	if err != nil {
		fail.Err = fmt.Errorf("%w: %v", ErrBadHost, err)
		return nil, fail
	}
	timeout, rounds := c.Timeout, c.Rounds
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	if rounds <= 0 {
		rounds = DefaultRounds
	}
	var (
		done    [len(types)]*reply // per type, once a server gave its final word
		answers = &Answer{Host: host}
	)
	for round := range rounds {
		if round > 0 && !sleep(ctx, backoff<<(round-1)) {
			break
		}
		for _, s := range c.Servers {
			s = withPort(s)
			if ctx.Err() != nil {
				break
			}
			var pending []dnsmessage.Type
			for i, t := range types {
				if done[i] == nil {
					pending = append(pending, t)
				}
			}
			got, tcp, err := c.exchange(ctx, s, name, pending, timeout<<round)
			for i, t := range types {
				r, ok := got[t]
				if !ok {
					continue
				}
				switch r.rcode {
				case dnsmessage.RCodeSuccess:
					done[i] = r
				case dnsmessage.RCodeNameError:
					fail.Err = ErrNotFound
					if len(r.chain) > 0 {
						fail.Err = fmt.Errorf("%w: %s is a CNAME for %s", ErrNotFound, host, strings.Join(r.chain, " → "))
					}
					fail.Server, fail.Servers = s, nil
					return nil, fail
				default:
					err = errors.Join(err, fmt.Errorf("%v: %w", t, rcodeErr(r.rcode)))
				}
			}
			if err != nil {
				fail.Servers = setServerErr(fail.Servers, s, err)
				c.logf("dns: %s at %s: %v", host, s, err)
			}
			if a, ok := collect(answers, done[:], s); ok || allDone(done[:]) {
				a.TCP = tcp
				if len(a.Addrs) == 0 {
					fail.Err = ErrNoAddress
					fail.Server, fail.Servers = s, nil
					return nil, fail
				}
				return a, nil
			}
		}
	}
	switch {
	case ctx.Err() != nil:
		fail.Err = ctx.Err()
	case len(fail.Servers) > 0:
		fail.Err = fail.Servers[len(fail.Servers)-1].Err
	default:
		fail.Err = ErrNoAnswer
	}
	return nil, fail
}

// collect puts what the finished types say into a, and reports whether
// it has an address.
func collect(a *Answer, done []*reply, server netip.AddrPort) (*Answer, bool) {
	a.Addrs, a.CNAMEs, a.Server = a.Addrs[:0], nil, server
	ttl := ^uint32(0)
	for _, r := range done {
		if r == nil {
			continue
		}
		a.Addrs = append(a.Addrs, r.addrs...)
		if len(r.chain) > len(a.CNAMEs) {
			a.CNAMEs = r.chain
		}
		if len(r.addrs) > 0 || len(r.chain) > 0 {
			ttl = min(ttl, r.ttl)
		}
	}
	if ttl != ^uint32(0) {
		a.TTL = time.Duration(ttl) * time.Second
	}
	return a, len(a.Addrs) > 0
}

func allDone(done []*reply) bool {
	return !slices.Contains(done, nil)
}

// setServerErr records err as server's last failure.
func setServerErr(list []ServerError, server netip.AddrPort, err error) []ServerError {
	for i := range list {
		if list[i].Server == server {
			list[i].Err = err
			return list
		}
	}
	return append(list, ServerError{server, err})
}

func (c *Client) logf(format string, args ...any) {
	if c.Logf != nil {
		c.Logf(format, args...)
	}
}

// withPort is s, on port 53 if it has none.
func withPort(s netip.AddrPort) netip.AddrPort {
	if s.Port() == 0 {
		return netip.AddrPortFrom(s.Addr(), 53)
	}
	return s
}

// sleep waits d or until ctx is done, and reports whether ctx is still
// live.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// exchange asks server for name's records of the given types over UDP,
// all queries on one connected socket, and waits at most timeout (and not
// past ctx) for their answers; truncated ones are asked again over TCP. It
// returns the answers it got, by type, with the failure that kept others
// away. A connected UDP socket takes datagrams only from the server's
// address and port, and the kernel reports its ICMP port unreachable as
// ECONNREFUSED, so a server that is down fails at once; its port is
// picked at random by the kernel, which with the random IDs is RFC 5452's
// defence against forged answers.
func (c *Client) exchange(ctx context.Context, server netip.AddrPort, name dnsmessage.Name, pending []dnsmessage.Type, timeout time.Duration) (map[dnsmessage.Type]*reply, bool, error) {
	deadline := time.Now().Add(timeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	qs, err := newQueries(name, pending)
	if err != nil {
		return nil, false, err
	}
	sa, err := sockaddr(server)
	if err != nil {
		return nil, false, err
	}
	f, err := dial(ctx, sa, unix.SOCK_DGRAM, deadline)
	if err != nil {
		return nil, false, err
	}
	defer f.Close()
	for _, q := range qs {
		if _, err := f.Write(q.msg); err != nil {
			return nil, false, sysErr("send", err)
		}
	}
	rc, err := f.SyscallConn()
	if err != nil {
		return nil, false, err
	}
	got := make(map[dnsmessage.Type]*reply, len(qs))
	var truncated []*query
	var malformed error
	buf := make([]byte, 1500)
	for len(got)+len(truncated) < len(qs) {
		var n int
		var from unix.Sockaddr
		var rerr error
		err := rc.Read(func(fd uintptr) bool {
			n, from, rerr = unix.Recvfrom(int(fd), buf, 0)
			return rerr != unix.EAGAIN
		})
		if err == nil {
			err = rerr
		}
		if err != nil {
			if malformed != nil && errors.Is(err, os.ErrDeadlineExceeded) && ctx.Err() == nil {
				return got, false, malformed
			}
			return got, false, timeoutErr(ctx, err, timeout)
		}
		if !sameAddr(from, sa) {
			continue // the kernel filters a connected socket; this is a second check
		}
		for i := range qs {
			q := &qs[i]
			if got[q.q.Type] != nil || slices.Contains(truncated, q) {
				continue
			}
			r, err := parseReply(buf[:n], q)
			if errors.Is(err, errMismatch) {
				continue
			}
			if err != nil {
				// Our ID and question, but unusable: perhaps forged;
				// the real answer may still come.
				malformed = fmt.Errorf("%v: %w", q.q.Type, err)
				break
			}
			if r.truncated {
				truncated = append(truncated, q)
			} else {
				got[q.q.Type] = &r
			}
			break
		}
	}
	var errs []error
	for _, q := range truncated {
		r, err := exchangeTCP(ctx, sa, q, deadline)
		if err != nil {
			errs = append(errs, fmt.Errorf("%v over TCP: %w", q.q.Type, err))
			continue
		}
		got[q.q.Type] = r
	}
	return got, len(truncated) > 0, errors.Join(errs...)
}

// newQueries builds one query per type, each with its own random ID
// (RFC 5452 §4.3), from getrandom(2).
func newQueries(name dnsmessage.Name, typs []dnsmessage.Type) ([]query, error) {
	var ids [2 * len(types)]byte
	for {
		if _, err := unix.Getrandom(ids[:], 0); err != nil {
			return nil, os.NewSyscallError("getrandom", err)
		}
		// Two queries on one socket need two IDs to tell the answers
		// apart; with 1 in 65536 they are equal: draw again.
		if binary.BigEndian.Uint16(ids[0:]) != binary.BigEndian.Uint16(ids[2:]) {
			break
		}
	}
	qs := make([]query, len(typs))
	for i, t := range typs {
		var err error
		if qs[i], err = newQuery(name, t, binary.BigEndian.Uint16(ids[2*i:])); err != nil {
			return nil, err
		}
	}
	return qs, nil
}

// exchangeTCP asks q again over TCP (RFC 1035 §4.2.2: each message after
// a two-byte length; RFC 7766), for an answer that was truncated over UDP.
func exchangeTCP(ctx context.Context, sa unix.Sockaddr, q *query, deadline time.Time) (*reply, error) {
	f, err := dial(ctx, sa, unix.SOCK_STREAM, deadline)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	msg := binary.BigEndian.AppendUint16(make([]byte, 0, 2+len(q.msg)), uint16(len(q.msg)))
	if _, err := f.Write(append(msg, q.msg...)); err != nil {
		return nil, sysErr("send", err)
	}
	// io.ReadFull of the *os.File, not of the conn: a conn in an interface
	// would keep the wrappers of every method it promotes (/init 1.4 KB xz on
	// amd64, 1.0 KB on arm64; docs/size.md).
	var n [2]byte
	if _, err := io.ReadFull(f.File, n[:]); err != nil {
		return nil, timeoutErr(ctx, err, time.Until(deadline))
	}
	buf := make([]byte, binary.BigEndian.Uint16(n[:]))
	if _, err := io.ReadFull(f.File, buf); err != nil {
		return nil, timeoutErr(ctx, err, time.Until(deadline))
	}
	r, err := parseReply(buf, q)
	switch {
	case errors.Is(err, errMismatch):
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	case err != nil:
		return nil, err
	case r.truncated:
		return nil, fmt.Errorf("%w: truncated over TCP", ErrMalformed)
	}
	return &r, nil
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

// dial opens a non-blocking socket of type typ connected to sa, with
// deadline set and ctx's cancellation forcing it.
func dial(ctx context.Context, sa unix.Sockaddr, typ int, deadline time.Time) (conn, error) {
	family := unix.AF_INET
	if _, ok := sa.(*unix.SockaddrInet6); ok {
		family = unix.AF_INET6
	}
	fd, err := unix.Socket(family, typ|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return conn{}, os.NewSyscallError("socket", err)
	}
	f := os.NewFile(uintptr(fd), "dns")
	if err := f.SetDeadline(deadline); err != nil {
		f.Close()
		return conn{}, err
	}
	// Wake every wait at once when ctx ends before the deadline. The
	// function runs on a goroutine of its own, possibly after Close:
	// SetDeadline on a closed file only fails.
	c := conn{f, context.AfterFunc(ctx, func() { f.SetDeadline(time.Unix(1, 0)) })}
	rc, err := f.SyscallConn()
	if err == nil {
		err = connect(rc, sa)
	}
	if err != nil {
		c.Close()
		return conn{}, timeoutErr(ctx, err, time.Until(deadline))
	}
	return c, nil
}

// connect connects the socket to sa. Over UDP that is immediate (or fails
// at once: no route); over TCP it waits, through the poller, for the
// handshake, whose outcome SO_ERROR tells.
func connect(rc syscall.RawConn, sa unix.Sockaddr) error {
	started := false
	var cerr error
	err := rc.Write(func(fd uintptr) bool {
		if !started {
			started = true
			switch err := unix.Connect(int(fd), sa); err {
			case nil:
				return true
			case unix.EINPROGRESS:
				return false
			default:
				cerr = os.NewSyscallError("connect", err)
				return true
			}
		}
		switch e, err := unix.GetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_ERROR); {
		case err != nil:
			cerr = os.NewSyscallError("getsockopt", err)
			return true
		case e != 0:
			cerr = os.NewSyscallError("connect", unix.Errno(e))
			return true
		}
		_, err := unix.Getpeername(int(fd))
		return err == nil // ENOTCONN: still connecting
	})
	if err != nil {
		return err
	}
	return cerr
}

// sockaddr is server as a socket address; an IPv6 zone names the
// interface (or gives its index).
func sockaddr(server netip.AddrPort) (unix.Sockaddr, error) {
	a := server.Addr().Unmap()
	if a.Is4() {
		return &unix.SockaddrInet4{Port: int(server.Port()), Addr: a.As4()}, nil
	}
	sa := &unix.SockaddrInet6{Port: int(server.Port()), Addr: a.As16()}
	if zone := a.Zone(); zone != "" {
		id, err := zoneIndex(zone)
		if err != nil {
			return nil, fmt.Errorf("server %s: zone %q: %w", server, zone, err)
		}
		sa.ZoneId = id
	}
	return sa, nil
}

// zoneIndex is the index of the interface a zone names, or the zone's
// number.
func zoneIndex(zone string) (uint32, error) {
	if n, err := strconv.ParseUint(zone, 10, 32); err == nil {
		return uint32(n), nil
	}
	ifr, err := unix.NewIfreq(zone)
	if err != nil {
		return 0, err
	}
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return 0, os.NewSyscallError("socket", err)
	}
	defer unix.Close(fd)
	if err := unix.IoctlIfreq(fd, unix.SIOCGIFINDEX, ifr); err != nil {
		return 0, os.NewSyscallError("SIOCGIFINDEX", err)
	}
	return ifr.Uint32(), nil
}

// sameAddr reports whether from is sa's address and port.
func sameAddr(from, sa unix.Sockaddr) bool {
	switch a := sa.(type) {
	case *unix.SockaddrInet4:
		b, ok := from.(*unix.SockaddrInet4)
		return ok && a.Addr == b.Addr && a.Port == b.Port
	case *unix.SockaddrInet6:
		b, ok := from.(*unix.SockaddrInet6)
		return ok && a.Addr == b.Addr && a.Port == b.Port
	}
	return false
}

// sysErr is a socket call's error as "op: errno".
func sysErr(op string, err error) error {
	var errno unix.Errno
	if errors.As(err, &errno) {
		return os.NewSyscallError(op, errno)
	}
	return err
}

// timeoutErr names a wait that ended: the context's end, the deadline (no
// answer within timeout), a connection closed early, or the socket's
// error.
func timeoutErr(ctx context.Context, err error, timeout time.Duration) error {
	switch {
	case errors.Is(err, os.ErrDeadlineExceeded):
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("%w within %v", ErrNoAnswer, timeout.Round(time.Millisecond))
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return fmt.Errorf("%w: connection closed", ErrNoAnswer)
	}
	return sysErr("receive", err)
}
