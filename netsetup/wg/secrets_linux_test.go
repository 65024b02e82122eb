package wg

import (
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/wgboot/wgboot/netsetup/internal/nl"
	"github.com/wgboot/wgboot/netsetup/internal/nltest"
)

// The tests below inspect the memory they can reach after an exchange,
// failing ones above all, for the keys: the buffers the client sent and
// received through, and the encoders that built the messages.

// spyClient returns a Client served by f over a socket that keeps every
// buffer it was given.
func (f *fakeWG) spyClient(t *testing.T, fn func(nl.Message) ([]nl.Message, error)) (*Client, *fakeSocket) {
	t.Helper()
	if fn == nil {
		fn = f.serve
	}
	sock := &fakeSocket{fn: nltest.ServeFamily("wireguard", testFamily, fn), spy: true}
	c, err := NewClient(nl.NewConn(sock))
	if err != nil {
		t.Fatalf("NewClient() error = %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c, sock
}

// secretConfig is a configuration with a private key and a preshared key
// on every peer, in several messages at the minimum budget.
func secretConfig() Config {
	cfg := Config{PrivateKey: &testPriv, ReplacePeers: true, Peers: manyPeers(40)}
	for i := range cfg.Peers {
		cfg.Peers[i].PresharedKey = &testPSK
	}
	return cfg
}

// checkNoKeys fails the test if any of bufs holds a key of secretConfig.
func checkNoKeys(t *testing.T, what string, bufs ...[]byte) {
	t.Helper()
	priv, psk := testPriv.Bytes(), testPSK.Bytes()
	for i, b := range bufs {
		b = b[:cap(b)]
		if bytes.Contains(b, priv[:]) || bytes.Contains(b, psk[:]) {
			t.Errorf("%s %d (%d bytes) still holds a key", what, i, len(b))
		}
	}
}

// TestConfigure_buffersWiped runs Configure into a kernel that refuses the
// second message, once with a capped error and once with one that echoes
// the whole request, keys included, as a kernel without NETLINK_CAP_ACK
// does. No buffer the client sent or received through keeps a key.
func TestConfigure_buffersWiped(t *testing.T) {
	for _, echo := range []bool{false, true} {
		f := newFakeWG(t, "wg0")
		sets := 0
		c, sock := f.spyClient(t, func(req nl.Message) ([]nl.Message, error) {
			if h, _, _ := nl.ParseGenl(req.Data); h.Command == unix.WG_CMD_SET_DEVICE {
				if sets++; sets == 2 {
					if !echo {
						return nltest.Errno(req, unix.EINVAL, "refused"), nil
					}
					full, err := req.MarshalBinary()
					if err != nil {
						return nil, err
					}
					code := -int32(unix.EINVAL)
					data := append(binary.NativeEndian.AppendUint32(nil, uint32(code)), full...)
					return []nl.Message{{Header: nl.Header{Type: unix.NLMSG_ERROR}, Data: data}}, nil
				}
			}
			return f.serve(req)
		})
		c.SetMessageSize(MinMessageSize)
		err := c.Configure("wg0", secretConfig())
		if !errors.Is(err, unix.EINVAL) {
			t.Fatalf("echo %v: Configure() = %v, want EINVAL from message 2", echo, err)
		}
		if len(sock.sent) != 3 { // GETFAMILY, then two SET messages
			t.Errorf("echo %v: %d writes, want 3", echo, len(sock.sent))
		}
		checkNoKeys(t, "sent buffer", sock.sent...)
		checkNoKeys(t, "receive buffer", sock.recv...)
	}
}

// TestDevice_buffersWiped reads a device whose dump carries the private key
// and the preshared keys, as the kernel's does: after a dump retried
// because it was interrupted, after one that never settles, and after one
// that fails part way, no receive buffer keeps a key.
func TestDevice_buffersWiped(t *testing.T) {
	f := newFakeWG(t, "wg0")
	c, sock := f.spyClient(t, nil)
	c.SetMessageSize(MinMessageSize)
	if err := c.Configure("wg0", secretConfig()); err != nil {
		t.Fatal(err)
	}
	f.dumpSize = 1024 // many parts
	for _, tt := range []struct {
		name      string
		interrupt int
		wantErr   bool
	}{
		{"retried", 3, false},
		{"never settles", 100, true},
	} {
		f.interrupt = tt.interrupt
		_, err := c.Device("wg0")
		if (err != nil) != tt.wantErr {
			t.Errorf("%s: Device() = %v, want error %v", tt.name, err, tt.wantErr)
		}
		checkNoKeys(t, tt.name+": receive buffer", sock.recv...)
	}
	// A dump that ends in an error after parts with keys.
	f.interrupt = 0
	c2, sock2 := f.spyClient(t, func(req nl.Message) ([]nl.Message, error) {
		out, err := f.serve(req)
		if h, _, _ := nl.ParseGenl(req.Data); err == nil && h.Command == unix.WG_CMD_GET_DEVICE {
			done := &out[len(out)-1]
			code := -int32(unix.EIO)
			done.Data = binary.NativeEndian.AppendUint32(nil, uint32(code))
		}
		return out, err
	})
	if _, err := c2.Device("wg0"); !errors.Is(err, unix.EIO) {
		t.Errorf("failing dump: Device() = %v, want EIO", err)
	}
	checkNoKeys(t, "failing dump: receive buffer", sock2.recv...)
}

// TestSetBuilder_wiped: once next returns, on success and on error, the
// builder's encoders hold no key; only the payload does.
func TestSetBuilder_wiped(t *testing.T) {
	cfg := secretConfig()
	b := newSetBuilder("wg0", &cfg, MinMessageSize, nil)
	encoders := func() [][]byte {
		var out [][]byte
		for _, ae := range []*nl.AttrEncoder{&b.dev} {
			enc, err := ae.Encode()
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, enc)
		}
		return out
	}
	priv, psk := testPriv.Bytes(), testPSK.Bytes()
	var arrays []*byte // each encoder's array after the first message
	for n := 1; !b.done(); n++ {
		payload, _, err := b.next()
		if err != nil {
			t.Fatal(err)
		}
		if n == 1 && !bytes.Contains(payload, priv[:]) || n > 1 && !bytes.Contains(payload, psk[:]) {
			t.Errorf("message %d lacks its key", n)
		}
		encs := encoders()
		checkNoKeys(t, "encoder", encs...)
		// An encoder that moved to a bigger array left a copy of
		// what it held, keys included, in the old one.
		for i, enc := range encs {
			if cap(enc) < MinMessageSize {
				t.Fatalf("encoder %d has room for %d bytes, less than a message", i, cap(enc))
			}
			if p := &enc[:1][0]; n == 1 {
				arrays = append(arrays, p)
			} else if p != arrays[i] {
				t.Errorf("message %d: encoder %d moved to another array", n, i)
			}
		}
	}
	// A budget too small for any peer: the second message fails.
	cfg = secretConfig()
	b = newSetBuilder("wg0", &cfg, 100, nil)
	if _, _, err := b.next(); err != nil {
		t.Fatal(err)
	}
	if _, _, err := b.next(); err == nil {
		t.Fatal("next() with a 100-byte budget succeeded, want an error")
	}
	checkNoKeys(t, "encoder after an error", encoders()...)
}

// TestClient_SetDeadline: with a kernel that never answers, Configure,
// Device and WaitHandshake return at the deadline with an error wrapping
// os.ErrDeadlineExceeded, whatever their context says.
func TestClient_SetDeadline(t *testing.T) {
	sock := &fakeSocket{silent: true, fn: nltest.ServeFamily("wireguard", testFamily, func(nl.Message) ([]nl.Message, error) {
		return nil, nil
	})}
	c, err := NewClient(nl.NewConn(sock))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	const wait = 50 * time.Millisecond
	for name, call := range map[string]func() error{
		"Configure": func() error { return c.Configure("wg0", secretConfig()) },
		"Device":    func() error { _, err := c.Device("wg0"); return err },
		"WaitHandshake": func() error {
			_, err := c.WaitHandshake(t.Context(), "wg0", time.Now(), nil)
			return err
		},
	} {
		deadline := time.Now().Add(wait)
		c.SetDeadline(deadline)
		err := call()
		late := time.Since(deadline)
		if !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Errorf("%s() = %v, want os.ErrDeadlineExceeded", name, err)
		}
		if late < 0 || late > time.Second {
			t.Errorf("%s() returned %v after the deadline", name, late)
		}
	}
}

// TestCappedErrors: 10,000 problems give a short error, the first 20 and a
// count of the rest, still matching ErrInvalid or ErrMismatch.
func TestCappedErrors(t *testing.T) {
	cfg := Config{Peers: manyPeers(10000)}
	for i := range cfg.Peers {
		cfg.Peers[i].PersistentKeepalive = ptr(-time.Second)
	}
	err := Validate(cfg)
	if !errors.Is(err, ErrInvalid) || len(err.Error()) > 2000 || !strings.HasSuffix(err.Error(), "… and 9980 more") {
		t.Errorf("Validate(10,000 bad peers) = %d bytes ending %q, want ErrInvalid, at most 2000 bytes and \"… and 9980 more\"",
			len(err.Error()), err.Error()[max(0, len(err.Error())-40):])
	}
	err = Verify(Config{Peers: manyPeers(10000)}, &Device{})
	if !errors.Is(err, ErrMismatch) || len(err.Error()) > 3000 || !strings.HasSuffix(err.Error(), "… and 9980 more") {
		t.Errorf("Verify(10,000 missing peers) = %d bytes ending %q, want ErrMismatch, at most 3000 bytes and \"… and 9980 more\"",
			len(err.Error()), err.Error()[max(0, len(err.Error())-40):])
	}
}
