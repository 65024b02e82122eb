package netsetup

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"

	"golang.org/x/sys/unix"

	"github.com/wgboot/wgboot/internal/errcap"
	"github.com/wgboot/wgboot/netsetup/internal/nl"
)

// Route is an IPv4 or IPv6 unicast route.
type Route struct {
	// Dst is the destination prefix; 0.0.0.0/0 or ::/0 for a default
	// route. It must be masked (10.1.0.0/16, not 10.1.2.3/16).
	Dst netip.Prefix
	// Gateway is the next hop, if any. An IPv6 gateway for an IPv4 Dst is
	// sent as RTA_VIA (Linux 5.2).
	Gateway netip.Addr
	// OIF is the output link's index; 0 lets the kernel choose from the
	// gateway.
	OIF int32
	// Table is the routing table; 0 means main (254). Tables above 255 go
	// in RTA_TABLE.
	Table uint32
	// Metric is the route priority (RTA_PRIORITY), lower is preferred. The
	// kernel stores IPv6 routes with metric 0 as 1024.
	Metric uint32
	// Scope is the route scope. For IPv4, the zero value,
	// RT_SCOPE_UNIVERSE, becomes RT_SCOPE_LINK for a route without a
	// gateway, as in iproute2; IPv6 routes have no scope.
	Scope uint8
	// Protocol records who installed the route; 0 means RTPROT_BOOT, as
	// iproute2 uses.
	Protocol uint8
	// Type is the route type; 0 means RTN_UNICAST.
	Type uint8
}

// String formats r in the style of ip-route(8), for errors and logs.
func (r Route) String() string {
	s := r.Dst.String()
	if r.Gateway.IsValid() {
		s += " via " + r.Gateway.String()
	}
	if r.OIF != 0 {
		s += fmt.Sprintf(" dev %d", r.OIF)
	}
	if r.Table != 0 && r.Table != unix.RT_TABLE_MAIN {
		s += fmt.Sprintf(" table %d", r.Table)
	}
	if r.Metric != 0 {
		s += fmt.Sprintf(" metric %d", r.Metric)
	}
	return s
}

// withDefaults returns r with the defaults ReplaceRoute applies.
func (r Route) withDefaults() Route {
	if r.Table == 0 {
		r.Table = unix.RT_TABLE_MAIN
	}
	if r.Protocol == 0 {
		r.Protocol = unix.RTPROT_BOOT
	}
	if r.Type == 0 {
		r.Type = unix.RTN_UNICAST
	}
	// IPv6 routes have no scope: the kernel reports them all as universe,
	// and iproute2 sends universe.
	if r.Scope == unix.RT_SCOPE_UNIVERSE && !r.Gateway.IsValid() && r.Type == unix.RTN_UNICAST && r.Dst.Addr().Is4() {
		r.Scope = unix.RT_SCOPE_LINK
	}
	return r
}

// ReplaceRoute adds r, or replaces the route with the same destination,
// table and metric (NLM_F_CREATE|NLM_F_REPLACE), so it is idempotent.
func (h *Handle) ReplaceRoute(r Route) error {
	req, err := routeRequest(unix.RTM_NEWROUTE, flagsReplace, r)
	if err == nil {
		err = h.ack(req, "RTM_NEWROUTE")
	}
	if err != nil {
		return fmt.Errorf("replace route %s: %w", r, err)
	}
	return nil
}

// ReplaceRoutes is ReplaceRoute for many routes, such as one per allowed
// IP of a tunnel's peers: the requests go several per write
// (nl.Conn.ExecuteBatch), each acknowledged on its own, so that a route
// costs one system call instead of three.
//
// A route the kernel refuses does not stop the others. The error names
// each failed route with the kernel's reason, the first 10 of them, and
// counts the rest ("… and N more"); it matches the errnos of those listed
// with errors.Is. Routes whose acknowledgement was dropped because the
// receive queue overflowed (ENOBUFS) are sent again, being idempotent.
func (h *Handle) ReplaceRoutes(routes []Route) error {
	var errs errcap.List
	h.replaceRoutes(routes, errs.Add)
	return errs.Err()
}

// maxRouteRounds bounds how often ReplaceRoutes sends a route whose
// acknowledgement was lost; each round halves the writes.
const maxRouteRounds = 3

// replaceRoutes runs ReplaceRoutes, passing each failure to fail.
func (h *Handle) replaceRoutes(routes []Route, fail func(error)) {
	failed := func(r Route, err error) {
		fail(fmt.Errorf("replace route %s: %w", r, err))
	}
	reqs := make([]nl.Message, 0, len(routes))
	todo := make([]Route, 0, len(routes))
	for _, r := range routes {
		req, err := routeRequest(unix.RTM_NEWROUTE, flagsReplace, r)
		if err != nil {
			failed(r, err)
			continue
		}
		reqs = append(reqs, req)
		todo = append(todo, r)
	}
	for round := 1; len(reqs) > 0; round++ {
		errs := h.c.ExecuteBatch(reqs, "RTM_NEWROUTE")
		if errs == nil {
			return
		}
		var again []int
		for i, err := range errs {
			switch {
			case err == nil:
			case round < maxRouteRounds && errors.Is(err, nl.ErrNoAck) && errors.Is(err, unix.ENOBUFS):
				again = append(again, i)
			default:
				failed(todo[i], err)
			}
		}
		n := 0
		for _, i := range again {
			reqs[n], todo[n] = reqs[i], todo[i]
			n++
		}
		reqs, todo = reqs[:n], todo[:n]
	}
}

// DeleteRoute deletes the route matching r. Zero Gateway, OIF, Metric,
// Protocol and Type match any value; the scope is never matched. If there
// is no such route, the error wraps unix.ESRCH.
func (h *Handle) DeleteRoute(r Route) error {
	req, err := routeRequest(unix.RTM_DELROUTE, flagsAck, r)
	if err == nil {
		err = h.ack(req, "RTM_DELROUTE")
	}
	if err != nil {
		return fmt.Errorf("delete route %s: %w", r, err)
	}
	return nil
}

// Routes returns the unicast, local and broadcast routes of family
// (unix.AF_INET, unix.AF_INET6, or unix.AF_UNSPEC for both) in table, or
// in every table if table is 0. Cached routes (RTM_F_CLONED) and multipath
// next hops are not reported; a missing table has no routes.
func (h *Handle) Routes(family uint8, table uint32) ([]Route, error) {
	req, err := dumpRoutesRequest(family, table)
	if err != nil {
		return nil, fmt.Errorf("list routes: %w", err)
	}
	msgs, err := h.c.ExecuteDump(req, "RTM_GETROUTE")
	if errors.Is(err, unix.ENOENT) && table != 0 {
		// Strictly checked dumps of a table that does not exist yet
		// fail with "FIB table does not exist".
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list routes of family %d table %d: %w", family, table, err)
	}
	var routes []Route
	for _, m := range msgs {
		if m.Type != unix.RTM_NEWROUTE {
			continue
		}
		r, cloned, err := parseRoute(m)
		if errors.Is(err, errOtherFamily) || cloned {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("list routes of family %d table %d: %w", family, table, err)
		}
		// Kernels without strict checking ignore the filters.
		if (family == unix.AF_UNSPEC || family == familyOfPrefix(r.Dst)) && (table == 0 || r.Table == table) {
			routes = append(routes, r)
		}
	}
	return routes, nil
}

// familyOfPrefix returns the address family of p.
func familyOfPrefix(p netip.Prefix) uint8 {
	return family(p.Addr())
}

// rtmsg encodes a struct rtmsg.
//
//	struct rtmsg {	/* include/uapi/linux/rtnetlink.h */
//		unsigned char		rtm_family;
//		unsigned char		rtm_dst_len;
//		unsigned char		rtm_src_len;
//		unsigned char		rtm_tos;
//		unsigned char		rtm_table;	/* Routing table id */
//		unsigned char		rtm_protocol;	/* Routing protocol; see below	*/
//		unsigned char		rtm_scope;	/* See below */
//		unsigned char		rtm_type;	/* See below	*/
//		unsigned		rtm_flags;
//	};
func rtmsg(family, dstLen, table, protocol, scope, typ uint8) []byte {
	return []byte{family, dstLen, 0, 0, table, protocol, scope, typ, 0, 0, 0, 0}
}

// routeRequest builds RTM_NEWROUTE or RTM_DELROUTE. Attributes come in the
// order of `ip route replace DST table T via GW metric M dev IF`.
func routeRequest(typ, flags uint16, r Route) (nl.Message, error) {
	if !r.Dst.IsValid() {
		return nl.Message{}, fmt.Errorf("invalid destination %s", r.Dst)
	}
	if r.Dst != r.Dst.Masked() {
		return nl.Message{}, fmt.Errorf("destination %s has host bits set; use %s", r.Dst, r.Dst.Masked())
	}
	// A zone on a link-local gateway is dropped: OIF names the link.
	if g := r.Gateway; g.IsValid() && g.IsUnspecified() {
		return nl.Message{}, fmt.Errorf("invalid gateway %s", g)
	}
	if r.OIF < 0 {
		return nl.Message{}, checkIndex(r.OIF)
	}
	if typ == unix.RTM_NEWROUTE && (r.Type == 0 || r.Type == unix.RTN_UNICAST) && !r.Gateway.IsValid() && r.OIF == 0 {
		return nl.Message{}, fmt.Errorf("unicast route %s needs a gateway or an output link", r.Dst)
	}
	fam := familyOfPrefix(r.Dst)
	protocol, scope, rtype := r.Protocol, r.Scope, r.Type
	if typ == unix.RTM_NEWROUTE {
		d := r.withDefaults()
		protocol, scope, rtype = d.Protocol, d.Scope, d.Type
	} else {
		// As iproute2: RT_SCOPE_NOWHERE matches any scope.
		scope = unix.RT_SCOPE_NOWHERE
	}
	table := r.Table
	if table == 0 {
		table = unix.RT_TABLE_MAIN
	}
	hdrTable := uint8(unix.RT_TABLE_UNSPEC)
	if table < 256 {
		hdrTable = uint8(table)
	}
	// A route is 3 to 5 attributes of at most 24 bytes: one array.
	var ae nl.AttrEncoder
	ae.Grow(96)
	var dst [16]byte
	if r.Dst.Bits() > 0 {
		ae.Bytes(unix.RTA_DST, addrBytes(r.Dst.Addr(), &dst))
	}
	if table >= 256 {
		ae.Uint32(unix.RTA_TABLE, table)
	}
	if g := r.Gateway; g.IsValid() {
		if family(g) == fam {
			ae.Bytes(unix.RTA_GATEWAY, g.AsSlice())
		} else {
			// struct rtvia { __kernel_sa_family_t rtvia_family; __u8 rtvia_addr[]; };
			via := binary.NativeEndian.AppendUint16(nil, uint16(family(g)))
			ae.Bytes(unix.RTA_VIA, append(via, g.AsSlice()...))
		}
	}
	if r.Metric != 0 {
		ae.Uint32(unix.RTA_PRIORITY, r.Metric)
	}
	if r.OIF != 0 {
		ae.Uint32(unix.RTA_OIF, uint32(r.OIF))
	}
	return message(typ, flags, rtmsg(fam, uint8(r.Dst.Bits()), hdrTable, protocol, scope, rtype), &ae)
}

// addrBytes returns a's 4 or 16 bytes in buf.
func addrBytes(a netip.Addr, buf *[16]byte) []byte {
	if a.Is4() {
		v4 := a.As4()
		return append(buf[:0], v4[:]...)
	}
	*buf = a.As16()
	return buf[:]
}

// dumpRoutesRequest builds the RTM_GETROUTE dump of family, filtered by
// table if it is not 0 (honoured under NETLINK_GET_STRICT_CHK).
func dumpRoutesRequest(family uint8, table uint32) (nl.Message, error) {
	switch family {
	case unix.AF_UNSPEC, unix.AF_INET, unix.AF_INET6:
	default:
		return nl.Message{}, fmt.Errorf("unsupported address family %d", family)
	}
	// As iproute2, the filter is always RTA_TABLE, whatever the table.
	var ae nl.AttrEncoder
	if table != 0 {
		ae.Uint32(unix.RTA_TABLE, table)
	}
	return message(unix.RTM_GETROUTE, flagsDump, rtmsg(family, 0, 0, 0, 0, 0), &ae)
}

// parseRoute decodes an RTM_NEWROUTE message. cloned reports a cached
// route (RTM_F_CLONED), which listings skip.
func parseRoute(m nl.Message) (r Route, cloned bool, err error) {
	fixed, attrs, err := nl.SplitPayload(m.Data, unix.SizeofRtMsg)
	if err != nil {
		return Route{}, false, fmt.Errorf("route message: %w", err)
	}
	fam, bits := fixed[0], int(fixed[1])
	size := 4
	switch fam {
	case unix.AF_INET:
	case unix.AF_INET6:
		size = 16
	default:
		return Route{}, false, fmt.Errorf("route family %d: %w", fam, errOtherFamily)
	}
	r = Route{Table: uint32(fixed[4]), Protocol: fixed[5], Scope: fixed[6], Type: fixed[7]}
	cloned = binary.NativeEndian.Uint32(fixed[8:12])&unix.RTM_F_CLONED != 0
	dst := netip.IPv4Unspecified()
	if fam == unix.AF_INET6 {
		dst = netip.IPv6Unspecified()
	}
	ad := nl.NewAttrDecoder(attrs)
	for ad.Next() {
		switch ad.Type() {
		case unix.RTA_DST:
			dst, err = addrOfSize(ad.Bytes(), size)
		case unix.RTA_GATEWAY:
			r.Gateway, err = addrOfSize(ad.Bytes(), size)
		case unix.RTA_VIA:
			r.Gateway, err = parseVia(ad.Bytes())
		case unix.RTA_OIF:
			r.OIF = int32(ad.Uint32())
		case unix.RTA_PRIORITY:
			r.Metric = ad.Uint32()
		case unix.RTA_TABLE:
			r.Table = ad.Uint32()
		}
		if err != nil {
			return Route{}, false, fmt.Errorf("route: %w", err)
		}
	}
	if err := ad.Err(); err != nil {
		return Route{}, false, fmt.Errorf("route: %w", err)
	}
	if bits > dst.BitLen() {
		return Route{}, false, fmt.Errorf("route to %s: prefix length %d", dst, bits)
	}
	r.Dst = netip.PrefixFrom(dst, bits).Masked()
	if r.Gateway.IsUnspecified() {
		// Means "no gateway"; the kernel does not send it.
		r.Gateway = netip.Addr{}
	}
	return r, cloned, nil
}

// parseVia decodes a struct rtvia holding an IPv4 or IPv6 address.
func parseVia(b []byte) (netip.Addr, error) {
	if len(b) < 2 {
		return netip.Addr{}, fmt.Errorf("RTA_VIA of %d bytes", len(b))
	}
	switch binary.NativeEndian.Uint16(b[:2]) {
	case unix.AF_INET:
		return addrOfSize(b[2:], 4)
	case unix.AF_INET6:
		return addrOfSize(b[2:], 16)
	}
	return netip.Addr{}, fmt.Errorf("RTA_VIA family %d", binary.NativeEndian.Uint16(b[:2]))
}
