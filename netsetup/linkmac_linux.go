package netsetup

import (
	"errors"
	"fmt"
	"strings"
)

// ErrNoSuchMAC is returned by LinkByMAC when no link has the address.
var ErrNoSuchMAC = errors.New("no link has this hardware address")

// LinkByMAC returns the link whose permanent hardware address
// (PermanentAddr) is mac; where no link has it as its permanent address,
// the link whose current address is mac and that has no permanent one (a
// driver that reads none from the hardware, such as virtio-net without a
// MAC from the host). A NIC whose permanent address differs is not chosen
// even when its current address was changed to mac: the permanent address
// is what stays when kernel names and addresses move. Several links with
// the address, by the same rule, are an error, as is none; both errors
// list the links and their addresses.
func (h *Handle) LinkByMAC(mac [6]byte) (Link, error) {
	links, err := h.Links()
	if err != nil {
		return Link{}, err
	}
	return matchMAC(links, mac, PermanentAddr)
}

// matchMAC is LinkByMAC's choice among links; perm returns a link's
// permanent address.
func matchMAC(links []Link, mac [6]byte, perm func(name string) ([]byte, error)) (Link, error) {
	var byPerm, byCurrent []Link
	var seen []string
	var errs []error
	for _, l := range links {
		if l.MAC == ([6]byte{}) {
			continue // no Ethernet address: loopback, wireguard, tunnels
		}
		p, err := perm(l.Name)
		if err != nil {
			// Without it, the current address is all there is to go by.
			errs = append(errs, err)
			p = nil
		}
		hasPerm := len(p) == len(mac) && [6]byte(p) != [6]byte{}
		switch {
		case hasPerm && [6]byte(p) == mac:
			byPerm = append(byPerm, l)
		case !hasPerm && l.MAC == mac:
			byCurrent = append(byCurrent, l)
		}
		if hasPerm {
			seen = append(seen, fmt.Sprintf("%s %s (permanent; now %s)", l.Name, macString(p), macString(l.MAC[:])))
		} else {
			seen = append(seen, fmt.Sprintf("%s %s", l.Name, macString(l.MAC[:])))
		}
	}
	want := macString(mac[:])
	for _, found := range [][]Link{byPerm, byCurrent} {
		switch len(found) {
		case 0:
			continue
		case 1:
			return found[0], nil
		}
		names := make([]string, len(found))
		for i, l := range found {
			names[i] = l.Name
		}
		return Link{}, fmt.Errorf("links %s all have the address %s: which is the uplink is ambiguous", strings.Join(names, ", "), want)
	}
	list := "none with an Ethernet address"
	if len(seen) > 0 {
		list = strings.Join(seen, ", ")
	}
	err := fmt.Errorf("%w %s (links: %s)", ErrNoSuchMAC, want, list)
	return Link{}, errors.Join(append([]error{err}, errs...)...)
}

// macString formats a hardware address as colon-separated hex bytes,
// without package net, which /init does not otherwise need. Not inlined
// (netsetup is, for its per-route code): its four copies, each with its
// appends' growth paths, cost /init 0.8 KB xz on amd64, 0.6 KB on arm64.
//
//go:noinline
func macString(b []byte) string {
	const hex = "0123456789abcdef"
	out := make([]byte, 0, 3*len(b))
	for i, c := range b {
		if i > 0 {
			out = append(out, ':')
		}
		out = append(out, hex[c>>4], hex[c&0xf])
	}
	return string(out)
}
