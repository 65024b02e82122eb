//go:build linux

package nl_test

import (
	"encoding/binary"
	"errors"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/wgboot/wgboot/netsetup/internal/nl"
	"github.com/wgboot/wgboot/netsetup/internal/nltest"
	"golang.org/x/sys/unix"
)

// link builds an RTM_NEWLINK reply carrying index in its payload.
func link(index byte) nl.Message {
	return nl.Message{
		Header: nl.Header{Type: unix.RTM_NEWLINK},
		Data:   []byte{0, 0, 0, 0, index, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0},
	}
}

var getLinks = nl.Message{
	Header: nl.Header{Type: unix.RTM_GETLINK, Flags: unix.NLM_F_DUMP},
	Data:   make([]byte, unix.SizeofIfInfomsg),
}

func TestConn_Execute_ack(t *testing.T) {
	const flags = unix.NLM_F_REQUEST | unix.NLM_F_ACK | unix.NLM_F_CREATE | unix.NLM_F_EXCL
	c := nltest.Dial(nltest.CheckRequest(unix.RTM_NEWADDR, flags, func(req nl.Message) ([]nl.Message, error) {
		return nltest.Ack(req), nil
	}))
	defer c.Close()
	req := nl.Message{Header: nl.Header{Type: unix.RTM_NEWADDR, Flags: flags &^ unix.NLM_F_REQUEST}, Data: make([]byte, 8)}
	got, err := c.Execute(req, "RTM_NEWADDR")
	if err != nil || len(got) != 0 {
		t.Errorf("Execute() = %v, %v; want no replies, nil", got, err)
	}
}

func TestConn_Execute_error(t *testing.T) {
	c := nltest.Dial(func(req nl.Message) ([]nl.Message, error) {
		return nltest.Errno(req, unix.EEXIST, "Address already assigned"), nil
	})
	defer c.Close()
	req := nl.Message{Header: nl.Header{Type: unix.RTM_NEWADDR, Flags: unix.NLM_F_ACK}}
	_, err := c.Execute(req, "RTM_NEWADDR")
	if !errors.Is(err, unix.EEXIST) {
		t.Fatalf("Execute() error = %v, want EEXIST", err)
	}
	var e *nl.Error
	if !errors.As(err, &e) {
		t.Fatalf("Execute() error = %T, want *nl.Error", err)
	}
	if got, want := e.Message, "Address already assigned"; got != want {
		t.Errorf("Error.Message = %q, want %q", got, want)
	}
	if got, want := e.Seq, uint32(1); got != want {
		t.Errorf("Error.Seq = %d, want %d", got, want)
	}
	// One deliberate pin of the user-facing text.
	if got, want := err.Error(), "netlink: RTM_NEWADDR: file exists: Address already assigned"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
}

func TestConn_Execute_funcError(t *testing.T) {
	errFake := errors.New("fake kernel failure")
	c := nltest.Dial(func(nl.Message) ([]nl.Message, error) { return nil, errFake })
	defer c.Close()
	if _, err := c.Execute(getLinks, "RTM_GETLINK"); !errors.Is(err, errFake) {
		t.Errorf("Execute() error = %v, want %v", err, errFake)
	}
}

func TestConn_Execute_multipart(t *testing.T) {
	tests := []struct {
		name  string
		parts int
	}{
		{name: "empty dump", parts: 0},
		{name: "one part", parts: 1},
		{name: "split across batches", parts: 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var want []nl.Message
			c := nltest.Dial(func(req nl.Message) ([]nl.Message, error) {
				var links []nl.Message
				for i := range tt.parts {
					links = append(links, link(byte(i+1)))
				}
				out := nltest.Dump(req, links...)
				want = out[:len(out)-1]
				for i := range want {
					want[i].Length = uint32(want[i].Len())
					want[i].PID = nltest.PortID
				}
				return out, nil
			})
			defer c.Close()
			got, err := c.Execute(getLinks, "RTM_GETLINK")
			if err != nil {
				t.Fatalf("Execute() error = %v", err)
			}
			if len(got) != len(want) || (len(want) > 0 && !reflect.DeepEqual(got, want)) {
				t.Errorf("Execute() = %+v, want %+v", got, want)
			}
		})
	}
}

func TestConn_Execute_doneError(t *testing.T) {
	c := nltest.Dial(func(req nl.Message) ([]nl.Message, error) {
		out := nltest.Dump(req, link(1))
		done := &out[len(out)-1]
		code := -int32(unix.EMSGSIZE)
		binary.NativeEndian.PutUint32(done.Data, uint32(code))
		return out, nil
	})
	defer c.Close()
	if _, err := c.Execute(getLinks, "RTM_GETLINK"); !errors.Is(err, unix.EMSGSIZE) {
		t.Errorf("Execute() error = %v, want EMSGSIZE", err)
	}
}

// interruptingKernel marks the first part of the first n dumps with
// NLM_F_DUMP_INTR and counts the dumps.
func interruptingKernel(n int, calls *int) nltest.Func {
	return func(req nl.Message) ([]nl.Message, error) {
		*calls++
		out := nltest.Dump(req, link(1), link(2))
		if *calls <= n {
			out[1].Flags |= unix.NLM_F_DUMP_INTR
		}
		return out, nil
	}
}

func TestConn_ExecuteDump_interrupted(t *testing.T) {
	tests := []struct {
		name      string
		interrupt int
		wantCalls int
		wantErr   bool
	}{
		{name: "not interrupted", interrupt: 0, wantCalls: 1},
		{name: "retried then succeeds", interrupt: 3, wantCalls: 4},
		{name: "gives up", interrupt: 100, wantCalls: 10, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var calls int
			c := nltest.Dial(interruptingKernel(tt.interrupt, &calls))
			defer c.Close()
			req := getLinks
			req.Flags = 0 // ExecuteDump sets NLM_F_DUMP
			got, err := c.ExecuteDump(req, "RTM_GETLINK")
			if gotErr := errors.Is(err, nl.ErrDumpInterrupted); gotErr != tt.wantErr {
				t.Errorf("ExecuteDump() error = %v, want interrupted %v", err, tt.wantErr)
			}
			if len(got) != 2 {
				t.Errorf("ExecuteDump() returned %d replies, want 2", len(got))
			}
			if calls != tt.wantCalls {
				t.Errorf("ExecuteDump() made %d requests, want %d", calls, tt.wantCalls)
			}
		})
	}
}

func TestConn_Execute_interruptedKeepsReplies(t *testing.T) {
	var calls int
	c := nltest.Dial(interruptingKernel(1, &calls))
	defer c.Close()
	got, err := c.Execute(getLinks, "RTM_GETLINK")
	if !errors.Is(err, nl.ErrDumpInterrupted) || len(got) != 2 {
		t.Fatalf("Execute() = %d replies, %v; want 2, ErrDumpInterrupted", len(got), err)
	}
	// The whole dump was drained: the next request sees only its own reply.
	got, err = c.Execute(getLinks, "RTM_GETLINK")
	if err != nil || len(got) != 2 {
		t.Errorf("second Execute() = %d replies, %v; want 2, nil", len(got), err)
	}
}

// TestConn_SetDeadline runs requests against a fake kernel that never
// answers: each returns at the deadline with an error wrapping
// os.ErrDeadlineExceeded, and once the deadline has passed nothing more is
// sent.
func TestConn_SetDeadline(t *testing.T) {
	var r nltest.Recorder
	c := nltest.Dial(r.Serve(func(nl.Message) ([]nl.Message, error) { return nil, nil }))
	defer c.Close()
	const wait = 50 * time.Millisecond
	deadline := time.Now().Add(wait)
	c.SetDeadline(deadline)
	_, err := c.Execute(getLinks, "RTM_GETLINK")
	returned := time.Now()
	if !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Errorf("Execute() error = %v, want os.ErrDeadlineExceeded", err)
	}
	var e *nl.Error
	if !errors.As(err, &e) || !e.Timeout() {
		t.Errorf("Execute() error = %#v, want a timeout *nl.Error", err)
	}
	if returned.Before(deadline) || returned.Sub(deadline) > time.Second {
		t.Errorf("Execute() returned %v after the deadline, want about 0", returned.Sub(deadline))
	}

	// The deadline has passed: nothing is sent, and the call returns at
	// once.
	for name, run := range map[string]func() error{
		"Execute":     func() error { _, err := c.Execute(getLinks, "RTM_GETLINK"); return err },
		"ExecuteDump": func() error { _, err := c.ExecuteDump(getLinks, "RTM_GETLINK"); return err },
		"ExecuteBatch": func() error {
			errs := c.ExecuteBatch([]nl.Message{getLinks}, "RTM_GETLINK")
			if errs == nil {
				return nil
			}
			if !errors.Is(errs[0], nl.ErrNotSent) {
				t.Errorf("ExecuteBatch() error = %v, want nl.ErrNotSent", errs[0])
			}
			return errs[0]
		},
	} {
		start := time.Now()
		if err := run(); !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Errorf("%s() after the deadline error = %v, want os.ErrDeadlineExceeded", name, err)
		}
		if d := time.Since(start); d > time.Second {
			t.Errorf("%s() after the deadline took %v", name, d)
		}
	}
	if n := len(r.Requests()); n != 1 {
		t.Errorf("the kernel got %d requests, want 1 (none after the deadline)", n)
	}

	// A later deadline caps each receive too, long before DefaultTimeout.
	c.SetDeadline(time.Now().Add(wait))
	start := time.Now()
	if _, err := c.Execute(getLinks, "RTM_GETLINK"); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Errorf("Execute() with a new deadline error = %v, want os.ErrDeadlineExceeded", err)
	}
	if d := time.Since(start); d < wait || d > time.Second {
		t.Errorf("Execute() with a new deadline returned after %v, want about %v", d, wait)
	}
}

func TestConn_Execute_trailingAckDrained(t *testing.T) {
	// A non-dump GET with NLM_F_ACK gets its reply and then a separate ACK
	// (mdlayher/netlink#108). The next request must not see that ACK.
	c := nltest.Dial(func(req nl.Message) ([]nl.Message, error) {
		reply := link(byte(req.Seq))
		reply.Seq = req.Seq
		if req.Flags&unix.NLM_F_ACK != 0 {
			return append([]nl.Message{reply}, nltest.Ack(req)...), nil
		}
		return []nl.Message{reply}, nil
	})
	defer c.Close()
	for _, tt := range []struct {
		flags uint16
		index byte
	}{
		{flags: unix.NLM_F_ACK, index: 1},
		{flags: unix.NLM_F_ACK, index: 2},
		{flags: 0, index: 3},
		{flags: 0, index: 4},
	} {
		req := nl.Message{Header: nl.Header{Type: unix.RTM_GETLINK, Flags: tt.flags}, Data: make([]byte, 16)}
		got, err := c.Execute(req, "RTM_GETLINK")
		if err != nil {
			t.Fatalf("Execute(flags %#x) error = %v", tt.flags, err)
		}
		if len(got) != 1 || got[0].Data[4] != tt.index {
			t.Fatalf("Execute(flags %#x) = %+v, want the reply with index %d", tt.flags, got, tt.index)
		}
	}
}

func TestConn_ResolveFamily(t *testing.T) {
	c := nltest.Dial(nltest.ServeFamily("wireguard", 0x1b, nil))
	defer c.Close()
	tests := []struct {
		name    string
		family  string
		want    uint16
		wantErr error
	}{
		{name: "registered", family: "wireguard", want: 0x1b},
		{name: "not registered", family: "nope", wantErr: unix.ENOENT},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := c.ResolveFamily(tt.family)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("ResolveFamily(%q) error = %v, want %v", tt.family, err, tt.wantErr)
			}
			if got != tt.want {
				t.Errorf("ResolveFamily(%q) = %#x, want %#x", tt.family, got, tt.want)
			}
		})
	}
}

func TestConn_ResolveFamily_badReply(t *testing.T) {
	tests := []struct {
		name  string
		reply func(req nl.Message) []nl.Message
	}{
		{
			name: "two replies",
			reply: func(req nl.Message) []nl.Message {
				m := nl.Message{Header: nl.Header{Type: unix.GENL_ID_CTRL, Flags: unix.NLM_F_MULTI}, Data: []byte{1, 2, 0, 0}}
				return nltest.Dump(req, m, m)
			},
		},
		{
			name: "no family ID",
			reply: func(req nl.Message) []nl.Message {
				return []nl.Message{{Header: nl.Header{Type: unix.GENL_ID_CTRL}, Data: []byte{1, 2, 0, 0}}}
			},
		},
		{
			name: "bad genl header",
			reply: func(req nl.Message) []nl.Message {
				return []nl.Message{{Header: nl.Header{Type: unix.GENL_ID_CTRL}, Data: []byte{1, 2, 0, 9}}}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := nltest.Dial(func(req nl.Message) ([]nl.Message, error) { return tt.reply(req), nil })
			defer c.Close()
			if id, err := c.ResolveFamily("wireguard"); err == nil {
				t.Errorf("ResolveFamily() = %#x, nil; want error", id)
			}
		})
	}
}

func TestRecorder(t *testing.T) {
	var r nltest.Recorder
	c := nltest.Dial(r.Serve(nltest.ServeFamily("wireguard", 0x1b, func(req nl.Message) ([]nl.Message, error) {
		return nltest.Ack(req), nil
	})))
	defer c.Close()
	if _, err := c.ResolveFamily("wireguard"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Execute(nl.Message{Header: nl.Header{Type: 0x1b, Flags: unix.NLM_F_ACK}, Data: []byte{1, 1, 0, 0}}, "WG_CMD_SET_DEVICE"); err != nil {
		t.Fatal(err)
	}
	var sb strings.Builder
	for _, m := range r.Requests() {
		if err := nltest.FprintGeneric(&sb, m); err != nil {
			t.Fatal(err)
		}
	}
	want := "nlctrl CTRL_CMD_GETFAMILY v1 flags=REQUEST seq=1 pid=0 len=36 attrs=[2:10]\n" +
		"genl(0x1b) cmd=1 v1 flags=REQUEST|ACK seq=2 pid=0 len=20 attrs=[]\n"
	if got := sb.String(); got != want {
		t.Errorf("transcript:\n%s\nwant:\n%s", got, want)
	}
}
