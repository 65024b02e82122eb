//go:build linux

package nl_test

import (
	"encoding/binary"
	"errors"
	"os"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/wgboot/wgboot/internal/netnstest"
	"github.com/wgboot/wgboot/netsetup/internal/nl"
)

// inNewNetNS runs fn in a fresh network namespace (netnstest.New), which
// lives until the test ends: sockets fn opens stay in it and may be used
// from any goroutine.
func inNewNetNS(t *testing.T, fn func() error) {
	t.Helper()
	if err := netnstest.New(t).Do(fn); err != nil {
		t.Fatal(err)
	}
}

// dialNS dials protocol in a fresh network namespace.
func dialNS(t *testing.T, protocol int) *nl.Conn {
	t.Helper()
	var c *nl.Conn
	inNewNetNS(t, func() error {
		var err error
		c, err = nl.Dial(protocol)
		return err
	})
	t.Cleanup(func() { c.Close() })
	if err := c.OptionsErr(); err != nil {
		t.Logf("best-effort socket options: %v", err)
	}
	return c
}

// ifinfomsg encodes a struct ifinfomsg with only the index set.
func ifinfomsg(index int32) []byte {
	b := make([]byte, unix.SizeofIfInfomsg)
	binary.NativeEndian.PutUint32(b[4:8], uint32(index))
	return b
}

// linkNames decodes IFLA_IFNAME from RTM_NEWLINK messages.
func linkNames(t *testing.T, msgs []nl.Message) []string {
	t.Helper()
	var names []string
	for _, m := range msgs {
		if m.Type != unix.RTM_NEWLINK {
			t.Errorf("reply type %d, want RTM_NEWLINK", m.Type)
			continue
		}
		_, attrs, err := nl.SplitPayload(m.Data, unix.SizeofIfInfomsg)
		if err != nil {
			t.Fatal(err)
		}
		ad := nl.NewAttrDecoder(attrs)
		for ad.Next() {
			if ad.Type() == unix.IFLA_IFNAME {
				names = append(names, ad.String())
			}
		}
		if err := ad.Err(); err != nil {
			t.Fatalf("decode RTM_NEWLINK: %v", err)
		}
	}
	return names
}

func TestIntegrationConn_dumpLinks(t *testing.T) {
	c := dialNS(t, unix.NETLINK_ROUTE)
	req := nl.Message{Header: nl.Header{Type: unix.RTM_GETLINK}, Data: ifinfomsg(0)}
	replies, err := c.ExecuteDump(req, "RTM_GETLINK")
	if err != nil {
		t.Fatalf("ExecuteDump(RTM_GETLINK) error = %v", err)
	}
	names := linkNames(t, replies)
	if len(names) != 1 || names[0] != "lo" {
		t.Errorf("links in a new namespace = %q, want [lo]", names)
	}
}

func TestIntegrationConn_getWithAck(t *testing.T) {
	// A non-dump GET with NLM_F_ACK gets a reply and a separate ACK; the
	// ACK must be drained so the next request is not confused.
	c := dialNS(t, unix.NETLINK_ROUTE)
	for range 3 {
		req := nl.Message{Header: nl.Header{Type: unix.RTM_GETLINK, Flags: unix.NLM_F_ACK}, Data: ifinfomsg(1)}
		replies, err := c.Execute(req, "RTM_GETLINK")
		if err != nil {
			t.Fatalf("Execute(RTM_GETLINK index 1) error = %v", err)
		}
		if names := linkNames(t, replies); len(names) != 1 || names[0] != "lo" {
			t.Fatalf("Execute(RTM_GETLINK index 1) = %q, want [lo]", names)
		}
	}
}

func TestIntegrationConn_extAck(t *testing.T) {
	// Creating a link of an unknown kind fails with EOPNOTSUPP and the
	// extended-ACK text "Unknown device type" (net/core/rtnetlink.c).
	c := dialNS(t, unix.NETLINK_ROUTE)
	var ae nl.AttrEncoder
	ae.String(unix.IFLA_IFNAME, "bogus0")
	ae.Nested(unix.IFLA_LINKINFO, func(ae *nl.AttrEncoder) error {
		ae.String(unix.IFLA_INFO_KIND, "no-such-kind")
		return nil
	})
	data, err := nl.Payload(ifinfomsg(0), &ae)
	if err != nil {
		t.Fatal(err)
	}
	req := nl.Message{
		Header: nl.Header{Type: unix.RTM_NEWLINK, Flags: unix.NLM_F_ACK | unix.NLM_F_CREATE | unix.NLM_F_EXCL},
		Data:   data,
	}
	_, err = c.Execute(req, "RTM_NEWLINK")
	if !errors.Is(err, unix.EOPNOTSUPP) {
		t.Fatalf("Execute(RTM_NEWLINK kind no-such-kind) error = %v, want EOPNOTSUPP", err)
	}
	var e *nl.Error
	if !errors.As(err, &e) || e.Message == "" {
		t.Errorf("Execute() error = %v, want extended-ACK text", err)
	}
	t.Logf("kernel said: %v", err)
}

func TestIntegrationConn_ResolveFamily(t *testing.T) {
	c := dialNS(t, unix.NETLINK_GENERIC)
	id, err := c.ResolveFamily("nlctrl")
	if err != nil || id != unix.GENL_ID_CTRL {
		t.Errorf("ResolveFamily(nlctrl) = %#x, %v; want %#x, nil", id, err, unix.GENL_ID_CTRL)
	}
	if id, err := c.ResolveFamily("no-such-family"); !errors.Is(err, unix.ENOENT) {
		t.Errorf("ResolveFamily(no-such-family) = %#x, %v; want ENOENT", id, err)
	}
}

func TestIntegrationConn_timeout(t *testing.T) {
	// A request without NLM_F_ACK that produces no reply must time out.
	c := dialNS(t, unix.NETLINK_ROUTE)
	c.SetDeadline(time.Now().Add(100 * time.Millisecond))
	req := nl.Message{Header: nl.Header{Type: unix.RTM_SETLINK}, Data: ifinfomsg(1)}
	if _, err := c.Execute(req, "RTM_SETLINK"); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Errorf("Execute() error = %v, want os.ErrDeadlineExceeded", err)
	}
	// Past the deadline nothing is sent; without it the connection is
	// still usable.
	req = nl.Message{Header: nl.Header{Type: unix.RTM_GETLINK}, Data: ifinfomsg(1)}
	if _, err := c.Execute(req, "RTM_GETLINK"); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Errorf("Execute() after the deadline error = %v, want os.ErrDeadlineExceeded", err)
	}
	c.SetDeadline(time.Time{})
	if _, err := c.Execute(req, "RTM_GETLINK"); err != nil {
		t.Errorf("Execute() after a timeout error = %v", err)
	}
}

func TestIntegrationSubscribe_link(t *testing.T) {
	var (
		c   *nl.Conn
		sub *nl.Subscription
	)
	inNewNetNS(t, func() error {
		var err error
		if sub, err = nl.Subscribe(unix.NETLINK_ROUTE, unix.RTNLGRP_LINK); err != nil {
			return err
		}
		c, err = nl.Dial(unix.NETLINK_ROUTE)
		return err
	})
	t.Cleanup(func() { c.Close(); sub.Close() })

	// Nothing happens yet: Receive honours its deadline.
	if _, err := sub.Receive(time.Now().Add(50 * time.Millisecond)); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("Receive() on a quiet namespace error = %v, want os.ErrDeadlineExceeded", err)
	}

	// Set lo up; RTNLGRP_LINK reports it.
	hdr := ifinfomsg(1)
	binary.NativeEndian.PutUint32(hdr[8:12], unix.IFF_UP)  // ifi_flags
	binary.NativeEndian.PutUint32(hdr[12:16], unix.IFF_UP) // ifi_change
	req := nl.Message{Header: nl.Header{Type: unix.RTM_NEWLINK, Flags: unix.NLM_F_ACK}, Data: hdr}
	if _, err := c.Execute(req, "RTM_NEWLINK"); err != nil {
		t.Fatalf("set lo up: %v", err)
	}
	msgs, err := sub.Receive(time.Now().Add(2 * time.Second))
	if err != nil {
		t.Fatalf("Receive() error = %v", err)
	}
	if names := linkNames(t, msgs); len(names) == 0 || names[0] != "lo" {
		t.Errorf("notification names = %q, want lo", names)
	}
}

// TestIntegrationConn_ExecuteBatch adds 5,000 routes through lo in batches,
// one of them through a gateway that cannot be reached: the kernel refuses
// that one with its extended ACK, applies all the others, and a dump finds
// them.
func TestIntegrationConn_ExecuteBatch(t *testing.T) {
	c := dialNS(t, unix.NETLINK_ROUTE)
	// Routes need their link up.
	hdr := ifinfomsg(1)
	binary.NativeEndian.PutUint32(hdr[8:12], unix.IFF_UP)
	binary.NativeEndian.PutUint32(hdr[12:16], unix.IFF_UP)
	if _, err := c.Execute(nl.Message{Header: nl.Header{Type: unix.RTM_NEWLINK, Flags: unix.NLM_F_ACK}, Data: hdr}, "RTM_NEWLINK"); err != nil {
		t.Fatalf("set lo up: %v", err)
	}
	const (
		n     = 5000
		bad   = 2345
		table = 100
	)
	route := func(i int, gateway bool) nl.Message {
		var ae nl.AttrEncoder
		ae.Bytes(unix.RTA_DST, []byte{10, byte(i >> 16), byte(i >> 8), byte(i)})
		scope := uint8(unix.RT_SCOPE_LINK)
		if gateway {
			ae.Bytes(unix.RTA_GATEWAY, []byte{203, 0, 113, 1})
			scope = unix.RT_SCOPE_UNIVERSE
		}
		ae.Uint32(unix.RTA_OIF, 1)
		data, err := nl.Payload([]byte{unix.AF_INET, 32, 0, 0, table, unix.RTPROT_BOOT, scope, unix.RTN_UNICAST, 0, 0, 0, 0}, &ae)
		if err != nil {
			t.Fatal(err)
		}
		return nl.Message{Header: nl.Header{Type: unix.RTM_NEWROUTE, Flags: unix.NLM_F_CREATE | unix.NLM_F_REPLACE}, Data: data}
	}
	reqs := make([]nl.Message, n)
	for i := range reqs {
		reqs[i] = route(i, i == bad)
	}
	start := time.Now()
	errs := c.ExecuteBatch(reqs, "RTM_NEWROUTE")
	t.Logf("%d routes in %v", n, time.Since(start))
	if len(errs) != n {
		t.Fatalf("ExecuteBatch() = %d outcomes, want %d with one error", len(errs), n)
	}
	for i, err := range errs {
		if i != bad && err != nil {
			t.Errorf("route %d: %v", i, err)
		}
	}
	var e *nl.Error
	if !errors.Is(errs[bad], unix.ENETUNREACH) || !errors.As(errs[bad], &e) || e.Message == "" || e.Seq == 0 {
		t.Errorf("route %d via 203.0.113.1: %v, want ENETUNREACH with the kernel's text", bad, errs[bad])
	}
	t.Logf("kernel said: %v", errs[bad])

	var ae nl.AttrEncoder
	ae.Uint32(unix.RTA_TABLE, table)
	data, err := nl.Payload([]byte{unix.AF_INET, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, &ae)
	if err != nil {
		t.Fatal(err)
	}
	replies, err := c.ExecuteDump(nl.Message{Header: nl.Header{Type: unix.RTM_GETROUTE}, Data: data}, "RTM_GETROUTE")
	if err != nil {
		t.Fatal(err)
	}
	found := 0
	for _, m := range replies {
		if m.Type == unix.RTM_NEWROUTE && m.Data[4] == table {
			found++
		}
	}
	if found != n-1 {
		t.Errorf("table %d holds %d routes, want %d", table, found, n-1)
	}
}
