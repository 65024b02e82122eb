package nl

import (
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wgboot/wgboot/internal/secmem"
)

// DefaultTimeout bounds every receive of a Conn, whatever its deadline.
const DefaultTimeout = 5 * time.Second

const (
	// receiveBufferSize is larger than the biggest datagram the kernel
	// builds for a dump: netlink_dump caps the skb at
	// SKB_WITH_OVERHEAD(32768) even when the reader's buffer is bigger.
	// With NETLINK_CAP_ACK, error replies are small too. Anything larger
	// is reported as truncated (MSG_TRUNC), never silently cut.
	receiveBufferSize = 64 << 10

	// maxStale bounds how many foreign or stale messages one Execute
	// skips, so a flood of them cannot keep it busy past its deadline.
	maxStale = 128

	// maxDumpAttempts bounds ExecuteDump's retries, as vishvananda/netlink
	// does since 99e9797.
	maxDumpAttempts = 10
)

var (
	errClosed    = errors.New("use of closed netlink connection")
	errTruncated = errors.New("reply truncated")
	errStale     = errors.New("too many stale or foreign messages")
	errOverrun   = errors.New("kernel reported NLMSG_OVERRUN")
	errNoReply   = errors.New("no reply")
)

// Socket is a datagram netlink socket bound to one protocol, as used by Conn
// and Subscription. Dial and Subscribe use the kernel's AF_NETLINK socket;
// package nltest provides a fake.
type Socket interface {
	// Send sends b, one or more encoded messages, to the kernel.
	Send(b []byte) error
	// Receive reads one datagram into b, waiting until deadline at most;
	// with a deadline already past it still returns a datagram that is
	// queued. n is the datagram's full length, larger than len(b) if it was
	// truncated (MSG_TRUNC); from is the sender's port ID, 0 for the
	// kernel. On timeout the error wraps os.ErrDeadlineExceeded.
	Receive(b []byte, deadline time.Time) (n int, from uint32, err error)
	// Close releases the socket.
	Close() error
}

// Conn runs netlink requests over one socket, one at a time. Its methods
// are safe for concurrent use but serialised. Use a separate Conn for each
// protocol and never subscribe a Conn's socket to multicast groups; use
// Subscription for notifications.
type Conn struct {
	mu       sync.Mutex
	sock     Socket
	seq      uint32
	timeout  time.Duration
	buf      []byte
	wbuf     []byte    // Execute's and ExecuteBatch's write buffer, zeroed after each write
	views    []Message // ExecuteBatch's acknowledgements, read in place
	batchMax int       // ExecuteBatch's requests per write
	optsErrs error

	// deadline, if set, bounds every exchange; it is outside mu so that
	// it can be set while an exchange runs.
	deadline atomic.Pointer[time.Time]
}

// NewConn returns a Conn that uses sock. It is mainly useful for tests
// (package nltest); production code uses Dial. Sequence numbers start at 1.
func NewConn(sock Socket) *Conn {
	return &Conn{sock: sock, timeout: DefaultTimeout, batchMax: maxBatchMessages}
}

// Close closes the connection's socket. It waits for a running request.
func (c *Conn) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.sock == nil {
		return errClosed
	}
	err := c.sock.Close()
	c.sock = nil
	return err
}

// SetDeadline bounds every exchange that follows by t, an absolute time:
// no receive waits past it, and no request is sent once it has passed.
// Either way the exchange fails with an *Error wrapping
// os.ErrDeadlineExceeded. The zero time removes the bound; each receive
// still waits at most DefaultTimeout.
//
// It is meant to carry a context's deadline to the socket, so that a
// kernel call that never answers ends with the phase that made it. It may
// be called while an exchange runs; a receive already waiting keeps the
// bound it started with.
func (c *Conn) SetDeadline(t time.Time) {
	if t.IsZero() {
		c.deadline.Store(nil)
		return
	}
	c.deadline.Store(&t)
}

// checkDeadline returns an error wrapping os.ErrDeadlineExceeded if the
// deadline has passed, so that nothing more is sent.
func (c *Conn) checkDeadline() error {
	if d := c.deadline.Load(); d != nil && !time.Now().Before(*d) {
		return fmt.Errorf("not sent, the deadline has passed: %w", os.ErrDeadlineExceeded)
	}
	return nil
}

// receiveDeadline returns how long the next receive may wait: the timeout,
// capped by the deadline.
func (c *Conn) receiveDeadline() time.Time {
	t := time.Now().Add(c.timeout)
	if d := c.deadline.Load(); d != nil && d.Before(t) {
		return *d
	}
	return t
}

// nextSeq returns the next sequence number, never 0.
func (c *Conn) nextSeq() uint32 {
	c.seq++
	if c.seq == 0 {
		c.seq = 1
	}
	return c.seq
}

// OptionsErr returns the errors from the best-effort socket options that
// Dial sets (NETLINK_EXT_ACK, NETLINK_CAP_ACK, NETLINK_GET_STRICT_CHK),
// joined, so the caller can log them at debug level. It is nil when the
// kernel accepted them all.
func (c *Conn) OptionsErr() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.optsErrs
}

// Execute sends req and returns the replies, with control messages
// (ACK, NLMSG_DONE, NLMSG_NOOP) removed.
//
// Execute assigns the next sequence number, sets NLM_F_REQUEST and zeroes
// the port ID; the caller sets every other flag. It reads until the
// exchange is complete:
//
//   - NLM_F_ACK: until the ACK, so a request that also produces a reply
//     leaves nothing queued for the next one;
//   - multipart (NLM_F_MULTI) replies, such as dumps: until NLMSG_DONE,
//     whose error code is honoured (a dump is never ACKed);
//   - otherwise: until the first reply.
//
// A request that produces no reply must set NLM_F_ACK, or Execute times
// out. Any NLMSG_ERROR with a non-zero code ends the exchange with an
// *Error carrying the errno and the extended-ACK text.
//
// Messages from senders other than the kernel, and messages with another
// sequence number (for instance the late reply to a request that timed
// out, or the ACK of an earlier dump), are skipped; more than 128 of them
// in one Execute is an error. Each receive waits at most DefaultTimeout,
// and never past the deadline set by SetDeadline.
//
// If any part of the reply had NLM_F_DUMP_INTR, Execute still reads to the
// end and returns the replies together with an error wrapping
// ErrDumpInterrupted; callers that accept a possibly inconsistent result
// may use them.
//
// Every error is an *Error with Op set to op.
func (c *Conn) Execute(req Message, op string) ([]Message, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.sock == nil {
		return nil, &Error{Op: op, Err: errClosed}
	}
	if err := c.checkDeadline(); err != nil {
		return nil, &Error{Op: op, Err: err}
	}
	req.Seq = c.nextSeq()
	req.Flags |= flagRequest
	req.PID = 0
	// The wire copy goes into ExecuteBatch's write buffer, reused: a
	// 10,000-peer SET is 27 requests of 60 KiB, each a new array before.
	// AppendBinary grows it at most once, before copying anything.
	b, err := req.AppendBinary(c.wbuf[:0])
	// Requests may carry keys (WG_CMD_SET_DEVICE): the copy went through
	// the registers (see package secmem); wipe the wire copy once sent.
	secmem.ClearRegisters()
	if err != nil {
		return nil, &Error{Op: op, Err: err, Seq: req.Seq}
	}
	defer func() {
		clear(b)
		c.wbuf = b[:0]
	}()
	if err := c.sock.Send(b); err != nil {
		return nil, &Error{Op: op, Err: err, Seq: req.Seq}
	}
	return c.receiveReplies(req, op, nil)
}

// ExecuteDump is Execute with NLM_F_DUMP set, retrying the whole request up
// to 10 times while the dump is interrupted (NLM_F_DUMP_INTR). When it
// gives up, it returns the last, possibly inconsistent, replies with an
// error wrapping ErrDumpInterrupted.
func (c *Conn) ExecuteDump(req Message, op string) ([]Message, error) {
	req.Flags |= flagDump
	var (
		replies []Message
		err     error
	)
	for i := range maxDumpAttempts {
		replies, err = c.Execute(req, op)
		if !errors.Is(err, ErrDumpInterrupted) {
			return replies, err
		}
		if i < maxDumpAttempts-1 {
			// A dump may carry keys (WG_CMD_GET_DEVICE).
			wipe(replies)
		}
	}
	var e *Error
	if errors.As(err, &e) {
		e.Err = fmt.Errorf("%w %d times", e.Err, maxDumpAttempts)
	}
	return replies, err
}

// wipe zeroes the payloads of msgs.
func wipe(msgs []Message) {
	for _, m := range msgs {
		clear(m.Data)
	}
}

// receiveReplies reads the replies to req, which has been sent, appending
// them to replies. Replies may carry keys (WG_CMD_GET_DEVICE) and an error
// may echo a request that did, so every message not returned is wiped,
// the replies read so far included when the exchange fails.
func (c *Conn) receiveReplies(req Message, op string, replies []Message) ([]Message, error) {
	var (
		interrupted bool
		stale       int
	)
	fail := func(err error) ([]Message, error) {
		wipe(replies)
		return nil, err
	}
	for {
		msgs, err := c.receive(c.receiveDeadline())
		if err != nil {
			return fail(&Error{Op: op, Err: err, Seq: req.Seq})
		}
		if msgs == nil {
			// Datagram from a sender other than the kernel.
			stale++
		}
		var (
			done   bool
			kept   int // msgs[:kept] went to replies
			failed error
		)
		for i, m := range msgs {
			if m.Seq != req.Seq {
				stale++
				continue
			}
			if m.Flags&flagDumpIntr != 0 {
				interrupted = true
			}
			switch m.Type {
			case typeNoop:
			case typeOverrun:
				failed = &Error{Op: op, Err: errOverrun, Seq: req.Seq}
			case typeError:
				code, ext, err := parseError(m)
				switch {
				case err != nil:
					failed = &Error{Op: op, Err: err, Seq: req.Seq}
				case code != 0:
					failed = newKernelError(op, req.Seq, code, ext)
				}
				done = true
			case typeDone:
				code, ext, err := parseDone(m)
				switch {
				case err != nil:
					failed = &Error{Op: op, Err: err, Seq: req.Seq}
				case code != 0:
					failed = newKernelError(op, req.Seq, code, ext)
				}
				done = true
			default:
				replies = append(replies, m)
				msgs[kept], msgs[i] = msgs[i], msgs[kept]
				kept++
				if m.Flags&flagMulti == 0 && req.Flags&flagAck == 0 {
					done = true
				}
			}
			if done || failed != nil {
				break
			}
		}
		wipe(msgs[kept:])
		switch {
		case failed != nil:
			return fail(failed)
		case done && interrupted:
			return replies, &Error{Op: op, Err: ErrDumpInterrupted, Seq: req.Seq}
		case done:
			return replies, nil
		case stale > maxStale:
			return fail(&Error{Op: op, Err: fmt.Errorf("%w: skipped %d", errStale, stale), Seq: req.Seq})
		}
	}
}

// receive reads and parses one datagram. It returns nil messages and no
// error for a datagram from a sender other than the kernel.
func (c *Conn) receive(deadline time.Time) ([]Message, error) {
	if c.buf == nil {
		c.buf = make([]byte, receiveBufferSize)
	}
	return receiveFrom(c.sock, c.buf, deadline)
}

// receiveFrom implements receive for Conn and Subscription. The messages'
// data are copies, in one array.
//
// Replies may carry keys (WG_CMD_GET_DEVICE), and the copies move them
// through the vector registers (see package secmem), so the copies are
// made back to back, with nothing in between that could move the goroutine
// to another thread, and the registers cleared right after them.
func receiveFrom(sock Socket, buf []byte, deadline time.Time) ([]Message, error) {
	var msgs []Message
	err := receiveViews(sock, buf, deadline, func(views []Message) {
		msgs = make([]Message, len(views))
		n := 0
		for _, m := range views {
			n += len(m.Data)
		}
		data := make([]byte, n)
		for i, m := range views {
			msgs[i] = Message{Header: m.Header, Data: data[:len(m.Data):len(m.Data)]}
			data = data[copy(data, m.Data):]
		}
		secmem.ClearRegisters()
	}, nil)
	return msgs, err
}

// receiveViews reads one datagram into buf and passes its messages to fn,
// their Data pointing into buf, reusing views' array; buf is wiped when fn
// returns, and on every other path: replies may carry keys
// (WG_CMD_GET_DEVICE). fn is not called for a datagram from a sender other
// than the kernel.
func receiveViews(sock Socket, buf []byte, deadline time.Time, fn func([]Message), views []Message) error {
	wait := time.Until(deadline)
	n, from, err := sock.Receive(buf, deadline)
	if err != nil {
		if errors.Is(err, os.ErrDeadlineExceeded) {
			return fmt.Errorf("%w within %v: %w", errNoReply, max(wait, 0).Round(time.Millisecond), err)
		}
		return err
	}
	defer clear(buf[:min(n, len(buf))])
	if n > len(buf) {
		return fmt.Errorf("%w: %d-byte datagram, %d-byte buffer", errTruncated, n, len(buf))
	}
	if from != 0 {
		return nil
	}
	views = views[:0]
	for b := buf[:n]; len(b) > 0; {
		m, rest, err := parseMessage(b, false)
		if err != nil {
			return fmt.Errorf("malformed reply: message %d: %w", len(views), err)
		}
		views = append(views, m)
		b = rest
	}
	fn(views)
	return nil
}

// Subscription receives multicast notifications, such as RTNLGRP_LINK
// events, on its own socket. Its methods are safe for concurrent use but
// serialised.
type Subscription struct {
	mu   sync.Mutex
	sock Socket
	buf  []byte
}

// NewSubscription returns a Subscription that reads from sock. It is mainly
// useful for tests; production code uses Subscribe.
func NewSubscription(sock Socket) *Subscription {
	return &Subscription{sock: sock}
}

// groupJoiner is implemented by sockets that can join multicast groups.
type groupJoiner interface {
	JoinGroup(group uint32) error
}

// JoinGroup subscribes to one more multicast group, such as
// unix.RTNLGRP_LINK.
func (s *Subscription) JoinGroup(group uint32) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	op := fmt.Sprintf("join group %d", group)
	if s.sock == nil {
		return &Error{Op: op, Err: errClosed}
	}
	gj, ok := s.sock.(groupJoiner)
	if !ok {
		return &Error{Op: op, Err: errors.ErrUnsupported}
	}
	if err := gj.JoinGroup(group); err != nil {
		return &Error{Op: op, Err: err}
	}
	return nil
}

// Receive returns the messages of the next datagram from the kernel,
// waiting until deadline at most; on timeout the error wraps
// os.ErrDeadlineExceeded. An error wrapping unix.ENOBUFS means
// notifications were lost because the receive queue overflowed: the caller
// should re-read the state it tracks.
func (s *Subscription) Receive(deadline time.Time) ([]Message, error) {
	const op = "receive notifications"
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.sock == nil {
		return nil, &Error{Op: op, Err: errClosed}
	}
	if s.buf == nil {
		s.buf = make([]byte, receiveBufferSize)
	}
	for {
		msgs, err := receiveFrom(s.sock, s.buf, deadline)
		if err != nil {
			return nil, &Error{Op: op, Err: err}
		}
		if msgs != nil {
			return msgs, nil
		}
	}
}

// Close closes the subscription's socket.
func (s *Subscription) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.sock == nil {
		return errClosed
	}
	err := s.sock.Close()
	s.sock = nil
	return err
}
