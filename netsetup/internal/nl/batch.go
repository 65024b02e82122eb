package nl

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"syscall"
	"time"
)

const (
	// maxBatchBytes bounds one ExecuteBatch write. The kernel refuses a
	// write larger than the socket's send buffer less 32 bytes
	// (netlink_sendmsg: EMSGSIZE); the default buffer is 212,992 bytes.
	maxBatchBytes = 32 << 10

	// maxBatchMessages bounds the requests of one ExecuteBatch write, for
	// the receive buffer's sake: the kernel handles the whole write inside
	// the send call and queues one acknowledgement per request, each
	// charged to the receive buffer as a whole socket buffer (at most
	// 896 bytes on 64-bit kernels for a capped ACK, against a default
	// buffer of 212,992 bytes, room for 237). Acknowledgements that do not
	// fit are dropped and the socket reports ENOBUFS; ExecuteBatch then
	// halves its writes for the rest of the Conn's life.
	maxBatchMessages = 128
)

var (
	// ErrNotSent is wrapped by the error ExecuteBatch reports for a
	// request it did not send, because an earlier failure (a closed
	// socket, the deadline) ended the batch: the kernel never saw it.
	ErrNotSent = errors.New("not sent")

	// ErrNoAck is wrapped by the error ExecuteBatch reports for a request
	// that was sent but whose acknowledgement never came, because it was
	// dropped (ENOBUFS) or did not come in time: the kernel may or may
	// not have applied it.
	ErrNoAck = errors.New("no acknowledgement")
)

// ExecuteBatch runs reqs, requests the kernel answers with an
// acknowledgement only (such as RTM_NEWROUTE or RTM_NEWADDR), putting
// several of them in each write: up to 128 requests and 32 KiB, fewer
// after the socket reported ENOBUFS. Each request gets NLM_F_REQUEST,
// NLM_F_ACK and its own sequence number, by which its acknowledgement is
// matched back to it whatever the order in which acknowledgements come.
//
// The kernel handles the requests of a write one by one and goes on after
// one fails, so a failure affects that request alone. ExecuteBatch returns
// nil if every request was acknowledged. Otherwise it returns one error per
// request, in the order of reqs, nil for each request acknowledged, and for
// the others an *Error with Op set to op and Seq to the request's sequence
// number:
//
//   - the kernel refused it: the errno and the extended-ACK text, as
//     Execute reports them;
//   - the acknowledgement was lost or late: an error wrapping ErrNoAck and
//     the cause (ENOBUFS, or os.ErrDeadlineExceeded);
//   - it was never sent: an error wrapping ErrNotSent and the cause.
//
// A lost acknowledgement (ENOBUFS) ends its write only; a timeout, a
// socket error or a passed deadline ends the batch. Each receive waits at
// most DefaultTimeout, and never past the deadline set by SetDeadline.
// Every write is wiped once sent.
func (c *Conn) ExecuteBatch(reqs []Message, op string) []error {
	c.mu.Lock()
	defer c.mu.Unlock()
	b := batch{c: c, reqs: reqs, op: op}
	if c.sock == nil {
		b.notSent(0, errClosed)
		return b.errs
	}
	for next := 0; next < len(reqs); {
		if err := c.checkDeadline(); err != nil {
			b.notSent(next, err)
			break
		}
		var ok bool
		next, ok = b.write(next)
		if !ok {
			break
		}
	}
	return b.errs
}

// batch is the state of one ExecuteBatch.
type batch struct {
	c    *Conn
	reqs []Message
	op   string
	errs []error // nil until a request fails

	// The current write: the requests at index[i] have sequence numbers
	// first+i; done[i] is set once request index[i] has its outcome.
	first uint32
	index []int
	done  []bool
}

// fail records the outcome of request i.
func (b *batch) fail(i int, err error) {
	if b.errs == nil {
		b.errs = make([]error, len(b.reqs))
	}
	b.errs[i] = err
}

// notSent records cause for requests from on.
func (b *batch) notSent(from int, cause error) {
	for i := from; i < len(b.reqs); i++ {
		b.fail(i, &Error{Op: b.op, Err: fmt.Errorf("%w: %w", ErrNotSent, cause)})
	}
}

// write sends the requests from next on that fit in one write, reads their
// acknowledgements, and returns the index of the first request not sent.
// ok is false when the batch must end; the requests from that index on
// then have their error already.
func (b *batch) write(next int) (int, bool) {
	c := b.c
	// Sequence numbers of one write are consecutive, without wrapping
	// through 0.
	if c.seq > math.MaxUint32-maxBatchMessages {
		c.seq = 0
	}
	b.first = c.seq + 1
	b.index = b.index[:0]
	// The write buffer is sized before anything is copied into it, so
	// that growing it leaves no copy of a request behind.
	size, end := 0, next
	for ; end < len(b.reqs) && end-next < c.batchMax; end++ {
		n := align(b.reqs[end].Len())
		if end > next && size+n > maxBatchBytes {
			break
		}
		size += n
	}
	if cap(c.wbuf) < size {
		c.wbuf = make([]byte, 0, max(size, maxBatchBytes))
	}
	w := c.wbuf[:0]
	i := next
	for ; i < end; i++ {
		req := b.reqs[i]
		req.Seq = b.first + uint32(len(b.index))
		req.Flags |= flagRequest | flagAck
		req.PID = 0
		var err error
		n := len(w)
		if w, err = req.AppendBinary(w); err != nil {
			w = w[:n]
			b.fail(i, &Error{Op: b.op, Err: err})
			continue
		}
		b.index = append(b.index, i)
	}
	if len(b.index) == 0 {
		c.wbuf = w
		return i, true
	}
	c.seq = b.first + uint32(len(b.index)) - 1
	err := c.sock.Send(w)
	// Requests may carry secrets; the buffer is reused.
	clear(w)
	c.wbuf = w[:0]
	if err != nil {
		for k, j := range b.index {
			b.fail(j, &Error{Op: b.op, Err: fmt.Errorf("%w: %w", ErrNotSent, err), Seq: b.first + uint32(k)})
		}
		b.notSent(i, err)
		return i, false
	}
	if err := b.acks(); err != nil {
		b.notSent(i, err)
		return i, false
	}
	return i, true
}

// acks reads the acknowledgements of the current write. It returns an
// error if the batch must end.
func (b *batch) acks() error {
	c := b.c
	if c.buf == nil {
		c.buf = make([]byte, receiveBufferSize)
	}
	if c.views == nil {
		c.views = make([]Message, 0, 16)
	}
	b.done = slices.Grow(b.done[:0], len(b.index))[:len(b.index)]
	clear(b.done)
	var (
		pending = len(b.index)
		stale   int
		overrun bool
		lost    error // ENOBUFS: acknowledgements were dropped
	)
	// handle takes the messages of one datagram, which point into the
	// receive buffer: acknowledgements are read in place, never copied.
	handle := func(msgs []Message) {
		for _, m := range msgs {
			if m.Type == typeOverrun {
				overrun = true
				return
			}
			k := int(m.Seq - b.first)
			if m.Seq < b.first || k >= len(b.index) || b.done[k] || m.Type != typeError {
				// Another exchange's, a duplicate, or a reply that
				// an acknowledgement follows.
				stale++
				continue
			}
			b.done[k] = true
			pending--
			code, ext, err := parseError(m)
			switch {
			case err != nil:
				b.fail(b.index[k], &Error{Op: b.op, Err: err, Seq: m.Seq})
			case code != 0:
				b.fail(b.index[k], newKernelError(b.op, m.Seq, code, ext))
			}
		}
	}
	for pending > 0 {
		deadline := c.receiveDeadline()
		if lost != nil {
			// The kernel queued what it could before the send
			// returned: read what is there, wait for nothing more.
			deadline = time.Now()
		}
		got := false
		err := receiveViews(c.sock, c.buf, deadline, func(msgs []Message) {
			got = true
			handle(msgs)
		}, c.views[:0])
		if errors.Is(err, syscall.ENOBUFS) && lost == nil {
			lost = err
			c.batchMax = max(c.batchMax/2, 1)
			continue
		}
		if err != nil {
			if lost != nil && errors.Is(err, errNoReply) {
				// Only the dropped acknowledgements are missing;
				// the socket works.
				b.noAck(lost)
				return nil
			}
			b.noAck(err)
			return err
		}
		if overrun {
			b.noAck(errOverrun)
			return errOverrun
		}
		if !got {
			stale++ // from a sender other than the kernel
		}
		if stale > maxStale {
			err := fmt.Errorf("%w: skipped %d", errStale, stale)
			b.noAck(err)
			return err
		}
	}
	return nil
}

// noAck records cause for the requests of the current write that have no
// outcome yet.
func (b *batch) noAck(cause error) {
	for k, i := range b.index {
		if !b.done[k] {
			b.fail(i, &Error{Op: b.op, Err: fmt.Errorf("%w: %w", ErrNoAck, cause), Seq: b.first + uint32(k)})
		}
	}
}
