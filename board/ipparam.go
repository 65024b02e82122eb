package board

import (
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// UplinkOverride is what the kernel command line's ip= parameters say
// about the uplink, in dracut's syntax (dracut.cmdline(7)). It replaces
// the profile's addressing of the uplink: address, gateway, dhcp and
// accept_ra.
type UplinkOverride struct {
	Interface string // the device; "" keeps the profile's interface
	DHCP      bool   // ip=dhcp, on, any
	AcceptRA  bool   // ip=auto6
	Address   []netip.Prefix
	Gateway   []netip.Addr
	// DNS are the name servers of the static form's optional last two
	// fields (ip=…:none:DNS1:DNS2).
	DNS []netip.Addr
}

// parseNameserver reads a nameserver= value: an address, IPv6 with or
// without brackets.
func parseNameserver(value string) (netip.Addr, error) {
	s := strings.TrimSuffix(strings.TrimPrefix(value, "["), "]")
	a, err := netip.ParseAddr(s)
	if err != nil || a.Zone() != "" || a.IsUnspecified() || a.IsMulticast() {
		return netip.Addr{}, fmt.Errorf("nameserver=%s: not a name server's address", value)
	}
	return a.Unmap(), nil
}

// empty reports whether o says nothing.
func (o *UplinkOverride) empty() bool {
	return o.Interface == "" && !o.DHCP && !o.AcceptRA && len(o.Address) == 0 && len(o.Gateway) == 0 && len(o.DNS) == 0
}

// apply replaces p's addressing of the uplink with o; the error says why
// it cannot, and p is then left as it was.
func (o *UplinkOverride) apply(p *Profile) error {
	u := &p.Uplink
	if o.Interface == "" && u.Interface == "" {
		return errors.New("ip= names no device and the profile has no uplink: give ip=<device>:dhcp")
	}
	if !o.DHCP && !o.AcceptRA && len(o.Address) == 0 {
		return nil // only name servers
	}
	if o.Interface != "" {
		u.Interface = o.Interface
	}
	u.Address, u.Gateway = o.Address, o.Gateway
	u.DHCP, u.AcceptRA = o.DHCP, o.AcceptRA
	return nil
}

// parseIPParam reads one ip= value into o, which collects every ip= of
// the command line. A value it cannot use leaves o as it was and returns
// why; a field it ignores (an MTU, a MAC) is applied without and named in
// the error.
func parseIPParam(value string, o *UplinkOverride) error {
	f, err := splitIPFields(value)
	if err != nil {
		return fmt.Errorf("ip=%s: %w", value, err)
	}
	var one UplinkOverride
	var ignored error
	switch {
	case len(f) == 1:
		// ip=dhcp: the profile's interface.
		if err := one.method(f[0], false); err != nil {
			return fmt.Errorf("ip=%s: %w", value, err)
		}
	case methods[f[1]]:
		// ip=<interface>:<method>[:[<mtu>][:<macaddr>]]; the MAC has
		// colons of its own.
		if f[0] == "" {
			return fmt.Errorf("ip=%s: no interface before the method", value)
		}
		one.Interface = f[0]
		if err := one.method(f[1], false); err != nil {
			return fmt.Errorf("ip=%s: %w", value, err)
		}
		ignored = extraFields(f[2:], nil)
	case len(f) >= 7:
		// ip=<client-IP>:[<peer>]:<gateway-IP>:<netmask>:<client_hostname>:<interface>:<method>[:…]
		if err := one.static(f); err != nil {
			return fmt.Errorf("ip=%s: %w", value, err)
		}
		ignored = extraFields(f[7:], &one.DNS)
	default:
		return fmt.Errorf("ip=%s: want dhcp, <interface>:<method> or <client-IP>::<gateway-IP>:<netmask>::<interface>:none", value)
	}
	if o.Interface != "" && one.Interface != "" && o.Interface != one.Interface {
		return fmt.Errorf("ip=%s: device %s, but an earlier ip= names %s: one uplink", value, one.Interface, o.Interface)
	}
	if one.Interface != "" {
		o.Interface = one.Interface
	}
	o.DHCP = o.DHCP || one.DHCP
	o.AcceptRA = o.AcceptRA || one.AcceptRA
	o.Address = append(o.Address, one.Address...)
	o.Gateway = append(o.Gateway, one.Gateway...)
	o.DNS = append(o.DNS, one.DNS...)
	if ignored != nil {
		return fmt.Errorf("ip=%s: %w", value, ignored)
	}
	return nil
}

// methods are dracut's autoconfiguration methods, supported or not.
var methods = map[string]bool{"dhcp": true, "on": true, "any": true, "auto6": true, "none": true, "off": true,
	"dhcp6": true, "either6": true, "link6": true, "single-dhcp": true, "ibft": true}

// method reads dracut's autoconfiguration method. static allows none and
// off, which only the form with a client address has.
func (o *UplinkOverride) method(m string, static bool) error {
	switch m {
	case "dhcp", "on", "any":
		o.DHCP = true
	case "auto6":
		o.AcceptRA = true
	case "none", "off":
		if static {
			return nil
		}
		return fmt.Errorf("method %q needs a client address", m)
	case "":
		return errors.New("no method (dhcp, auto6, none)")
	default:
		return fmt.Errorf("method %q not supported (dhcp, on, any, auto6, none, off)", m)
	}
	return nil
}

// static reads the form with a client address.
func (o *UplinkOverride) static(f []string) error {
	client, peer, gw, mask, iface, method := f[0], f[1], f[2], f[3], f[5], f[6]
	a, err := ipField(client)
	if err != nil {
		return fmt.Errorf("client address: %w", err)
	}
	if iface == "" {
		return errors.New("no interface")
	}
	o.Interface = iface
	if method != "none" && method != "off" {
		return fmt.Errorf("method %q with a client address: want none or off", method)
	}
	if peer != "" {
		return fmt.Errorf("peer %s: point-to-point uplinks are not supported", peer)
	}
	if a.IsUnspecified() || a.IsMulticast() || a.Is4In6() {
		return fmt.Errorf("client address %s is not a host address", a)
	}
	bits, err := maskField(mask, a)
	if err != nil {
		return err
	}
	o.Address = []netip.Prefix{netip.PrefixFrom(a, bits)}
	if gw != "" {
		g, err := ipField(gw)
		if err != nil {
			return fmt.Errorf("gateway: %w", err)
		}
		if g.Is4() != a.Is4() {
			return fmt.Errorf("gateway %s is not of the client address's family", g)
		}
		if g.IsUnspecified() || g.IsMulticast() {
			return fmt.Errorf("gateway %s is not a host address", g)
		}
		if !o.Address[0].Contains(g) && !g.IsLinkLocalUnicast() {
			return fmt.Errorf("gateway %s is not inside %s; the kernel rejects an off-link gateway", g, o.Address[0])
		}
		o.Gateway = []netip.Addr{g}
	}
	return nil
}

// extraFields reads what may follow the method: up to two name servers
// (the static form), or an MTU and a MAC, which wgboot does not apply.
func extraFields(f []string, dns *[]netip.Addr) error {
	if dns != nil && len(f) <= 2 {
		var as []netip.Addr
		for _, s := range f {
			if s == "" {
				continue
			}
			a, err := ipField(s)
			if err != nil {
				as = nil
				break
			}
			as = append(as, a)
		}
		if as != nil {
			*dns = append(*dns, as...)
			return nil
		}
	}
	var ignored []string
	if len(f) > 0 && f[0] != "" {
		ignored = append(ignored, "mtu "+f[0])
	}
	if len(f) > 1 {
		if mac := strings.Join(f[1:], ":"); mac != "" {
			ignored = append(ignored, "macaddr "+mac)
		}
	}
	if len(ignored) > 0 {
		return fmt.Errorf("%s not supported: ignored, the rest applies", strings.Join(ignored, ", "))
	}
	return nil
}

// ipField reads an address, IPv6 in brackets as dracut writes it.
func ipField(s string) (netip.Addr, error) {
	if strings.HasPrefix(s, "[") && strings.HasSuffix(s, "]") {
		a, err := netip.ParseAddr(s[1 : len(s)-1])
		if err != nil || !a.Is6() || a.Zone() != "" {
			return netip.Addr{}, fmt.Errorf("%q is not an IPv6 address", s)
		}
		return a, nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil || !a.Is4() {
		return netip.Addr{}, fmt.Errorf("%q is not an IPv4 address (IPv6 goes in brackets)", s)
	}
	return a, nil
}

// maskField reads a netmask, 255.255.255.0 or a prefix length.
func maskField(s string, a netip.Addr) (int, error) {
	if s == "" {
		return 0, errors.New("no netmask")
	}
	if n, err := strconv.Atoi(s); err == nil {
		if n < 1 || n > a.BitLen() {
			return 0, fmt.Errorf("netmask /%d out of range for %s", n, a)
		}
		return n, nil
	}
	m, err := netip.ParseAddr(s)
	if err != nil || !m.Is4() || !a.Is4() {
		return 0, fmt.Errorf("netmask %q: want a prefix length or an IPv4 mask", s)
	}
	b := m.As4()
	v := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
	n := 0
	for v&(1<<31) != 0 {
		n++
		v <<= 1
	}
	if v != 0 || n == 0 {
		return 0, fmt.Errorf("netmask %s is not a mask", s)
	}
	return n, nil
}

// splitIPFields splits an ip= value at colons outside brackets.
func splitIPFields(s string) ([]string, error) {
	var f []string
	start, depth := 0, 0
	for i := range len(s) {
		switch s[i] {
		case '[':
			depth++
		case ']':
			depth--
			if depth < 0 {
				return nil, errors.New("unbalanced ]")
			}
		case ':':
			if depth == 0 {
				f = append(f, s[start:i])
				start = i + 1
			}
		}
	}
	if depth != 0 {
		return nil, errors.New("unbalanced [")
	}
	return append(f, s[start:]), nil
}
