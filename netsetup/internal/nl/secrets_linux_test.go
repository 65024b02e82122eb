package nl

import (
	"encoding/binary"
	"runtime"
	"testing"
	"time"

	"github.com/wgboot/wgboot/internal/keyscan"
)

// keyReplySocket answers every request with one message of 200 bytes of
// data whose bytes 150 to 182 are a key, as a WG_CMD_GET_DEVICE reply
// holds a preshared key near its end, written straight into the receive
// buffer: no other copy of the key is made.
type keyReplySocket struct {
	key *keyscan.Key
	seq uint32
}

func (s *keyReplySocket) Send(b []byte) error {
	s.seq = binary.NativeEndian.Uint32(b[8:12])
	return nil
}

func (s *keyReplySocket) Receive(b []byte, _ time.Time) (int, uint32, error) {
	const n = HeaderLen + 200
	clear(b[:n])
	binary.NativeEndian.PutUint32(b[0:], n)
	binary.NativeEndian.PutUint16(b[4:], 0x1c)
	binary.NativeEndian.PutUint32(b[8:], s.seq)
	s.key.Raw(func(raw []byte) {
		for i, c := range raw {
			b[HeaderLen+150+i] = c
		}
	})
	return n, 0, nil
}

func (s *keyReplySocket) Close() error { return nil }

// TestExecute_registersCleared: the copy of a reply that holds a key moves
// it through the vector registers (see package secmem); Execute leaves
// none of it there, where any later signal to the thread would save it in
// memory. (It is how the QEMU rescue test found a preshared key in PID 1.)
func TestExecute_registersCleared(t *testing.T) {
	if !keyscan.HasRegisters {
		t.Skip("no vector registers to read on " + runtime.GOARCH)
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	k, err := keyscan.New()
	if err != nil {
		t.Fatal(err)
	}
	c := NewConn(&keyReplySocket{key: k})
	replies, err := c.Execute(Message{Header: Header{Type: 0x1c}}, "GET")
	regs := keyscan.Registers()
	if err != nil || len(replies) != 1 || !k.Is(replies[0].Data[150:182]) {
		t.Fatalf("Execute() = %d replies, %v; want the reply with the key", len(replies), err)
	}
	clear(replies[0].Data)
	if forms := k.In(regs); len(forms) > 0 {
		t.Errorf("after Execute, the registers hold the key (%v)", forms)
	}
	clear(regs)
}
