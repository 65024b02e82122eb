package nl

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"os"
	"slices"
	"sync"
	"syscall"
	"testing"
	"time"
)

// datagram is one datagram a scriptSocket delivers.
type datagram struct {
	from uint32
	b    []byte
	// n overrides the reported length, to simulate MSG_TRUNC.
	n int
}

// scriptSocket is a raw-byte fake for cases nltest cannot express: foreign
// senders, truncation and malformed datagrams.
type scriptSocket struct {
	reply func(req Message) []datagram

	mu    sync.Mutex
	queue []datagram
}

func (s *scriptSocket) Send(b []byte) error {
	msgs, err := ParseMessages(b)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, m := range msgs {
		s.queue = append(s.queue, s.reply(m)...)
	}
	return nil
}

func (s *scriptSocket) Receive(b []byte, deadline time.Time) (int, uint32, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.queue) == 0 {
		return 0, 0, os.ErrDeadlineExceeded
	}
	d := s.queue[0]
	s.queue = s.queue[1:]
	n := copy(b, d.b)
	if d.n != 0 {
		n = d.n
	}
	return n, d.from, nil
}

func (s *scriptSocket) Close() error { return nil }

// marshal encodes msgs into one datagram.
func marshal(t *testing.T, msgs ...Message) []byte {
	t.Helper()
	var b []byte
	for _, m := range msgs {
		var err error
		if b, err = m.AppendBinary(b); err != nil {
			t.Fatal(err)
		}
	}
	return b
}

// ack builds the ACK for seq.
func ack(seq uint32) Message {
	return Message{Header: Header{Type: typeError, Flags: flagCapped, Seq: seq}, Data: make([]byte, 20)}
}

func TestConn_Execute_replyValidation(t *testing.T) {
	reply := Message{Header: Header{Type: 0x10, Flags: 0}, Data: []byte{1, 2, 3, 4}}
	tests := []struct {
		name    string
		script  func(t *testing.T, req Message) []datagram
		want    int // replies
		wantErr error
	}{
		{
			name: "stale sequence number skipped",
			script: func(t *testing.T, req Message) []datagram {
				stale := reply
				stale.Seq = req.Seq - 1
				ok := reply
				ok.Seq = req.Seq
				return []datagram{{b: marshal(t, stale, ack(req.Seq-1))}, {b: marshal(t, ok)}}
			},
			want: 1,
		},
		{
			name: "foreign sender skipped",
			script: func(t *testing.T, req Message) []datagram {
				ok := reply
				ok.Seq = req.Seq
				return []datagram{{from: 4242, b: marshal(t, ok, ok)}, {b: marshal(t, ok)}}
			},
			want: 1,
		},
		{
			name: "only stale replies time out",
			script: func(t *testing.T, req Message) []datagram {
				return []datagram{{b: marshal(t, ack(req.Seq+1))}}
			},
			wantErr: os.ErrDeadlineExceeded,
		},
		{
			name: "flood of stale replies",
			script: func(t *testing.T, req Message) []datagram {
				var ds []datagram
				for range maxStale + 1 {
					ds = append(ds, datagram{b: marshal(t, ack(req.Seq+1))})
				}
				return ds
			},
			wantErr: errStale,
		},
		{
			name: "truncated datagram",
			script: func(t *testing.T, req Message) []datagram {
				ok := reply
				ok.Seq = req.Seq
				return []datagram{{b: marshal(t, ok), n: receiveBufferSize + 1}}
			},
			wantErr: errTruncated,
		},
		{
			name: "malformed datagram",
			script: func(t *testing.T, req Message) []datagram {
				ok := reply
				ok.Seq = req.Seq
				return []datagram{{b: marshal(t, ok)[:18]}}
			},
		},
		{
			name: "overrun",
			script: func(t *testing.T, req Message) []datagram {
				return []datagram{{b: marshal(t, Message{Header: Header{Type: typeOverrun, Seq: req.Seq}})}}
			},
			wantErr: errOverrun,
		},
		{
			name: "malformed NLMSG_ERROR",
			script: func(t *testing.T, req Message) []datagram {
				return []datagram{{b: marshal(t, Message{Header: Header{Type: typeError, Seq: req.Seq}, Data: []byte{0, 0}})}}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sock := &scriptSocket{}
			sock.reply = func(req Message) []datagram { return tt.script(t, req) }
			c := NewConn(sock)
			// Run a first request so stale sequence numbers are non-zero.
			c.seq = 10
			got, err := c.Execute(Message{Header: Header{Type: 0x12}}, "RTM_GETLINK")
			wantFail := tt.want == 0
			if (err != nil) != wantFail {
				t.Fatalf("Execute() = %v, %v; want error %v", got, err, wantFail)
			}
			if err != nil {
				var e *Error
				if !errors.As(err, &e) || e.Op != "RTM_GETLINK" || e.Seq != 11 {
					t.Errorf("Execute() error = %#v, want *Error with Op RTM_GETLINK, Seq 11", err)
				}
				if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
					t.Errorf("Execute() error = %v, want %v", err, tt.wantErr)
				}
				return
			}
			if len(got) != tt.want {
				t.Errorf("Execute() returned %d replies, want %d", len(got), tt.want)
			}
		})
	}
}

func TestConn_closed(t *testing.T) {
	c := NewConn(&scriptSocket{})
	if err := c.Close(); err != nil {
		t.Fatalf("Close() = %v", err)
	}
	if _, err := c.Execute(Message{}, "x"); !errors.Is(err, errClosed) {
		t.Errorf("Execute() after Close = %v, want %v", err, errClosed)
	}
	if err := c.Close(); !errors.Is(err, errClosed) {
		t.Errorf("second Close() = %v, want %v", err, errClosed)
	}
}

func TestSubscription_Receive(t *testing.T) {
	notification := Message{Header: Header{Type: 0x10}, Data: []byte{1, 2, 3, 4}}
	sock := &scriptSocket{}
	sock.queue = []datagram{
		{from: 77, b: marshal(t, notification)},
		{b: marshal(t, notification, notification)},
	}
	s := NewSubscription(sock)
	msgs, err := s.Receive(time.Now().Add(time.Second))
	if err != nil || len(msgs) != 2 {
		t.Fatalf("Receive() = %d messages, %v; want 2, nil", len(msgs), err)
	}
	_, err = s.Receive(time.Now().Add(time.Second))
	var e *Error
	if !errors.Is(err, os.ErrDeadlineExceeded) || !errors.As(err, &e) || !e.Timeout() {
		t.Errorf("Receive() on an empty queue = %v, want a timeout *Error", err)
	}
	if err := s.JoinGroup(1); !errors.Is(err, errors.ErrUnsupported) {
		t.Errorf("JoinGroup() on a fake socket = %v, want %v", err, errors.ErrUnsupported)
	}
	if err := s.Close(); err != nil {
		t.Errorf("Close() = %v", err)
	}
}

// TestConn_ExecuteBatch_sequenceWrap: the sequence numbers of one write are
// consecutive, never 0, also where the counter wraps; Execute continues
// after the last one.
func TestConn_ExecuteBatch_sequenceWrap(t *testing.T) {
	var seqs []uint32
	sock := &scriptSocket{}
	sock.reply = func(req Message) []datagram {
		seqs = append(seqs, req.Seq)
		return []datagram{{b: marshal(t, ack(req.Seq))}}
	}
	c := NewConn(sock)
	c.seq = math.MaxUint32 - 5
	reqs := make([]Message, 10)
	for i := range reqs {
		reqs[i] = Message{Header: Header{Type: 0x11}}
	}
	if errs := c.ExecuteBatch(reqs, "RTM_DELLINK"); errs != nil {
		t.Fatal(errs)
	}
	if _, err := c.Execute(Message{Header: Header{Type: 0x11, Flags: flagAck}}, "RTM_DELLINK"); err != nil {
		t.Fatal(err)
	}
	if want := []uint32{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}; !slices.Equal(seqs, want) {
		t.Errorf("sequence numbers %v, want %v", seqs, want)
	}
}

// secret is a payload standing for key material.
var secret = bytes.Repeat([]byte{0xaa}, 32)

// allZero reports whether b holds only zeros.
func allZero(b []byte) bool {
	return !slices.ContainsFunc(b, func(c byte) bool { return c != 0 })
}

// TestConn_receiveBufferWiped: the receive buffer is wiped after every
// datagram, on the error paths too (a truncated datagram, one from another
// sender, a malformed one, an error reply).
func TestConn_receiveBufferWiped(t *testing.T) {
	part := func(seq uint32) Message {
		return Message{Header: Header{Type: 0x10, Flags: flagMulti, Seq: seq}, Data: secret}
	}
	tests := []struct {
		name   string
		script func(req Message) []datagram
	}{
		{"dump", func(req Message) []datagram {
			done := Message{Header: Header{Type: typeDone, Flags: flagMulti, Seq: req.Seq}, Data: make([]byte, 4)}
			return []datagram{{b: marshal(t, part(req.Seq), part(req.Seq))}, {b: marshal(t, done)}}
		}},
		{"truncated", func(req Message) []datagram {
			return []datagram{{b: marshal(t, part(req.Seq)), n: receiveBufferSize + 1}}
		}},
		{"foreign sender", func(req Message) []datagram {
			return []datagram{{from: 99, b: marshal(t, part(req.Seq))}}
		}},
		{"malformed", func(req Message) []datagram {
			return []datagram{{b: marshal(t, part(req.Seq), part(req.Seq))[:70]}}
		}},
		{"error echoing the request", func(req Message) []datagram {
			echo := append(binary.NativeEndian.AppendUint32(nil, errCode(syscall.EINVAL)), marshal(t, Message{Header: req.Header, Data: secret})...)
			return []datagram{{b: marshal(t, part(req.Seq), Message{Header: Header{Type: typeError, Seq: req.Seq}, Data: echo})}}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := NewConn(&scriptSocket{reply: tt.script})
			c.Execute(Message{Header: Header{Type: 0x10, Flags: flagDump}}, "GET")
			if c.buf == nil || !allZero(c.buf) {
				t.Errorf("receive buffer not wiped")
			}
		})
	}
}

// TestConn_writeBufferReusedWiped: Execute writes each request through
// one reused buffer, zeroed after every write, on success and on an error
// reply, and grows it only for a larger request.
func TestConn_writeBufferReusedWiped(t *testing.T) {
	ack := func(req Message, code syscall.Errno) []datagram {
		echo := append(binary.NativeEndian.AppendUint32(nil, errCode(code)), marshal(t, Message{Header: req.Header})...)
		return []datagram{{b: marshal(t, Message{Header: Header{Type: typeError, Seq: req.Seq}, Data: echo})}}
	}
	code := syscall.Errno(0)
	c := NewConn(&scriptSocket{reply: func(req Message) []datagram { return ack(req, code) }})
	big := bytes.Repeat(secret, 100)
	if _, err := c.Execute(Message{Header: Header{Type: 0x10, Flags: flagAck}, Data: big}, "SET"); err != nil {
		t.Fatal(err)
	}
	if cap(c.wbuf) < HeaderLen+len(big) || !allZero(c.wbuf[:cap(c.wbuf)]) {
		t.Fatalf("write buffer of %d bytes kept, not wiped: %v", cap(c.wbuf), !allZero(c.wbuf[:cap(c.wbuf)]))
	}
	first := &c.wbuf[:1][0]
	for _, code = range []syscall.Errno{0, syscall.EINVAL} {
		c.Execute(Message{Header: Header{Type: 0x10, Flags: flagAck}, Data: secret}, "SET")
		if &c.wbuf[:1][0] != first {
			t.Errorf("errno %d: a smaller request moved the write buffer", code)
		}
		if !allZero(c.wbuf[:cap(c.wbuf)]) {
			t.Errorf("errno %d: write buffer not wiped", code)
		}
	}
}

// TestConn_discardedRepliesWiped: when a dump fails part way, the parts
// already read are wiped, not left for the garbage collector.
func TestConn_discardedRepliesWiped(t *testing.T) {
	sock := &scriptSocket{reply: func(req Message) []datagram {
		part := Message{Header: Header{Type: 0x10, Flags: flagMulti, Seq: req.Seq}, Data: slices.Clone(secret)}
		failure := Message{Header: Header{Type: typeDone, Flags: flagMulti, Seq: req.Seq}, Data: binary.NativeEndian.AppendUint32(nil, errCode(syscall.EIO))}
		return []datagram{{b: marshal(t, part, part)}, {b: marshal(t, part, failure)}}
	}}
	c := NewConn(sock)
	req := Message{Header: Header{Type: 0x10, Flags: flagDump | flagRequest, Seq: 1}}
	if err := c.sock.Send(marshal(t, req)); err != nil {
		t.Fatal(err)
	}
	into := make([]Message, 0, 8)
	if _, err := c.receiveReplies(req, "GET", into); !errors.Is(err, syscall.EIO) {
		t.Fatalf("receiveReplies() error = %v, want EIO", err)
	}
	kept := into[:3]
	for i, m := range kept {
		if len(m.Data) != len(secret) || !allZero(m.Data) {
			t.Errorf("reply %d = %x, want %d zero bytes", i, m.Data, len(secret))
		}
	}
}

// TestMessage_AppendBinaryGrowsOnce: a payload is copied once, into an
// array sized for it.
func TestMessage_AppendBinaryGrowsOnce(t *testing.T) {
	if raceEnabled {
		t.Skip("skipping, the race detector changes allocation counts")
	}
	m := Message{Header: Header{Type: 0x10}, Data: make([]byte, 1001)}
	if n := testing.AllocsPerRun(10, func() { m.AppendBinary(nil) }); n != 1 {
		t.Errorf("AppendBinary(nil) allocates %v times, want 1", n)
	}
	b := make([]byte, 5, 8)
	out, _ := m.AppendBinary(b)
	if len(out) != 5+HeaderLen+1004 {
		t.Errorf("AppendBinary() length %d", len(out))
	}
}

// errCode returns the kernel's error code for errno, as a u32.
func errCode(errno syscall.Errno) uint32 {
	code := -int32(errno)
	return uint32(code)
}
