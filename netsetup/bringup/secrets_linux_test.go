package bringup

import (
	"context"
	"encoding/binary"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/wgboot/wgboot/board"
	"github.com/wgboot/wgboot/internal/keyscan"
	"github.com/wgboot/wgboot/netsetup"
	"github.com/wgboot/wgboot/netsetup/internal/nl"
	"github.com/wgboot/wgboot/netsetup/internal/nltest"
	"github.com/wgboot/wgboot/netsetup/wg"
)

// keySocket is a fake generic netlink socket that, unlike nltest's, keeps
// no copy of what it carries, and that hands the keys of the fake kernel's
// WG_CMD_GET_DEVICE replies (kept complemented, see fakeKernel.dumpKeys)
// to the client as the kernel does, in the clear, written straight into
// the client's receive buffer. After a bring-up over it, the only copies of
// a key in the process are those the code under test made.
type keySocket struct {
	fn nltest.Func

	mu    sync.Mutex
	queue [][]byte
}

func (s *keySocket) Send(b []byte) error {
	reqs, err := nl.ParseMessages(b)
	if err != nil {
		return err
	}
	// The requests are copies, and SET_DEVICE's carry keys.
	defer func() {
		for _, r := range reqs {
			clear(r.Data)
		}
	}()
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, req := range reqs {
		replies, err := s.fn(req)
		if err != nil {
			return err
		}
		var d []byte
		for _, m := range replies {
			if m.Seq == 0 {
				m.Seq = req.Seq
			}
			if m.PID == 0 {
				m.PID = nltest.PortID
			}
			if d, err = m.AppendBinary(d); err != nil {
				return err
			}
		}
		s.queue = append(s.queue, d)
	}
	return nil
}

func (s *keySocket) Receive(b []byte, deadline time.Time) (int, uint32, error) {
	s.mu.Lock()
	if len(s.queue) == 0 {
		s.mu.Unlock()
		time.Sleep(time.Until(deadline))
		return 0, 0, os.ErrDeadlineExceeded
	}
	d := s.queue[0]
	s.queue = s.queue[1:]
	s.mu.Unlock()
	n := copy(b, d)
	revealKeys(b[:n])
	return len(d), 0, nil
}

func (s *keySocket) Close() error { return nil }

// revealKeys complements, in place, the key attributes of the
// WG_CMD_GET_DEVICE replies in datagram b.
func revealKeys(b []byte) {
	for len(b) >= nl.HeaderLen {
		n := int(binary.NativeEndian.Uint32(b))
		if n < nl.HeaderLen || n > len(b) {
			return
		}
		if typ := binary.NativeEndian.Uint16(b[4:]); typ == testFamily && n > nl.HeaderLen+4 && b[nl.HeaderLen] == unix.WG_CMD_GET_DEVICE {
			eachAttr(b[nl.HeaderLen+4:n], func(typ uint16, v []byte) {
				switch typ {
				case unix.WGDEVICE_A_PRIVATE_KEY:
					flip(v)
				case unix.WGDEVICE_A_PEERS:
					eachAttr(v, func(_ uint16, peer []byte) {
						eachAttr(peer, func(typ uint16, v []byte) {
							if typ == unix.WGPEER_A_PRESHARED_KEY {
								flip(v)
							}
						})
					})
				}
			})
		}
		b = b[min((n+3)&^3, len(b)):]
	}
}

// eachAttr calls fn with each attribute's type and a view of its payload.
func eachAttr(b []byte, fn func(typ uint16, v []byte)) {
	for len(b) >= 4 {
		n := int(binary.NativeEndian.Uint16(b))
		if n < 4 || n > len(b) {
			return
		}
		fn(binary.NativeEndian.Uint16(b[2:])&^(unix.NLA_F_NESTED|unix.NLA_F_NET_BYTEORDER), b[4:n])
		b = b[min((n+3)&^3, len(b)):]
	}
}

func flip(b []byte) {
	for i := range b {
		b[i] = ^b[i]
	}
}

// secretsProfile is a client profile whose keys are in files or inline
// ({{KEY n}}, see keyscan.Template); two peers have preshared keys.
const secretsProfile = `[board]
name = "secrets"

[uplink]
interface = "eth0"
address = ["192.0.2.2/24"]

[[tunnel]]
name = "wg0"
%PRIVATE%
listen_port = 51820
address = ["10.77.0.2/24"]
table = "main"

[[tunnel.peer]]
public_key = "xkSiuuwzFSr9eB4uyyHVhGU4hlPxfL8VN1fLD/W8J2c="
%PSK1%
endpoint = "192.0.2.1:51820"
allowed_ips = ["10.77.0.0/24", "fd77::/64"]
persistent_keepalive = 25

[[tunnel.peer]]
public_key = "pNtbHkZpvG0iJ9WwOD2vcYNf9/0i7LCR0CBrj/QtrSE="
%PSK2%
endpoint = "192.0.2.3:51820"
allowed_ips = ["10.78.0.0/24"]

[handoff]
wait_handshake = "3s"
on_failure = "shell"
`

// TestNoKeyLeftInMemory runs a boot's bring-up of a tunnel as PID 1 does,
// each step on a goroutine of its own (init's phases): the profile is
// loaded and its key files read, the tunnel configured, read back, and
// waited for until the handshake times out; the profile is wiped. Then the
// process's whole memory — heap, freed memory, the stacks of the
// goroutines that ran the steps — holds no copy of the private key or of
// a preshared key, in any form. The fake kernel reports the keys in its
// dumps, as the kernel does; once with key files, once with the keys
// inline in the profile, and once with a kernel that refuses the keys.
func TestNoKeyLeftInMemory(t *testing.T) {
	for _, tc := range []struct {
		name    string
		inline  bool
		failSet bool
	}{
		{"key files", false, false},
		{"inline keys", true, false},
		{"kernel refuses", false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var keys []*keyscan.Key
			for range 3 {
				k, err := keyscan.New()
				if err != nil {
					t.Fatal(err)
				}
				keys = append(keys, k)
			}
			dir := t.TempDir()
			text := secretsProfile
			for i, f := range []struct{ field, file string }{{"private_key", "wg0.key"}, {"preshared_key", "hub.psk"}, {"preshared_key", "other.psk"}} {
				line := f.field + `_file = "` + f.file + `"`
				if tc.inline {
					line = f.field + ` = "{{KEY ` + string(rune('0'+i)) + `}}"`
				} else if err := keys[i].WriteFile(filepath.Join(dir, f.file)); err != nil {
					t.Fatal(err)
				}
				text = replaceOnce(text, []string{"%PRIVATE%", "%PSK1%", "%PSK2%"}[i], line)
			}
			if err := keyscan.Template(filepath.Join(dir, "board.toml"), text, keys...); err != nil {
				t.Fatal(err)
			}

			k := newFakeKernel(t, fakeLink{name: "eth0", up: true, mtu: 1500})
			k.dumpKeys, k.failSet = true, tc.failSet
			c, err := wg.NewClient(nl.NewConn(&keySocket{fn: nltest.ServeFamily("wireguard", testFamily, k.serveWG)}))
			if err != nil {
				t.Fatal(err)
			}
			n := &Net{RT: netsetup.NewHandle(nltest.Dial(k.serveRT)), WG: c, Log: testLog{t}}
			defer n.RT.Close()
			defer n.WG.Close()

			var p *board.Profile
			phase(func() {
				var ds board.Diagnostics
				p, ds = board.Load(os.DirFS(dir), "board.toml")
				if err := ds.Err(); err != nil {
					t.Errorf("Load() = %v", err)
				}
			})
			if p == nil {
				t.FailNow()
			}
			tun := &p.Tunnels[0]
			since := time.Now()
			var res Tunnel
			phase(func() { res, err = n.TunnelUp(tun) })
			if tc.failSet {
				if err == nil {
					t.Error("TunnelUp() into a kernel that refuses the keys succeeded")
				}
			} else {
				if err != nil {
					t.Fatalf("TunnelUp() error = %v", err)
				}
				k.mu.Lock()
				k.devices["wg0"].pub = res.PublicKey
				k.mu.Unlock()
				// The fake models keys and peers, not every field of a
				// device: what matters here is the read of the keys.
				phase(func() { n.Verify(res) })
				phase(func() {
					ctx, cancel := context.WithTimeout(context.Background(), 350*time.Millisecond)
					defer cancel()
					if _, _, err := n.Handshakes(ctx, tun, since); err == nil {
						t.Error("Handshakes() with no peer answering succeeded")
					}
					if _, err := n.WG.Device("wg0"); err != nil {
						t.Errorf("Device() error = %v", err)
					}
				})
			}
			p.Wipe()

			runtime.GC()
			runtime.GC()
			// PID 1 takes signals (SIGCHLD, the runtime's
			// SIGURG): each saves a thread's registers in memory.
			signalThreads(t)
			hits, err := keyscan.Scan(keys...)
			if err != nil {
				t.Fatal(err)
			}
			for _, h := range hits {
				t.Errorf("%s still in memory: %v", []string{"private key", "preshared key 1", "preshared key 2"}[h.Key], h)
			}
		})
	}
}

// signalThreads sends SIGURG to every thread of the process.
func signalThreads(t *testing.T) {
	ents, err := os.ReadDir("/proc/self/task")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		tid, _ := strconv.Atoi(e.Name())
		unix.Tgkill(os.Getpid(), tid, unix.SIGURG)
	}
	time.Sleep(10 * time.Millisecond)
}

// secretsSetup writes a profile and its keys into a new directory (key
// files, or inline keys) and returns it with its keys, and a bring-up
// served by a fake kernel that reports the keys in its dumps.
func secretsSetup(t *testing.T, inline bool) (string, []*keyscan.Key, *fakeKernel, *Net) {
	t.Helper()
	var keys []*keyscan.Key
	for range 3 {
		k, err := keyscan.New()
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, k)
	}
	dir := t.TempDir()
	text := secretsProfile
	for i, f := range []struct{ field, file string }{{"private_key", "wg0.key"}, {"preshared_key", "hub.psk"}, {"preshared_key", "other.psk"}} {
		line := f.field + `_file = "` + f.file + `"`
		if inline {
			line = f.field + ` = "{{KEY ` + strconv.Itoa(i) + `}}"`
		} else if err := keys[i].WriteFile(filepath.Join(dir, f.file)); err != nil {
			t.Fatal(err)
		}
		text = strings.Replace(text, []string{"%PRIVATE%", "%PSK1%", "%PSK2%"}[i], line, 1)
	}
	if err := keyscan.Template(filepath.Join(dir, "board.toml"), text, keys...); err != nil {
		t.Fatal(err)
	}
	k := newFakeKernel(t, fakeLink{name: "eth0", up: true, mtu: 1500})
	k.dumpKeys = true
	c, err := wg.NewClient(nl.NewConn(&keySocket{fn: nltest.ServeFamily("wireguard", testFamily, k.serveWG)}))
	if err != nil {
		t.Fatal(err)
	}
	n := &Net{RT: netsetup.NewHandle(nltest.Dial(k.serveRT)), WG: c, Log: testLog{t}}
	t.Cleanup(func() { n.RT.Close(); n.WG.Close() })
	return dir, keys, k, n
}

// checkNoKey fails the test if the process's memory holds one of keys.
func checkNoKey(t *testing.T, when string, keys []*keyscan.Key) {
	t.Helper()
	hits, err := keyscan.Scan(keys...)
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range hits {
		t.Errorf("%s: %s still in memory: %v", when, []string{"the private key", "preshared key 1", "preshared key 2"}[h.Key], h)
	}
}

// TestNoKeyLeftInRegisters checks what each step of a bring-up leaves in
// the vector registers of the thread that ran it. Registers are not
// memory, but every signal the thread takes later — the runtime's SIGURG,
// SIGCHLD from the rescue shell — copies them into it (the kernel saves
// them in the signal frame, the runtime's asynchronous preemption on the
// goroutine's stack), where they stay; and a copy (runtime.memmove) leaves
// the last bytes it moved in them, often a key or the tail of a netlink
// message that holds one. The QEMU rescue test found a preshared key in
// PID 1 that way, now and then. Here each step runs on the test's own,
// locked, thread and the registers are read right after it.
func TestNoKeyLeftInRegisters(t *testing.T) {
	if !keyscan.HasRegisters {
		t.Skip("no vector registers to read on " + runtime.GOARCH)
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	check := func(step string, keys []*keyscan.Key, regs []byte) {
		t.Helper()
		for i, k := range keys {
			if forms := k.In(regs); len(forms) > 0 {
				t.Errorf("after %s, the registers hold %s (%v)", step, []string{"the private key", "preshared key 1", "preshared key 2"}[i], forms)
			}
		}
		clear(regs)
	}
	for _, inline := range []bool{false, true} {
		dir, keys, k, n := secretsSetup(t, inline)
		p, ds := board.Load(os.DirFS(dir), "board.toml")
		check("reading the profile", keys, keyscan.Registers())
		if err := ds.Err(); err != nil {
			t.Fatalf("Load() = %v", err)
		}
		tun := &p.Tunnels[0]
		tun.PublicKey()
		check("deriving the public key", keys, keyscan.Registers())

		if _, err := n.freshLink(tun.Name); err != nil {
			t.Fatal(err)
		}
		since := time.Now()
		cfg := DeviceConfig(tun)
		err := n.WG.Configure(tun.Name, cfg)
		check("configuring the device", keys, keyscan.Registers())
		if err != nil {
			t.Fatalf("Configure() error = %v", err)
		}
		res := Tunnel{Name: tun.Name, PublicKey: tun.PublicKey(), Expect: expectation(cfg)}
		p.Wipe()

		k.mu.Lock()
		k.devices["wg0"].pub = res.PublicKey
		k.mu.Unlock()
		n.WG.Device(tun.Name)
		check("reading the device", keys, keyscan.Registers())
		n.Verify(res)
		check("reading the device back", keys, keyscan.Registers())

		ctx, cancel := context.WithTimeout(context.Background(), 250*time.Millisecond)
		_, _, err = n.Handshakes(ctx, tun, since)
		check("waiting for handshakes", keys, keyscan.Registers())
		cancel()
		if err == nil {
			t.Error("Handshakes() with no peer answering succeeded")
		}
	}
}

// phase runs f on a goroutine of its own and waits for it, as init's
// phase runner does.
func phase(f func()) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		f()
	}()
	<-done
}

func replaceOnce(s, old, new string) string {
	for i := 0; i+len(old) <= len(s); i++ {
		if s[i:i+len(old)] == old {
			return s[:i] + new + s[i+len(old):]
		}
	}
	return s
}
