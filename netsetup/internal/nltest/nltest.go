//go:build linux

package nltest

import (
	"encoding/binary"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/wgboot/wgboot/netsetup/internal/nl"
	"golang.org/x/sys/unix"
)

// PortID is the port ID the fake kernel assigns to the client. Replies
// whose PID is zero are sent with this PID, as the kernel addresses
// replies to the requesting socket.
const PortID = 1

// Func is a fake kernel: it handles one request and returns the replies.
// Replies with a zero Seq get the request's sequence number. A non-nil error
// is returned by the socket's send, and so by Conn.Execute, wrapped.
type Func func(req nl.Message) ([]nl.Message, error)

// Dial returns a Conn whose socket is served by fn.
func Dial(fn Func) *nl.Conn {
	return nl.NewConn(NewSocket(fn))
}

// Socket is a fake netlink socket whose kernel side is a Func; put it
// behind a Conn with nl.NewConn when a test needs to see the writes or to
// bound the receive queue. It is safe for concurrent use.
type Socket struct {
	fn Func

	mu      sync.Mutex
	queue   [][]byte
	closed  bool
	writes  [][]byte
	limit   int  // queued datagrams at most; 0 for no limit
	overrun bool // a datagram was dropped: the next Receive fails
}

// NewSocket returns a socket served by fn.
func NewSocket(fn Func) *Socket {
	return &Socket{fn: fn}
}

// SetQueueLimit bounds the receive queue to n datagrams, 0 for no bound,
// as the receive buffer bounds the kernel's: a reply that finds the queue
// full is dropped, and the next Receive fails once with ENOBUFS
// (netlink_overrun), after which the queued datagrams are read as usual.
func (s *Socket) SetQueueLimit(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.limit = n
}

// Writes returns a copy of every buffer sent so far, one per write.
func (s *Socket) Writes() [][]byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([][]byte, len(s.writes))
	for i, w := range s.writes {
		out[i] = append([]byte{}, w...)
	}
	return out
}

// Send implements nl.Socket: each request of the write goes to the Func
// in order, as the kernel handles them, and its replies are queued.
func (s *Socket) Send(b []byte) error {
	reqs, err := nl.ParseMessages(b)
	if err != nil {
		return fmt.Errorf("nltest: malformed request: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return os.ErrClosed
	}
	s.writes = append(s.writes, append([]byte{}, b...))
	for _, req := range reqs {
		replies, err := s.fn(req)
		if err != nil {
			return err
		}
		for i := range replies {
			if replies[i].Seq == 0 {
				replies[i].Seq = req.Seq
			}
			if replies[i].PID == 0 {
				replies[i].PID = PortID
			}
		}
		// Deliver in two datagrams when there is more than one reply.
		half := len(replies) / 2
		for _, batch := range [][]nl.Message{replies[:half], replies[half:]} {
			if len(batch) == 0 {
				continue
			}
			var d []byte
			for _, m := range batch {
				if d, err = m.AppendBinary(d); err != nil {
					return fmt.Errorf("nltest: marshal reply: %w", err)
				}
			}
			if s.limit > 0 && len(s.queue) >= s.limit {
				s.overrun = true
				continue
			}
			s.queue = append(s.queue, d)
		}
	}
	return nil
}

// Receive implements nl.Socket. With nothing queued it waits until the
// deadline, like a kernel that never answers.
func (s *Socket) Receive(b []byte, deadline time.Time) (int, uint32, error) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return 0, 0, os.ErrClosed
	}
	if s.overrun {
		s.overrun = false
		s.mu.Unlock()
		return 0, 0, os.NewSyscallError("recvmsg", unix.ENOBUFS)
	}
	if len(s.queue) == 0 {
		s.mu.Unlock()
		time.Sleep(time.Until(deadline))
		return 0, 0, os.ErrDeadlineExceeded
	}
	d := s.queue[0]
	s.queue = s.queue[1:]
	s.mu.Unlock()
	copy(b, d)
	return len(d), 0, nil
}

// Close implements nl.Socket.
func (s *Socket) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	return nil
}

// Ack returns the kernel's acknowledgement of req: an NLMSG_ERROR with code
// 0 echoing req's header.
func Ack(req nl.Message) []nl.Message {
	return []nl.Message{errorMessage(req, 0, "")}
}

// Errno returns the kernel's error reply to req with errno and, if extAck is
// not empty, an extended-ACK message, as sent to a socket with
// NETLINK_CAP_ACK and NETLINK_EXT_ACK.
func Errno(req nl.Message, errno unix.Errno, extAck string) []nl.Message {
	return []nl.Message{errorMessage(req, -int32(errno), extAck)}
}

// errorMessage builds an NLMSG_ERROR with a capped echo of req.
func errorMessage(req nl.Message, code int32, extAck string) nl.Message {
	data := binary.NativeEndian.AppendUint32(nil, uint32(code))
	echo := req.Header
	echo.Length = uint32(req.Len())
	data = binary.NativeEndian.AppendUint32(data, echo.Length)
	data = binary.NativeEndian.AppendUint16(data, echo.Type)
	data = binary.NativeEndian.AppendUint16(data, echo.Flags)
	data = binary.NativeEndian.AppendUint32(data, echo.Seq)
	data = binary.NativeEndian.AppendUint32(data, echo.PID)
	flags := uint16(unix.NLM_F_CAPPED)
	if extAck != "" {
		var ae nl.AttrEncoder
		ae.String(unix.NLMSGERR_ATTR_MSG, extAck)
		// A message containing NUL is a test bug; send it without TLVs
		// rather than fail inside the fake.
		if tlvs, err := ae.Encode(); err == nil {
			data = append(data, tlvs...)
			flags |= unix.NLM_F_ACK_TLVS
		}
	}
	return nl.Message{
		Header: nl.Header{Type: unix.NLMSG_ERROR, Flags: flags, Seq: req.Seq},
		Data:   data,
	}
}

// Dump returns msgs as the parts of a multipart reply to req: each gets
// NLM_F_MULTI and req's sequence number, and an NLMSG_DONE with error 0
// follows.
func Dump(req nl.Message, msgs ...nl.Message) []nl.Message {
	out := make([]nl.Message, 0, len(msgs)+1)
	for _, m := range msgs {
		m.Flags |= unix.NLM_F_MULTI
		m.Seq = req.Seq
		out = append(out, m)
	}
	return append(out, nl.Message{
		Header: nl.Header{Type: unix.NLMSG_DONE, Flags: unix.NLM_F_MULTI, Seq: req.Seq},
		Data:   binary.NativeEndian.AppendUint32(nil, 0),
	})
}

// ServeFamily answers CTRL_CMD_GETFAMILY requests for the generic netlink
// family name with id, as the kernel's nlctrl does; requests for other
// families get ENOENT. Every other request goes to fn, which may be nil.
func ServeFamily(name string, id uint16, fn Func) Func {
	return func(req nl.Message) ([]nl.Message, error) {
		if req.Type != unix.GENL_ID_CTRL {
			if fn == nil {
				return nil, fmt.Errorf("nltest: unexpected request type %#x", req.Type)
			}
			return fn(req)
		}
		h, ad, err := nl.ParseGenl(req.Data)
		if err != nil {
			return nil, fmt.Errorf("nltest: nlctrl request: %w", err)
		}
		if h.Command != unix.CTRL_CMD_GETFAMILY {
			return nil, fmt.Errorf("nltest: unexpected nlctrl command %d", h.Command)
		}
		var got string
		for ad.Next() {
			if ad.Type() == unix.CTRL_ATTR_FAMILY_NAME {
				got = ad.String()
			}
		}
		if err := ad.Err(); err != nil {
			return nil, fmt.Errorf("nltest: nlctrl request: %w", err)
		}
		if got != name {
			return Errno(req, unix.ENOENT, ""), nil
		}
		var ae nl.AttrEncoder
		ae.String(unix.CTRL_ATTR_FAMILY_NAME, name)
		ae.Uint16(unix.CTRL_ATTR_FAMILY_ID, id)
		data, err := nl.GenlPayload(nl.GenlHeader{Command: unix.CTRL_CMD_NEWFAMILY, Version: 2}, &ae)
		if err != nil {
			return nil, fmt.Errorf("nltest: nlctrl reply: %w", err)
		}
		reply := nl.Message{Header: nl.Header{Type: unix.GENL_ID_CTRL}, Data: data}
		if req.Flags&unix.NLM_F_ACK != 0 {
			return append([]nl.Message{reply}, Ack(req)...), nil
		}
		return []nl.Message{reply}, nil
	}
}

// CheckRequest returns a Func that fails unless each request has exactly the
// given type and flags (NLM_F_REQUEST included), and otherwise calls fn.
func CheckRequest(typ, flags uint16, fn Func) Func {
	return func(req nl.Message) ([]nl.Message, error) {
		if req.Type != typ || req.Flags != flags {
			return nil, fmt.Errorf("nltest: request has type %#x flags %#x, want type %#x flags %#x",
				req.Type, req.Flags, typ, flags)
		}
		return fn(req)
	}
}

// Recorder keeps every request passed to the Func returned by Serve. It is
// safe for concurrent use.
type Recorder struct {
	mu   sync.Mutex
	reqs []nl.Message
}

// Serve returns a Func that records each request, then calls fn.
func (r *Recorder) Serve(fn Func) Func {
	return func(req nl.Message) ([]nl.Message, error) {
		r.mu.Lock()
		r.reqs = append(r.reqs, req)
		r.mu.Unlock()
		return fn(req)
	}
}

// Requests returns the requests recorded so far, in order.
func (r *Recorder) Requests() []nl.Message {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]nl.Message{}, r.reqs...)
}
