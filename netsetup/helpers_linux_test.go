package netsetup

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"maps"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/wgboot/wgboot/internal/netnstest"
	"github.com/wgboot/wgboot/netsetup/internal/nl"
	"github.com/wgboot/wgboot/netsetup/internal/nltest"
)

var update = flag.Bool("update", false, "rewrite golden files under testdata from the current code")

// skipBigEndian skips byte-table tests on big-endian hosts: the vectors are
// little-endian, like both wgboot targets.
func skipBigEndian(t testing.TB) {
	t.Helper()
	if binary.NativeEndian.Uint16([]byte{1, 0}) != 1 {
		t.Skip("skipping, byte vectors are little-endian")
	}
}

// linkMessage encodes l as the kernel's RTM_NEWLINK reply or notification.
func linkMessage(t testing.TB, typ uint16, l Link) nl.Message {
	t.Helper()
	fixed := ifinfomsg(l.Index, l.Flags, 0)
	binary.NativeEndian.PutUint16(fixed[2:4], l.Type)
	var ae nl.AttrEncoder
	ae.String(unix.IFLA_IFNAME, l.Name)
	ae.Uint32(unix.IFLA_MTU, l.MTU)
	ae.Uint8(unix.IFLA_OPERSTATE, l.OperState)
	if l.MAC != [6]byte{} {
		ae.Bytes(unix.IFLA_ADDRESS, l.MAC[:])
	}
	if l.Kind != "" {
		ae.Nested(unix.IFLA_LINKINFO, func(li *nl.AttrEncoder) error {
			li.String(unix.IFLA_INFO_KIND, l.Kind)
			return nil
		})
	}
	m, err := message(typ, 0, fixed, &ae)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// kernel is a fake rtnetlink kernel with a table of links. GETLINK by name
// or index answers from the table (ENODEV if absent), GETLINK dumps list
// it, other dumps are empty, and everything else is ACKed. Handlers in on
// override a message type. It also records a transcript.
type kernel struct {
	t  testing.TB
	mu sync.Mutex
	// links by index.
	links map[int32]Link
	// on overrides the answer to a message type; nil falls back.
	on map[uint16]nltest.Func
	// transcript has one line per request and reply.
	transcript bytes.Buffer
	reqs       []nl.Message
	// sock is the socket of the last Handle from handle.
	sock *nltest.Socket
}

// newKernel returns a fake kernel knowing links.
func newKernel(t testing.TB, links ...Link) *kernel {
	k := &kernel{t: t, links: make(map[int32]Link), on: make(map[uint16]nltest.Func)}
	for _, l := range links {
		k.links[l.Index] = l
	}
	return k
}

// handle returns a Handle served by k.
func (k *kernel) handle() *Handle {
	k.sock = nltest.NewSocket(k.serve)
	return NewHandle(nl.NewConn(k.sock))
}

// setLink adds or replaces a link.
func (k *kernel) setLink(l Link) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.links[l.Index] = l
}

// requests returns the requests served so far.
func (k *kernel) requests() []nl.Message {
	k.mu.Lock()
	defer k.mu.Unlock()
	return append([]nl.Message{}, k.reqs...)
}

// Transcript returns the transcript so far.
func (k *kernel) Transcript() string {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.transcript.String()
}

func (k *kernel) serve(req nl.Message) ([]nl.Message, error) {
	replies, err := k.answer(req)
	k.mu.Lock()
	defer k.mu.Unlock()
	k.reqs = append(k.reqs, req)
	k.transcript.WriteString("> ")
	nltest.Fprint(&k.transcript, req)
	for _, r := range replies {
		if r.Seq == 0 {
			r.Seq = req.Seq
		}
		k.transcript.WriteString("< ")
		nltest.Fprint(&k.transcript, r)
	}
	if err != nil {
		fmt.Fprintf(&k.transcript, "! %v\n", err)
	}
	return replies, err
}

func (k *kernel) answer(req nl.Message) ([]nl.Message, error) {
	k.mu.Lock()
	fn := k.on[req.Type]
	k.mu.Unlock()
	if fn != nil {
		return fn(req)
	}
	dump := req.Flags&unix.NLM_F_DUMP == unix.NLM_F_DUMP
	switch {
	case req.Type == unix.RTM_GETLINK && dump:
		k.mu.Lock()
		var msgs []nl.Message
		for _, i := range slices.Sorted(maps.Keys(k.links)) {
			msgs = append(msgs, linkMessage(k.t, unix.RTM_NEWLINK, k.links[i]))
		}
		k.mu.Unlock()
		return nltest.Dump(req, msgs...), nil
	case req.Type == unix.RTM_GETLINK:
		l, ok := k.lookup(req)
		if !ok {
			return nltest.Errno(req, unix.ENODEV, ""), nil
		}
		return []nl.Message{linkMessage(k.t, unix.RTM_NEWLINK, l)}, nil
	case req.Type == unix.RTM_NEWLINK && req.Flags&unix.NLM_F_EXCL != 0:
		// As the kernel: creating a link whose name is taken changes
		// nothing and fails.
		if _, ok := k.lookup(req); ok {
			return nltest.Errno(req, unix.EEXIST, ""), nil
		}
	case dump:
		return nltest.Dump(req), nil
	}
	return nltest.Ack(req), nil
}

// lookup finds the link a GETLINK request names.
func (k *kernel) lookup(req nl.Message) (Link, bool) {
	fixed, attrs, err := nl.SplitPayload(req.Data, unix.SizeofIfInfomsg)
	if err != nil {
		return Link{}, false
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if index := int32(binary.NativeEndian.Uint32(fixed[4:8])); index != 0 {
		l, ok := k.links[index]
		return l, ok
	}
	ad := nl.NewAttrDecoder(attrs)
	for ad.Next() {
		if ad.Type() == unix.IFLA_IFNAME {
			name := ad.String()
			for _, l := range k.links {
				if l.Name == name {
					return l, true
				}
			}
		}
	}
	return Link{}, false
}

// d0 is the link most fake-kernel tests use.
var d0 = Link{Index: 2, Name: "d0", Kind: "dummy", Type: unix.ARPHRD_ETHER, MTU: 1500,
	Flags: unix.IFF_BROADCAST | unix.IFF_NOARP}

// checkGolden compares got with testdata/name, or rewrites the file with
// -update.
func checkGolden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs (-want +got):\n%s", path, lineDiff(string(want), got))
	}
}

// lineDiff is a minimal line diff: the lines only in want (-) and only in
// got (+), in order.
func lineDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	var sb strings.Builder
	i, j := 0, 0
	for i < len(w) || j < len(g) {
		switch {
		case i < len(w) && j < len(g) && w[i] == g[j]:
			i++
			j++
		case i < len(w) && !contains(g[j:], w[i]):
			fmt.Fprintf(&sb, "-%s\n", w[i])
			i++
		case j < len(g):
			fmt.Fprintf(&sb, "+%s\n", g[j])
			j++
		default:
			fmt.Fprintf(&sb, "-%s\n", w[i])
			i++
		}
	}
	return sb.String()
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

// readHex reads an annotated hex file: '#' starts a comment, whitespace is
// ignored.
func readHex(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var sb strings.Builder
	for line := range strings.SplitSeq(string(b), "\n") {
		line, _, _ = strings.Cut(line, "#")
		sb.WriteString(strings.Join(strings.Fields(line), ""))
	}
	out, err := hex.DecodeString(sb.String())
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return out, nil
}

// pfx parses a prefix or fails the test.
func pfx(t testing.TB, s string) netip.Prefix {
	t.Helper()
	p, err := netip.ParsePrefix(s)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// addr parses an address or fails the test.
func addr(t testing.TB, s string) netip.Addr {
	t.Helper()
	a, err := netip.ParseAddr(s)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// netNS is a fresh network namespace (netnstest.NS) that can open a
// Handle inside it.
type netNS struct{ *netnstest.NS }

// newNetNS creates a namespace for the test, closed at cleanup; it skips
// the test unless root.
func newNetNS(t testing.TB) *netNS { return &netNS{netnstest.New(t)} }

// handle opens a Handle in the namespace, closed at cleanup; its
// WaitCarrier subscribes inside the namespace too.
func (ns *netNS) handle(t testing.TB) *Handle {
	t.Helper()
	var h *Handle
	if err := ns.Do(func() (err error) {
		h, err = Open()
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if err := h.OptionsErr(); err != nil {
		t.Logf("best-effort socket options: %v", err)
	}
	h.subscribe = func(groups ...uint32) (s *nl.Subscription, err error) {
		err = ns.Do(func() error {
			s, err = subscribe(groups...)
			return err
		})
		return s, err
	}
	t.Cleanup(func() { h.Close() })
	return h
}

// eventSocket is a fake notification socket: tests push datagrams, or an
// error such as ENOBUFS, with send.
type eventSocket struct {
	ch     chan event
	closed chan struct{}
	once   sync.Once
}

type event struct {
	b   []byte
	err error
}

func newEventSocket() *eventSocket {
	return &eventSocket{ch: make(chan event, 16), closed: make(chan struct{})}
}

// send queues a datagram holding msgs.
func (s *eventSocket) send(t testing.TB, msgs ...nl.Message) {
	t.Helper()
	var b []byte
	for _, m := range msgs {
		var err error
		if b, err = m.AppendBinary(b); err != nil {
			t.Fatal(err)
		}
	}
	s.ch <- event{b: b}
}

func (s *eventSocket) Send([]byte) error { return errors.New("eventSocket: send") }

func (s *eventSocket) Receive(b []byte, deadline time.Time) (int, uint32, error) {
	timer := time.NewTimer(time.Until(deadline))
	defer timer.Stop()
	select {
	case e := <-s.ch:
		if e.err != nil {
			return 0, 0, e.err
		}
		return copy(b, e.b), 0, nil
	case <-timer.C:
		return 0, 0, os.ErrDeadlineExceeded
	case <-s.closed:
		return 0, 0, os.ErrClosed
	}
}

func (s *eventSocket) Close() error {
	s.once.Do(func() { close(s.closed) })
	return nil
}
