//go:build linux

package nltest

import (
	"bytes"
	"errors"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/wgboot/wgboot/netsetup/internal/nl"
	"golang.org/x/sys/unix"
)

var req = nl.Message{Header: nl.Header{Type: unix.RTM_GETLINK, Flags: unix.NLM_F_REQUEST | unix.NLM_F_DUMP, Seq: 7}}

func TestDump(t *testing.T) {
	got := Dump(req, nl.Message{Header: nl.Header{Type: unix.RTM_NEWLINK}}, nl.Message{Header: nl.Header{Type: unix.RTM_NEWLINK}})
	if len(got) != 3 {
		t.Fatalf("Dump() returned %d messages, want 3", len(got))
	}
	for i, m := range got {
		if m.Flags&unix.NLM_F_MULTI == 0 || m.Seq != 7 {
			t.Errorf("Dump()[%d] flags %#x seq %d, want NLM_F_MULTI and seq 7", i, m.Flags, m.Seq)
		}
	}
	if got[2].Type != unix.NLMSG_DONE || len(got[2].Data) != 4 {
		t.Errorf("Dump() last message = %+v, want NLMSG_DONE with error 0", got[2])
	}
}

func TestErrno(t *testing.T) {
	tests := []struct {
		name      string
		errno     unix.Errno
		extAck    string
		wantFlags uint16
		wantLen   int
	}{
		{name: "ack", wantFlags: unix.NLM_F_CAPPED, wantLen: 20},
		{name: "errno", errno: unix.ENODEV, wantFlags: unix.NLM_F_CAPPED, wantLen: 20},
		{name: "errno with text", errno: unix.EEXIST, extAck: "exists", wantFlags: unix.NLM_F_CAPPED | unix.NLM_F_ACK_TLVS, wantLen: 32},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var msgs []nl.Message
			if tt.errno == 0 {
				msgs = Ack(req)
			} else {
				msgs = Errno(req, tt.errno, tt.extAck)
			}
			if len(msgs) != 1 {
				t.Fatalf("got %d messages, want 1", len(msgs))
			}
			m := msgs[0]
			if m.Type != unix.NLMSG_ERROR || m.Flags != tt.wantFlags || m.Seq != req.Seq || len(m.Data) != tt.wantLen {
				t.Errorf("got type %d flags %#x seq %d len %d, want NLMSG_ERROR %#x %d %d",
					m.Type, m.Flags, m.Seq, len(m.Data), tt.wantFlags, req.Seq, tt.wantLen)
			}
		})
	}
}

func TestCheckRequest(t *testing.T) {
	fn := CheckRequest(unix.RTM_GETLINK, unix.NLM_F_REQUEST|unix.NLM_F_DUMP, func(req nl.Message) ([]nl.Message, error) {
		return Dump(req), nil
	})
	if _, err := fn(req); err != nil {
		t.Errorf("CheckRequest(matching) error = %v", err)
	}
	bad := req
	bad.Flags |= unix.NLM_F_ACK
	if _, err := fn(bad); err == nil {
		t.Error("CheckRequest(other flags) error = nil, want error")
	}
}

func TestSocket_batches(t *testing.T) {
	s := NewSocket(func(req nl.Message) ([]nl.Message, error) {
		return Dump(req, nl.Message{Header: nl.Header{Type: unix.RTM_NEWLINK}}, nl.Message{Header: nl.Header{Type: unix.RTM_NEWLINK}}), nil
	})
	b, err := req.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Send(b); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 4096)
	var counts []int
	for range 2 {
		n, from, err := s.Receive(buf, time.Now().Add(time.Second))
		if err != nil || from != 0 {
			t.Fatalf("Receive() = %d, %d, %v", n, from, err)
		}
		msgs, err := nl.ParseMessages(buf[:n])
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range msgs {
			if m.PID != PortID || m.Seq != req.Seq {
				t.Errorf("reply pid %d seq %d, want %d %d", m.PID, m.Seq, PortID, req.Seq)
			}
		}
		counts = append(counts, len(msgs))
	}
	if counts[0] != 1 || counts[1] != 2 {
		t.Errorf("datagrams carried %v messages, want [1 2]", counts)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Receive(buf, time.Now().Add(time.Second)); err == nil {
		t.Error("Receive() after Close error = nil, want error")
	}
	if err := s.Send(b); err == nil {
		t.Error("Send() after Close error = nil, want error")
	}
}

func TestSocket_queueLimit(t *testing.T) {
	s := NewSocket(func(req nl.Message) ([]nl.Message, error) { return Ack(req), nil })
	s.SetQueueLimit(2)
	var w []byte
	for seq := range uint32(3) {
		m := req
		m.Seq = seq + 1
		var err error
		if w, err = m.AppendBinary(w); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Send(w); err != nil {
		t.Fatal(err)
	}
	if got := s.Writes(); len(got) != 1 || !bytes.Equal(got[0], w) {
		t.Errorf("Writes() = %x, want [%x]", got, w)
	}
	buf := make([]byte, 4096)
	if _, _, err := s.Receive(buf, time.Now()); !errors.Is(err, unix.ENOBUFS) {
		t.Fatalf("first Receive() after an overflow error = %v, want ENOBUFS", err)
	}
	var seqs []uint32
	for {
		n, _, err := s.Receive(buf, time.Now())
		if errors.Is(err, os.ErrDeadlineExceeded) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		msgs, err := nl.ParseMessages(buf[:n])
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range msgs {
			seqs = append(seqs, m.Seq)
		}
	}
	if !slices.Equal(seqs, []uint32{1, 2}) {
		t.Errorf("queued acknowledgements %v, want [1 2] (the third dropped)", seqs)
	}
}

func TestServeFamily_delegates(t *testing.T) {
	errNext := errors.New("next")
	fn := ServeFamily("wireguard", 0x1b, func(nl.Message) ([]nl.Message, error) { return nil, errNext })
	if _, err := fn(req); !errors.Is(err, errNext) {
		t.Errorf("ServeFamily(non-ctrl request) error = %v, want %v", err, errNext)
	}
	if _, err := ServeFamily("wireguard", 0x1b, nil)(req); err == nil {
		t.Error("ServeFamily(nil fn, non-ctrl request) error = nil, want error")
	}
}
