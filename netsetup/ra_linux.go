package netsetup

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// IPv6Router is what router advertisements gave a link: a global address
// that passed duplicate address detection and a default route.
type IPv6Router struct {
	// Addresses are the link's global IPv6 addresses that are usable:
	// neither tentative nor failed.
	Addresses []netip.Prefix
	// Gateway is the next hop of the link's default route in the main
	// table, a link-local address of the router.
	Gateway netip.Addr
}

// WaitIPv6Router waits until the link has a usable global IPv6 address
// and an IPv6 default route through it, as the kernel configures them
// from router advertisements (SLAAC, with accept_ra and autoconf set; see
// SetIPv6Conf), or until ctx ends; give ctx a deadline. An address still
// tentative does not count: the kernel does not send from it.
//
// It subscribes to IPv6 address and route events first and reads the
// link's state second, so that a change in between is not missed; it
// reads the state again after each batch of events, when events were
// lost, and every quarter second. On timeout the error says what is
// missing.
func (h *Handle) WaitIPv6Router(ctx context.Context, index int32) (IPv6Router, error) {
	what := fmt.Sprintf("wait for an IPv6 router on link %d", index)
	sub, err := h.subscribe(unix.RTNLGRP_IPV6_IFADDR, unix.RTNLGRP_IPV6_ROUTE)
	if err != nil {
		return IPv6Router{}, fmt.Errorf("%s: subscribe to address and route events: %w", what, err)
	}
	// Only notifications were read from this socket; a close error
	// changes nothing for the caller.
	defer sub.Close()
	start := time.Now()
	for {
		r, missing, err := h.ipv6Router(index)
		if err != nil {
			return IPv6Router{}, fmt.Errorf("%s: %w", what, err)
		}
		if missing == "" {
			return r, nil
		}
		if err := ctx.Err(); err != nil {
			return r, fmt.Errorf("%s: %s after %v: %w", what, missing, time.Since(start).Round(time.Millisecond), context.Cause(ctx))
		}
		deadline := time.Now().Add(carrierPoll)
		if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
			deadline = d
		}
		// An event, lost events (ENOBUFS), or a quarter second without
		// either: read the state again.
		_, err = sub.Receive(deadline)
		if err != nil && !errors.Is(err, unix.ENOBUFS) && !errors.Is(err, os.ErrDeadlineExceeded) {
			return IPv6Router{}, fmt.Errorf("%s: %w", what, err)
		}
	}
}

// ipv6Router reads what the link has; missing says what it lacks, "" if
// nothing.
func (h *Handle) ipv6Router(index int32) (r IPv6Router, missing string, err error) {
	addrs, err := h.Addresses(index)
	if err != nil {
		return r, "", err
	}
	var tentative []string
	for _, a := range addrs {
		if ip := a.Prefix.Addr(); !ip.Is6() || a.Scope != unix.RT_SCOPE_UNIVERSE || ip.IsLinkLocalUnicast() || ip.IsLoopback() {
			continue
		}
		switch {
		case a.Flags&unix.IFA_F_DADFAILED != 0:
			tentative = append(tentative, a.Prefix.String()+" (duplicate)")
		case a.Flags&unix.IFA_F_TENTATIVE != 0 && a.Flags&unix.IFA_F_OPTIMISTIC == 0:
			tentative = append(tentative, a.Prefix.String()+" (tentative)")
		default:
			r.Addresses = append(r.Addresses, a.Prefix)
		}
	}
	routes, err := h.Routes(unix.AF_INET6, unix.RT_TABLE_MAIN)
	if err != nil {
		return r, "", err
	}
	for _, rt := range routes {
		if rt.Dst.Bits() == 0 && rt.OIF == index && rt.Gateway.IsValid() {
			r.Gateway = rt.Gateway
			break
		}
	}
	var lacks []string
	if len(r.Addresses) == 0 {
		s := "no global address"
		if len(tentative) > 0 {
			s += ": " + strings.Join(tentative, ", ")
		}
		lacks = append(lacks, s)
	}
	if !r.Gateway.IsValid() {
		lacks = append(lacks, "no default route")
	}
	return r, strings.Join(lacks, ", "), nil
}
