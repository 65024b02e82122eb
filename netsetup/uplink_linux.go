package netsetup

import (
	"context"
	"fmt"
	"net/netip"
	"time"

	"github.com/wgboot/wgboot/internal/errcap"
)

// Uplink is the static configuration of the underlay interface.
type Uplink struct {
	// Interface is the link's name, such as "eth0".
	Interface string
	// Addresses are host addresses with prefix lengths, e.g. 192.0.2.10/24.
	Addresses []netip.Prefix
	// Gateways are the default gateways, at most one per family.
	Gateways []netip.Addr
	// CarrierTimeout bounds the wait for carrier; 0 skips the wait.
	CarrierTimeout time.Duration
	// NoDAD adds the IPv6 addresses without duplicate address detection
	// (IFA_F_NODAD), usable at once: for links where DAD is pointless.
	NoDAD bool
	// DADTimeout bounds the wait, once the addresses and routes are set,
	// until none of the link's addresses is tentative (WaitDAD): while an
	// IPv6 address is, the kernel does not send from it, and a first
	// WireGuard handshake over it is lost and retried only after 5 s.
	// 0 skips the wait.
	DADTimeout time.Duration
}

// BringUpUplink brings the uplink up and configures it: link up, wait for
// carrier (bounded by u.CarrierTimeout and ctx), addresses, one default
// route per gateway in the main table, each in its own family, then the
// wait for duplicate address detection (bounded by u.DADTimeout and ctx).
//
// A missing carrier is logged and the configuration goes on, so that the
// link works when the cable comes; the returned error then says so. Address
// and route failures do not stop the other steps either: the errors are
// joined, at most 10 with a count of the rest. logf, which may be nil,
// receives one line per step.
func (h *Handle) BringUpUplink(ctx context.Context, u Uplink, logf func(format string, args ...any)) error {
	if logf == nil {
		logf = func(string, ...any) {}
	}
	if err := u.validate(); err != nil {
		return fmt.Errorf("uplink %s: %w", u.Interface, err)
	}
	l, err := h.LinkByName(u.Interface)
	if err != nil {
		return fmt.Errorf("uplink: %w", err)
	}
	if err := h.SetLinkUp(l.Index, true); err != nil {
		return fmt.Errorf("uplink %s: %w", u.Interface, err)
	}
	var errs errcap.List
	if u.CarrierTimeout > 0 {
		start := time.Now()
		cctx, cancel := context.WithTimeout(ctx, u.CarrierTimeout)
		err := h.WaitCarrier(cctx, l.Index)
		cancel()
		if err != nil {
			if ctx.Err() != nil {
				return fmt.Errorf("uplink %s: %w", u.Interface, err)
			}
			logf("uplink %s: no carrier within %v; configuring it anyway", u.Interface, u.CarrierTimeout)
			errs.Add(fmt.Errorf("uplink %s: %w", u.Interface, err))
		} else {
			logf("uplink %s: carrier after %v", u.Interface, time.Since(start).Round(time.Millisecond))
		}
	}
	var opts []AddressOption
	if u.NoDAD {
		opts = append(opts, NoDAD())
	}
	for _, p := range u.Addresses {
		var err error
		if p.Addr().Is6() {
			err = h.AddAddress(l.Index, p, opts...)
		} else {
			err = h.AddAddress(l.Index, p)
		}
		if err != nil {
			errs.Add(fmt.Errorf("uplink %s: %w", u.Interface, err))
			continue
		}
		logf("uplink %s: address %s", u.Interface, p)
	}
	for _, gw := range u.Gateways {
		if err := ctx.Err(); err != nil {
			errs.Add(fmt.Errorf("uplink %s: %w", u.Interface, err))
			break
		}
		r := Route{Dst: defaultPrefix(gw), Gateway: gw, OIF: l.Index}
		if err := h.ReplaceRoute(r); err != nil {
			errs.Add(fmt.Errorf("uplink %s: %w", u.Interface, err))
			continue
		}
		logf("uplink %s: default route via %s", u.Interface, gw)
	}
	if u.DADTimeout > 0 && ctx.Err() == nil {
		start := time.Now()
		dctx, cancel := context.WithTimeout(ctx, u.DADTimeout)
		err := h.WaitDAD(dctx, l.Index)
		cancel()
		if err != nil {
			logf("uplink %s: addresses not ready: %v", u.Interface, err)
			errs.Add(fmt.Errorf("uplink %s: %w", u.Interface, err))
		} else {
			logf("uplink %s: addresses ready after %v", u.Interface, time.Since(start).Round(time.Millisecond))
		}
	}
	return errs.Err()
}

// validate checks u before anything is sent.
func (u Uplink) validate() error {
	if err := ValidateLinkName(u.Interface); err != nil {
		return err
	}
	for _, p := range u.Addresses {
		if err := checkHostPrefix(p); err != nil {
			return fmt.Errorf("address: %w", err)
		}
	}
	var v4, v6 int
	for _, gw := range u.Gateways {
		switch {
		case !gw.IsValid() || gw.IsUnspecified():
			return fmt.Errorf("invalid gateway %s", gw)
		case gw.Is4():
			v4++
		default:
			v6++
		}
	}
	if v4 > 1 || v6 > 1 {
		return fmt.Errorf("%d IPv4 and %d IPv6 gateways: at most one per family", v4, v6)
	}
	return nil
}

// defaultPrefix returns the default route of a's family.
func defaultPrefix(a netip.Addr) netip.Prefix {
	if a.Is4() {
		return netip.PrefixFrom(netip.IPv4Unspecified(), 0)
	}
	return netip.PrefixFrom(netip.IPv6Unspecified(), 0)
}
