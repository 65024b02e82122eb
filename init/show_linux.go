package main

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/wgboot/wgboot/netsetup"
	"github.com/wgboot/wgboot/netsetup/wg"
)

// showWG is `wgboot show [INTERFACE...]`: the WireGuard devices as the
// kernel has them, read over generic netlink, in the manner of `wg show`.
// The kernel never hands out private or preshared keys, and Device holds
// none; only whether they are set is shown.
func showWG(stdout, stderr io.Writer, args []string) int {
	for _, a := range args {
		if strings.HasPrefix(a, "-") {
			fmt.Fprintln(stderr, "usage: wgboot show [INTERFACE...]")
			return 2
		}
	}
	names := args
	if len(names) == 0 {
		var err error
		if names, err = wireGuardLinks(); err != nil {
			fmt.Fprintln(stderr, "wgboot show:", err)
			return 1
		}
		if len(names) == 0 {
			fmt.Fprintln(stderr, "wgboot show: no WireGuard interfaces")
			return 0
		}
	}
	c, err := wg.Open()
	if err != nil {
		if errors.Is(err, wg.ErrNotLoaded) {
			fmt.Fprintln(stderr, "wgboot show: the wireguard module is not loaded")
		} else {
			fmt.Fprintln(stderr, "wgboot show:", err)
		}
		return 1
	}
	defer c.Close()
	code := 0
	now := time.Now()
	for i, name := range names {
		d, err := c.Device(name)
		if err != nil {
			fmt.Fprintf(stderr, "wgboot show: %s: %v\n", name, err)
			code = 1
			continue
		}
		if i > 0 {
			fmt.Fprintln(stdout)
		}
		writeDevice(stdout, d, now)
	}
	return code
}

// wireGuardLinks returns the names of the WireGuard links, in the order of
// the kernel's dump (by index).
func wireGuardLinks() ([]string, error) {
	h, err := netsetup.Open()
	if err != nil {
		return nil, err
	}
	defer h.Close()
	links, err := h.Links()
	if err != nil {
		return nil, err
	}
	var names []string
	for _, l := range links {
		if l.Kind == "wireguard" {
			names = append(names, l.Name)
		}
	}
	return names, nil
}

// writeDevice prints one device: its own lines, then a paragraph per peer.
// now is the reference for "ago".
func writeDevice(w io.Writer, d *wg.Device, now time.Time) {
	fmt.Fprintf(w, "interface: %s\n", d.Name)
	if d.HasPrivateKey {
		fmt.Fprintf(w, "  public key: %s\n", d.PublicKey)
		fmt.Fprintf(w, "  private key: (hidden)\n")
	} else {
		fmt.Fprintf(w, "  public key: (none: no private key set)\n")
	}
	if d.ListenPort != 0 {
		fmt.Fprintf(w, "  listening port: %d\n", d.ListenPort)
	}
	if d.FirewallMark != 0 {
		fmt.Fprintf(w, "  fwmark: 0x%x\n", d.FirewallMark)
	}
	for _, p := range d.Peers {
		fmt.Fprintf(w, "\npeer: %s\n", p.PublicKey)
		if p.HasPresharedKey {
			fmt.Fprintf(w, "  preshared key: (hidden)\n")
		}
		if p.Endpoint.IsValid() {
			fmt.Fprintf(w, "  endpoint: %s\n", p.Endpoint)
		}
		ips := "(none)"
		if len(p.AllowedIPs) > 0 {
			s := make([]string, len(p.AllowedIPs))
			for i, ip := range p.AllowedIPs {
				s[i] = ip.String()
			}
			ips = strings.Join(s, ", ")
		}
		fmt.Fprintf(w, "  allowed ips: %s\n", ips)
		hs := "(none)"
		if !p.LastHandshake.IsZero() {
			hs = ago(now.Sub(p.LastHandshake))
		}
		fmt.Fprintf(w, "  latest handshake: %s\n", hs)
		if p.RxBytes != 0 || p.TxBytes != 0 {
			fmt.Fprintf(w, "  transfer: %s received, %s sent\n", byteSize(p.RxBytes), byteSize(p.TxBytes))
		}
		if p.PersistentKeepalive > 0 {
			fmt.Fprintf(w, "  persistent keepalive: every %s\n", duration(p.PersistentKeepalive))
		}
	}
}

// ago renders a past interval as "1 hour, 2 minutes, 3 seconds ago".
func ago(d time.Duration) string {
	if d < 0 {
		// The clock moved back since the handshake (an RTC-less board
		// setting its clock): say so rather than print a negative age.
		return "in the future (the clock went back)"
	}
	if d < time.Second {
		return "just now"
	}
	return duration(d) + " ago"
}

// duration renders d in whole seconds as days, hours, minutes and seconds,
// leaving out the zero parts.
func duration(d time.Duration) string {
	secs := int64(d / time.Second)
	units := []struct {
		name string
		size int64
	}{{"day", 86400}, {"hour", 3600}, {"minute", 60}, {"second", 1}}
	var parts []string
	for _, u := range units {
		n := secs / u.size
		secs %= u.size
		if n == 0 {
			continue
		}
		s := fmt.Sprintf("%d %s", n, u.name)
		if n != 1 {
			s += "s"
		}
		parts = append(parts, s)
	}
	if len(parts) == 0 {
		return "0 seconds"
	}
	return strings.Join(parts, ", ")
}

// byteSize renders n in B, KiB, MiB, GiB or TiB with two decimals above
// bytes.
func byteSize(n uint64) string {
	if n < 1024 {
		return fmt.Sprintf("%d B", n)
	}
	v := float64(n)
	for _, unit := range []string{"KiB", "MiB", "GiB", "TiB"} {
		v /= 1024
		if v < 1024 || unit == "TiB" {
			return fmt.Sprintf("%.2f %s", v, unit)
		}
	}
	panic("unreachable")
}
