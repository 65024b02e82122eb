package netsetup

import (
	"errors"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

func TestMatchMAC(t *testing.T) {
	mac := func(last byte) [6]byte { return [6]byte{0x52, 0x54, 0, 0x12, 0x34, last} }
	links := []Link{
		{Index: 1, Name: "lo"},
		{Index: 2, Name: "eth0", MAC: mac(0x01)},
		{Index: 3, Name: "eth1", MAC: mac(0x99)}, // permanent :02, changed
		{Index: 4, Name: "eth2", MAC: mac(0x03)}, // no permanent address
		{Index: 5, Name: "wg0"},
		{Index: 6, Name: "eth3", MAC: mac(0x04)}, // permanent :05, changed
	}
	slice := func(m [6]byte) []byte { return m[:] }
	perms := map[string][]byte{
		"lo":   make([]byte, 6),
		"eth0": slice(mac(0x01)),
		"eth1": slice(mac(0x02)),
		"eth2": make([]byte, 6),
		"wg0":  {},
		"eth3": slice(mac(0x05)),
	}
	perm := func(name string) ([]byte, error) { return perms[name], nil }
	for _, c := range []struct {
		mac     [6]byte
		want    string
		wantErr error
	}{
		{mac(0x01), "eth0", nil},
		{mac(0x02), "eth1", nil},      // by its permanent address, whatever it has now
		{mac(0x99), "", ErrNoSuchMAC}, // eth1's current address is not its identity
		{mac(0x03), "eth2", nil},      // no permanent address: the current one
		{mac(0x04), "", ErrNoSuchMAC}, // eth3 has another permanent address
		{mac(0x05), "eth3", nil},
		{[6]byte{}, "", ErrNoSuchMAC},
	} {
		l, err := matchMAC(links, c.mac, perm)
		if l.Name != c.want || !errors.Is(err, c.wantErr) {
			t.Errorf("matchMAC(%s) = %q, %v; want %q, %v", macString(c.mac[:]), l.Name, err, c.want, c.wantErr)
		}
	}
	_, err := matchMAC(links, mac(0x77), perm)
	if msg := err.Error(); !strings.Contains(msg, "eth1 52:54:00:12:34:02 (permanent; now 52:54:00:12:34:99)") ||
		!strings.Contains(msg, "eth2 52:54:00:12:34:03") || strings.Contains(msg, "wg0") {
		t.Errorf("the error lists the links badly: %v", err)
	}

	// Two links sharing an address without a permanent one: ambiguous.
	twins := append(links, Link{Index: 7, Name: "eth2.10", MAC: mac(0x03)})
	if _, err := matchMAC(twins, mac(0x03), perm); err == nil || !strings.Contains(err.Error(), "eth2, eth2.10") {
		t.Errorf("matchMAC with two links of one address = %v, want ambiguous", err)
	}
	// A permanent match wins over current-only ones.
	if l, err := matchMAC(append(links, Link{Index: 8, Name: "macvlan0", MAC: mac(0x05)}), mac(0x05), perm); l.Name != "eth3" || err != nil {
		t.Errorf("matchMAC = %q, %v; want eth3 by its permanent address", l.Name, err)
	}
	// The ioctl failing leaves the current address to go by, and the
	// error in the message when nothing matches.
	broken := func(string) ([]byte, error) { return nil, unix.EPERM }
	if l, err := matchMAC(links, mac(0x99), broken); l.Name != "eth1" || err != nil {
		t.Errorf("matchMAC without permanent addresses = %q, %v; want eth1", l.Name, err)
	}
	if _, err := matchMAC(links, mac(0x77), broken); !errors.Is(err, unix.EPERM) || !errors.Is(err, ErrNoSuchMAC) {
		t.Errorf("matchMAC = %v, want ErrNoSuchMAC and the ioctl's error", err)
	}
}

// TestIntegrationLinkByMAC: in a namespace, links without a permanent
// address are found by their current one.
func TestIntegrationLinkByMAC(t *testing.T) {
	t.Parallel()
	ns := newNetNS(t)
	h := ns.handle(t)
	d0 := newDummy(t, h, "d0")
	newDummy(t, h, "d1")
	d0, err := h.LinkByIndex(d0.Index)
	if err != nil {
		t.Fatal(err)
	}
	var got Link
	if err := ns.Do(func() (err error) { got, err = h.LinkByMAC(d0.MAC); return err }); err != nil {
		t.Fatal(err)
	}
	if got.Index != d0.Index {
		t.Errorf("LinkByMAC(%s) = %s, want d0", macString(d0.MAC[:]), got.Name)
	}
	err = ns.Do(func() error { _, err := h.LinkByMAC([6]byte{2, 0, 0, 0, 0, 1}); return err })
	if !errors.Is(err, ErrNoSuchMAC) {
		t.Errorf("LinkByMAC(unused) = %v, want ErrNoSuchMAC", err)
	}
}
