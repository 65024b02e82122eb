package board

import (
	"cmp"
	"encoding/binary"
	"errors"
	"net/netip"
	"path"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/wgboot/wgboot/internal/firstseen"
	"github.com/wgboot/wgboot/internal/krule"
	"github.com/wgboot/wgboot/internal/wgkey"
)

// Validate lints p and returns every problem found, errors and warnings,
// with positions when p was parsed from a file. Fields that already failed
// to parse are not reported again. Validate does no I/O: run
// [Profile.ReadKeys] first so that it can compare the device's own public
// key with its peers'.
func (p *Profile) Validate(opts ...ValidateOption) Diagnostics {
	v := validator{p: p}
	for _, o := range opts {
		v.skipSelfPeer = v.skipSelfPeer || o.skipSelfPeer
	}
	if p.src != nil {
		v.bad = p.src.bad
	}
	v.board()
	v.uplink()
	v.clock()
	v.tunnels()
	v.persist()
	v.rescue()
	v.handoff()
	ds := v.r.ds
	if len(v.bad) > 0 {
		ds = slices.DeleteFunc(ds, func(d Diagnostic) bool { return v.isBad(d.Path) })
	}
	p.src.locate(ds)
	return ds
}

// A ValidateOption changes what [Profile.Validate] checks.
type ValidateOption struct{ skipSelfPeer bool }

// SkipSelfPeer leaves out Validate's check that no peer has its tunnel's
// own public key ([ErrSelfPeer]), which derives that key from the private
// key: an X25519 multiplication, about a million instructions a tunnel.
// PID 1 passes it: the kernel derives the key anyway when it gets the
// private key, and the boot checks the peers against the kernel's key
// with [Profile.SelfPeers]. The host's check keeps the default.
var SkipSelfPeer = ValidateOption{skipSelfPeer: true}

type validator struct {
	p *Profile
	// skipSelfPeer: see SkipSelfPeer.
	skipSelfPeer bool
	bad          map[string]bool
	r            report
	// hostWarned: the warning about host names without a DNS server is
	// given once, at the first.
	hostWarned bool
}

func (v *validator) board() {
	b := &v.p.Board
	switch {
	case b.Name == "":
		v.r.errorf("board.name", ErrRequired, "required: name the board; wgboot.board= selects profiles by it")
	case strings.ContainsFunc(b.Name, func(r rune) bool { return r <= ' ' || r == '"' || r == 0x7f || r == utf8.RuneError }):
		v.r.errorf("board.name", ErrInvalid, "%q: spaces, quotes and control characters cannot be given on the kernel command line", b.Name)
	}
	seen := make(map[string]int, len(b.Match))
	for i, m := range b.Match {
		at := indexPath("board.match", i)
		if strings.TrimSpace(m) == "" {
			v.r.errorf(at, ErrInvalid, "empty match string matches no board")
			continue
		}
		if m != strings.TrimSpace(m) {
			v.r.warnf(at, ErrInvalid, "%q has leading or trailing spaces; board names are compared without them", m)
		}
		if j, dup := seen[m]; dup {
			v.r.warnf(at, ErrDuplicate, "%q is listed twice (also match[%d])", m, j)
			continue
		}
		seen[m] = i
	}
	mods := make(map[string]int, len(b.Modules))
	for i, m := range b.Modules {
		at := indexPath("board.modules", i)
		switch {
		case m == "":
			v.r.errorf(at, ErrInvalid, "empty module name")
			continue
		case strings.HasSuffix(m, ".ko") || strings.Contains(m, ".ko."):
			v.r.errorf(at, ErrInvalid, "%q: write the module name (e.g. wireguard), not its file name", m)
			continue
		case strings.ContainsFunc(m, func(r rune) bool { return r <= ' ' || r == '/' || r == '=' || r >= 0x7f }):
			v.r.errorf(at, ErrInvalid, "%q is not a module name", m)
			continue
		}
		norm := krule.FoldName(m)
		if j, dup := mods[norm]; dup {
			v.r.warnf(at, ErrDuplicate, "%q is listed twice (also modules[%d])", m, j)
			continue
		}
		mods[norm] = i
	}
	v.watchdog()
}

// watchdog checks [board]'s watchdog keys.
func (v *validator) watchdog() {
	b := &v.p.Board
	if b.Watchdog == "" {
		return
	}
	switch {
	case !strings.HasPrefix(b.Watchdog, "/dev/") || path.Clean(b.Watchdog) != b.Watchdog:
		v.r.errorf("board.watchdog", ErrInvalid, "%q: want the device's path, such as /dev/watchdog0", b.Watchdog)
	case !strings.HasPrefix(b.Watchdog, "/dev/watchdog"):
		v.r.warnf("board.watchdog", ErrInvalid, "%q is not a /dev/watchdogN device", b.Watchdog)
	}
	t := b.WatchdogTimeout
	switch {
	case v.isBad("board.watchdog_timeout"):
	case t < time.Second || t%time.Second != 0:
		v.r.errorf("board.watchdog_timeout", ErrRange, "%s: the kernel takes whole seconds, at least 1s", t)
	case t > maxWatchdogTimeout:
		v.r.errorf("board.watchdog_timeout", ErrRange, "%s is more than any driver takes (%s)", t, maxWatchdogTimeout)
	}
}

// maxWatchdogTimeout is softdog's largest timeout, 65535 s; hardware
// watchdogs take far less, and say so when the boot asks.
const maxWatchdogTimeout = 65535 * time.Second

func (v *validator) uplink() {
	u := &v.p.Uplink
	if u.Interface == "" && u.MAC.IsZero() && len(u.Address) == 0 && len(u.Gateway) == 0 && !u.DHCP && !u.AcceptRA && len(u.DNS) == 0 && !v.isBad("uplink") {
		// No [uplink]: the network under the tunnels is set up by other
		// means (the kernel's ip=, an interface that needs nothing).
		return
	}
	switch {
	case !u.MAC.IsZero() && u.Interface != "":
		v.r.errorf("uplink.mac", ErrInvalid, "interface and mac both choose the uplink: give one of them")
	case !u.MAC.IsZero(), v.isBad("uplink.mac"):
	case u.Interface == "" && !v.isBad("uplink.interface"):
		v.r.errorf("uplink.interface", ErrRequired, "required: an interface name such as eth0, or the NIC's mac")
	default:
		v.ifName("uplink.interface", u.Interface)
	}
	seen := make(map[netip.Addr]int, len(u.Address))
	for i, a := range u.Address {
		at := indexPath("uplink.address", i)
		if !v.ifAddr(at, a) {
			continue
		}
		if j, dup := seen[a.Addr()]; dup {
			v.r.errorf(at, ErrDuplicate, "%s is also address[%d]", a.Addr(), j)
			continue
		}
		seen[a.Addr()] = i
	}
	if len(u.Address) == 0 && !u.DHCP && !u.AcceptRA && !v.isBad("uplink.address") {
		v.r.warnf("uplink.address", ErrRequired, "no address, no dhcp, no accept_ra: only the kernel's own IPv6 autoconfiguration can give the uplink one")
	}
	// dhcp configures IPv4 and accept_ra IPv6; a static setting of the
	// same family would be a guess the lease or the router contradicts.
	for i, a := range u.Address {
		if u.DHCP && a.IsValid() && a.Addr().Unmap().Is4() {
			v.r.errorf(indexPath("uplink.address", i), ErrInvalid, "%s is IPv4, which dhcp = true configures: leave it out, or dhcp", a)
		}
	}
	for i, g := range u.Gateway {
		switch {
		case !g.IsValid():
		case u.DHCP && g.Unmap().Is4():
			v.r.errorf(indexPath("uplink.gateway", i), ErrInvalid, "%s is IPv4, which dhcp = true configures: the lease gives the routes", g)
		case u.AcceptRA && !g.Unmap().Is4():
			v.r.errorf(indexPath("uplink.gateway", i), ErrInvalid, "%s is IPv6, which accept_ra = true configures: router advertisements give the default route", g)
		}
	}
	for _, t := range []struct {
		on   bool
		key  string
		d    time.Duration
		what string
	}{{u.DHCP, "uplink.dhcp_timeout", u.DHCPTimeout, "a lease"}, {u.AcceptRA, "uplink.ra_timeout", u.RATimeout, "a router"}} {
		switch {
		case !t.on || v.isBad(t.key):
		case t.d <= 0:
			v.r.errorf(t.key, ErrRange, "must be positive: how long to wait for %s", t.what)
		case t.d >= v.p.Handoff.Deadline && v.p.Handoff.Deadline > 0:
			v.r.warnf(t.key, ErrRange, "%s is not shorter than handoff.deadline (%s)", t.d, v.p.Handoff.Deadline)
		}
	}
	for i, a := range u.DNS {
		if a.IsValid() && (a.IsUnspecified() || a.IsMulticast()) {
			v.r.errorf(indexPath("uplink.dns", i), ErrInvalid, "%s cannot be a name server", a)
		}
	}
	var gw4, gw6 bool
	for i, g := range u.Gateway {
		at := indexPath("uplink.gateway", i)
		if !g.IsValid() {
			continue
		}
		fam := &gw4
		if g.Is6() && !g.Is4In6() {
			fam = &gw6
		}
		if *fam {
			v.r.errorf(at, ErrDuplicate, "a second IPv%d gateway; at most one per address family", familyOf(g))
			continue
		}
		*fam = true
		switch {
		case g.IsUnspecified() || g.IsMulticast():
			v.r.errorf(at, ErrInvalid, "%s cannot be a gateway", g)
		case g.Is6() && g.IsLinkLocalUnicast():
			// fe80:: gateways are on-link by definition.
		case !slices.ContainsFunc(u.Address, func(a netip.Prefix) bool { return a.Contains(g) }):
			v.r.errorf(at, ErrInvalid, "%s is not inside any uplink address prefix; the kernel rejects an off-link gateway", g)
		}
	}
	if u.CarrierTimeout >= v.p.Handoff.Deadline && v.p.Handoff.Deadline > 0 {
		v.r.warnf("uplink.carrier_timeout", ErrRange, "%s is not shorter than handoff.deadline (%s)", u.CarrierTimeout, v.p.Handoff.Deadline)
	}
}

func (v *validator) tunnels() {
	p := v.p
	if len(p.Tunnels) == 0 && !v.isBad("tunnel") {
		v.r.errorf("tunnel", ErrRequired, "required: at least one [[tunnel]]")
	}
	names := make(map[string]int, len(p.Tunnels))
	ports := make(map[uint16]int, len(p.Tunnels))
	addrs := make(map[netip.Addr]string)
	for _, a := range p.Uplink.Address {
		addrs[a.Addr()] = "uplink"
	}
	routes := make(map[routeKey]int) // allowed prefix per routing table → tunnel
	for i := range p.Tunnels {
		t := &p.Tunnels[i]
		at := indexPath("tunnel", i)
		if v.ifName(joinPath(at, "name"), t.Name) {
			if j, dup := names[t.Name]; dup {
				v.r.errorf(joinPath(at, "name"), ErrDuplicate, "%q is also the name of tunnel[%d]", t.Name, j)
			} else if t.Name == p.Uplink.Interface {
				v.r.errorf(joinPath(at, "name"), ErrDuplicate, "%q is the uplink interface", t.Name)
			}
			names[t.Name] = i
		}
		v.tunnelKey(at, t)
		if t.ListenPort != 0 {
			if j, dup := ports[t.ListenPort]; dup {
				v.r.errorf(joinPath(at, "listen_port"), ErrDuplicate, "port %d is also used by tunnel[%d]", t.ListenPort, j)
			}
			ports[t.ListenPort] = i
		}
		v.tunnelAddrs(at, t, addrs)
		v.mtu(at, t)
		switch {
		case t.Table == 255:
			v.r.errorf(joinPath(at, "table"), ErrInvalid, "table 255 is the kernel's local table")
		case t.Table == 253:
			v.r.warnf(joinPath(at, "table"), ErrInvalid, "table 253 is the reserved \"default\" table")
		case t.Table != TableMain && t.Table != TableOff && t.FwMark == 0:
			v.r.warnf(joinPath(at, "table"), ErrInvalid, "routes go to table %d, but without a fwmark no rule selects it; set fwmark for policy routing or add rules yourself", t.Table)
		}
		if len(t.Peers) == 0 && !v.isBad(joinPath(at, "peer")) {
			v.r.warnf(at, ErrRequired, "no [[tunnel.peer]]: the tunnel carries no traffic")
		}
		v.peers(at, t)
		v.prefixes(at, t)
		v.loops(at, t)
		if t.Table != TableOff && len(p.Tunnels) > 1 {
			v.routeConflicts(at, i, t, routes)
		}
	}
}

// tunnelKey checks how the private key is given and that the device is not
// its own peer.
func (v *validator) tunnelKey(at string, t *Tunnel) {
	switch {
	case t.inlineKey && t.PrivateKeyFile != "":
		v.r.errorf(joinPath(at, "private_key"), ErrInvalid, "give private_key or private_key_file, not both")
	case t.inlineKey:
		v.r.warnf(joinPath(at, "private_key"), ErrSecret, "the private key is baked into the image and shared by every device flashed with it; prefer private_key_file")
	case t.PrivateKeyFile == "" && t.PrivateKey.IsZero():
		v.r.errorf(joinPath(at, "private_key_file"), ErrRequired, "required: private_key_file (or private_key)")
	}
	v.persistKey(at, t)
	if t.PrivateKey.IsZero() || v.skipSelfPeer {
		return
	}
	v.selfPeers(at, t, t.PublicKey())
}

// selfPeers reports each peer of t, at path at, whose public key is self,
// the tunnel's own.
func (v *validator) selfPeers(at string, t *Tunnel, self wgkey.Key) {
	for j := range t.Peers {
		if t.Peers[j].PublicKey == self {
			v.r.errorf(peerPath(at, j, "public_key"), ErrSelfPeer, "this is the tunnel's own public key")
		}
	}
}

// SelfPeers reports, as Validate does without [SkipSelfPeer], each peer
// of tunnel i whose public key is self, the tunnel's own public key as the
// kernel derived it: the kernel ignores such a peer, so that it is missing
// from the device. The diagnostics name file:line:col while the profile's
// text is kept (until [Profile.Wipe]).
func (p *Profile) SelfPeers(i int, self wgkey.Key) Diagnostics {
	if i < 0 || i >= len(p.Tunnels) || self.IsZero() {
		return nil
	}
	var v validator
	v.selfPeers(indexPath("tunnel", i), &p.Tunnels[i], self)
	p.src.locate(v.r.ds)
	return v.r.ds
}

func (v *validator) tunnelAddrs(at string, t *Tunnel, addrs map[netip.Addr]string) {
	for k, a := range t.Address {
		ap := indexPath(joinPath(at, "address"), k)
		if !v.ifAddr(ap, a) {
			continue
		}
		if other, dup := addrs[a.Addr()]; dup {
			v.r.errorf(ap, ErrDuplicate, "%s is also an address of %s", a.Addr(), other)
			continue
		}
		addrs[a.Addr()] = at
		for _, u := range v.p.Uplink.Address {
			if u.Overlaps(a) {
				v.r.warnf(ap, ErrOverlap, "%s overlaps the uplink's %s", a, u)
				break
			}
		}
	}
}

func (v *validator) mtu(at string, t *Tunnel) {
	mp := joinPath(at, "mtu")
	if t.MTU < krule.IPv4MinMTU || t.MTU > krule.MaxMTU {
		v.r.errorf(mp, ErrRange, "%d is out of range %d–%d", t.MTU, krule.IPv4MinMTU, krule.MaxMTU)
		return
	}
	if krule.CarriesIPv6(t.MTU) {
		return
	}
	uses6 := func(ps []netip.Prefix) bool {
		return slices.ContainsFunc(ps, func(p netip.Prefix) bool { return p.Addr().Is6() && !p.Addr().Is4In6() })
	}
	if uses6(t.Address) || slices.ContainsFunc(t.Peers, func(p Peer) bool { return uses6(p.AllowedIPs) }) {
		v.r.errorf(mp, ErrMTU, "%d is below %d, the IPv6 minimum, but the tunnel carries IPv6; the kernel disables IPv6 on it", t.MTU, krule.IPv6MinMTU)
	}
}

func (v *validator) peers(at string, t *Tunnel) {
	keys := firstseen.New(len(t.Peers))
	for j := range t.Peers {
		peer := &t.Peers[j]
		// Paths are built only when something is reported: hubs have
		// 10,000 peers.
		field := func(k string) string { return peerPath(at, j, k) }
		if peer.PublicKey.IsZero() {
			v.r.errorf(field("public_key"), ErrRequired, "required: the peer's public key")
		} else if k, _, dup := keys.Add(keys.HashKey((*[32]byte)(&peer.PublicKey)), j, 0, func(k, _ int) bool {
			return t.Peers[k].PublicKey == peer.PublicKey
		}); dup {
			v.r.errorf(field("public_key"), ErrDuplicate, "the same public key as peer[%d]", k)
		}
		switch {
		case peer.inlinePSK && peer.PresharedKeyFile != "":
			v.r.errorf(field("preshared_key"), ErrInvalid, "give preshared_key or preshared_key_file, not both")
		case peer.inlinePSK:
			v.r.warnf(field("preshared_key"), ErrSecret, "the preshared key is baked into the image; prefer preshared_key_file")
		}
		if len(peer.AllowedIPs) == 0 && !v.isBad(field("allowed_ips")) {
			v.r.warnf(field("allowed_ips"), ErrRequired, "empty: no traffic can go to or come from this peer")
		}
		v.endpoints(at, j, peer)
	}
}

// endpoints checks a peer's endpoint and fallback_endpoints: ports,
// addresses a packet can go to, repeats, the timeout between them, and
// what host names need at boot.
func (v *validator) endpoints(at string, j int, peer *Peer) {
	field := func(k string) string { return peerPath(at, j, k) }
	u := &v.p.Uplink
	eps := peer.EndpointList()
	// Zero is a profile built in code that left the default.
	if peer.EndpointTimeout != 0 && peer.EndpointTimeout < time.Second && !v.isBad(field("endpoint_timeout")) {
		v.r.errorf(field("endpoint_timeout"), ErrRange, "%s is too short: an endpoint needs at least a second to answer a handshake", peer.EndpointTimeout)
	}
	if len(eps) == 0 {
		return
	}
	if len(eps) <= peer.fallbacks && !v.isBad(field("endpoint")) {
		v.r.errorf(field("fallback_endpoints"), ErrRequired, "fallback endpoints without endpoint: write the first of them as endpoint")
	}
	if len(eps) > 1 {
		h := &v.p.Handoff
		timeout := peer.EndpointTimeout
		if timeout == 0 {
			timeout = DefaultEndpointTimeout
		}
		switch fb := field("fallback_endpoints"); {
		case h.WaitHandshake == 0:
			v.r.warnf(fb, ErrInvalid, "fallback endpoints are tried only while the boot waits for handshakes, and handoff.wait_handshake is 0: only endpoint is used")
		case timeout >= h.WaitHandshake && !v.isBad(field("endpoint_timeout")):
			v.r.warnf(field("endpoint_timeout"), ErrRange, "%s is not shorter than handoff.wait_handshake (%s): the fallback endpoints are never tried", timeout, h.WaitHandshake)
		}
	}
	// Paths are built only when something is reported, and repeats are
	// looked for only among several endpoints: with 10,000 peers of one
	// endpoint each, both cost a third of Validate (30 M instructions).
	var seen map[string]int
	if len(eps) > 1 {
		seen = make(map[string]int, len(eps))
	}
	for k, e := range eps {
		path := func() string { return endpointPath(at, j, k, len(eps) > peer.fallbacks) }
		switch {
		case e.Host != "":
			if e.Port == 0 {
				v.r.errorf(path(), ErrRange, "port 0: give the peer's listen port")
			}
			if !u.hasDNSSource() && !v.hostWarned {
				v.hostWarned = true
				v.r.warnf(path(), ErrRequired, "%s is a host name, and the profile names no DNS server (uplink.dns) and has no dhcp: the boot can only resolve it with nameserver= on the kernel command line", e.Host)
			}
		case e.Addr.IsValid():
			v.endpointAddr(path, e.Addr)
		default:
			continue // reported by the parser
		}
		if seen == nil {
			continue
		}
		if first, dup := seen[strings.ToLower(e.String())]; dup {
			v.r.warnf(path(), ErrDuplicate, "the same endpoint as %s", endpointPath(at, j, first, len(eps) > peer.fallbacks))
		} else {
			seen[strings.ToLower(e.String())] = k
		}
	}
}

// endpointAddr checks an endpoint's address; path names it.
func (v *validator) endpointAddr(path func() string, ep netip.AddrPort) {
	u := &v.p.Uplink
	a := ep.Addr().Unmap()
	switch {
	case ep.Port() == 0:
		v.r.errorf(path(), ErrRange, "port 0: give the peer's listen port")
	case a.IsUnspecified() || a.IsMulticast() || a == netip.AddrFrom4([4]byte{255, 255, 255, 255}):
		v.r.errorf(path(), ErrInvalid, "%s cannot be a peer's address", a)
	case a.IsLoopback():
		v.r.warnf(path(), ErrInvalid, "%s is a loopback address", a)
	case a.Is4() && u.DHCP, !a.Is4() && u.AcceptRA:
		// The lease or the router gives the routes.
	case !slices.ContainsFunc(u.Address, func(p netip.Prefix) bool { return p.Contains(a) }) &&
		!slices.ContainsFunc(u.Gateway, func(g netip.Addr) bool { return g.IsValid() && g.Unmap().Is4() == a.Is4() }):
		v.r.warnf(path(), ErrInvalid, "%s is not on the uplink's networks and the uplink has no IPv%d gateway", a, familyOf(a))
	}
}

// clock checks [clock] beyond the parser: a host name among the NTP
// servers needs a DNS server, as an endpoint's does.
func (v *validator) clock() {
	if v.p.Uplink.hasDNSSource() {
		return
	}
	for i, e := range v.p.Clock.NTP {
		if e.Host != "" {
			v.r.warnf(indexPath("clock.ntp", i), ErrRequired, "%s is a host name, and the profile names no DNS server (uplink.dns) and has no dhcp: the boot can only resolve it with nameserver= on the kernel command line", e.Host)
			return
		}
	}
}

// hasDNSSource reports whether the boot gets name servers for endpoint
// host names from the profile's uplink: its own, or the DHCP lease's.
func (u *Uplink) hasDNSSource() bool {
	return len(u.DNS) > 0 || u.DHCP
}

// endpointPath renders the path of a peer's k-th endpoint (EndpointList's
// order): endpoint first, when the peer has one, then
// fallback_endpoints[i].
func endpointPath(at string, j, k int, hasEndpoint bool) string {
	if hasEndpoint {
		if k == 0 {
			return peerPath(at, j, "endpoint")
		}
		k--
	}
	return indexPath(peerPath(at, j, "fallback_endpoints"), k)
}

// peerPath renders tunnel[i].peer[j].key given at = "tunnel[i]".
func peerPath(at string, j int, key string) string {
	return joinPath(indexPath(joinPath(at, "peer"), j), key)
}

// allowedEntry is one allowed IP prefix of one peer.
type allowedEntry struct {
	p    netip.Prefix // masked
	peer int
	elem int
}

// allowedKey is one allowed IP prefix of one peer, small and quick to
// sort: there may be 30,000.
type allowedKey struct {
	hi, lo     uint64 // the masked address; IPv4 as ::ffff:a.b.c.d
	peer, elem int32
	bits       uint8
	v6         bool
}

// newAllowedKey returns the key of masked prefix p.
func newAllowedKey(p netip.Prefix, peer, elem int) allowedKey {
	a := p.Addr().As16()
	return allowedKey{
		hi: binary.BigEndian.Uint64(a[:8]), lo: binary.BigEndian.Uint64(a[8:]),
		peer: int32(peer), elem: int32(elem), bits: uint8(p.Bits()), v6: p.Addr().Is6(),
	}
}

// prefix returns the masked prefix of k, a key of t's allowed IPs.
func (k allowedKey) prefix(t *Tunnel) netip.Prefix {
	return t.Peers[k.peer].AllowedIPs[k.elem].Masked()
}

// compareKeys orders by family, address, prefix length, peer and
// element.
func compareKeys(a, b allowedKey) int {
	switch {
	case a.v6 != b.v6:
		if a.v6 {
			return 1
		}
		return -1
	case a.hi != b.hi:
		return cmp.Compare(a.hi, b.hi)
	case a.lo != b.lo:
		return cmp.Compare(a.lo, b.lo)
	case a.bits != b.bits:
		return cmp.Compare(a.bits, b.bits)
	case a.peer != b.peer:
		return cmp.Compare(a.peer, b.peer)
	}
	return cmp.Compare(a.elem, b.elem)
}

// sortIPv4Keys sorts IPv4 keys, appended in peer and element order, as
// compareKeys does: each packed in one uint64 of address, length and index,
// in a stable radix sort, a byte a pass, of the address and length: the
// index, in the low bits, is in order already.
//
// Not slices.Sort of the packed keys as ints: /init has one instantiation
// of it for ints, shared with fmt's and sort's, and the linker may keep
// theirs, compiled without inlining (image/initflags.txt), where each
// comparison is a call. Host, callgrind, GOGC=off, a bench/wgpeers profile
// of 10,000 peers from LoadDir to the SET messages: 150.9 -> 140.4 M
// instructions with /init's flags, 141.3 -> 139.3 M with Go's defaults.
func sortIPv4Keys(keys []allowedKey) {
	const indexBits = 24
	if len(keys) < 2 {
		return
	}
	if len(keys) >= 1<<indexBits {
		sortKeys(keys)
		return
	}
	buf := make([]uint64, 2*len(keys))
	src, dst := buf[:len(keys)], buf[len(keys):]
	for i, k := range keys {
		src[i] = uint64(uint32(k.lo))<<32 | uint64(k.bits)<<indexBits | uint64(i)
	}
	for shift := indexBits; shift < 64; shift += 8 {
		var at [256]int
		for _, p := range src {
			at[byte(p>>shift)]++
		}
		if at[byte(src[0]>>shift)] == len(src) {
			continue // one value of this byte for all: the order stays
		}
		n := 0
		for d, c := range at {
			at[d] = n
			n += c
		}
		for _, p := range src {
			d := byte(p >> shift)
			dst[at[d]] = p
			at[d]++
		}
		src, dst = dst, src
	}
	sorted := make([]allowedKey, len(keys))
	for i, p := range src {
		sorted[i] = keys[p&(1<<indexBits-1)]
	}
	copy(keys, sorted)
}

// sortKeys sorts keys of one family, appended in peer and element order,
// as compareKeys does. Keys in order already (a hub's profile often lists
// its peers so) are only compared; a few are sorted by insertion; more in
// a stable radix sort, a byte a pass, of only the bytes of address and
// length that differ among them (a hub's IPv6 addresses share most),
// least significant first: the peer and element order is the input's.
//
// Not slices.SortFunc: /init would carry its pdqsort for allowedKey alone,
// 9.5 KB of code (docs/size.md).
func sortKeys(keys []allowedKey) {
	if len(keys) < 2 {
		return
	}
	k0 := &keys[0]
	var hi, lo uint64 // the address bits that differ from the first key's
	var bits uint8
	sorted := true
	for i := 1; i < len(keys); i++ {
		k := &keys[i]
		hi |= k.hi ^ k0.hi
		lo |= k.lo ^ k0.lo
		bits |= k.bits ^ k0.bits
		if sorted && k.less(&keys[i-1]) {
			sorted = false
		}
	}
	switch {
	case sorted:
		return
	case len(keys) <= 16:
		for i := 1; i < len(keys); i++ {
			for j := i; j > 0 && keys[j].less(&keys[j-1]); j-- {
				keys[j], keys[j-1] = keys[j-1], keys[j]
			}
		}
		return
	}
	src, dst := keys, make([]allowedKey, len(keys))
	for pos := range 17 { // the length, lo's bytes, hi's
		var differ uint8
		switch {
		case pos == 0:
			differ = bits
		case pos <= 8:
			differ = byte(lo >> (8 * (pos - 1)))
		default:
			differ = byte(hi >> (8 * (pos - 9)))
		}
		if differ == 0 {
			continue
		}
		var at [256]int
		for i := range src {
			at[src[i].digit(pos)]++
		}
		n := 0
		for d, c := range at {
			at[d] = n
			n += c
		}
		for i := range src {
			d := src[i].digit(pos)
			dst[at[d]] = src[i]
			at[d]++
		}
		src, dst = dst, src
	}
	if &src[0] != &keys[0] {
		copy(keys, src)
	}
}

// less orders keys of one family by address, then length.
func (k *allowedKey) less(e *allowedKey) bool {
	if k.hi != e.hi {
		return k.hi < e.hi
	}
	if k.lo != e.lo {
		return k.lo < e.lo
	}
	return k.bits < e.bits
}

// digit is sortKeys' byte pos of k: 0 the length, 1 to 8 lo's bytes, 9 to
// 16 hi's, least significant first.
func (k *allowedKey) digit(pos int) byte {
	switch {
	case pos == 0:
		return k.bits
	case pos <= 8:
		return byte(k.lo >> (8 * (pos - 1)))
	}
	return byte(k.hi >> (8 * (pos - 9)))
}

// prefixes checks host bits and overlaps among a tunnel's allowed IPs in
// O(n log n): sorted by address then length, each prefix's containing
// prefixes are on a stack, since two prefixes are either nested or
// disjoint.
func (v *validator) prefixes(at string, t *Tunnel) {
	n := 0
	for j := range t.Peers {
		n += len(t.Peers[j].AllowedIPs)
	}
	// IPv4 first, then IPv6: often the input is then sorted already.
	keys := make([]allowedKey, 0, n)
	n4 := 0 // keys[:n4] are IPv4
	for _, v6 := range []bool{false, true} {
		n4 = len(keys)
		for j := range t.Peers {
			for k, pfx := range t.Peers[j].AllowedIPs {
				if !pfx.IsValid() || pfx.Addr().Is6() != v6 {
					continue
				}
				m := pfx.Masked()
				if m != pfx {
					v.r.errorf(v.allowedPath(at, j, k), ErrHostBits, "%s has host bits set; did you mean %s?", pfx, m)
				}
				keys = append(keys, newAllowedKey(m, j, k))
			}
		}
	}
	sortIPv4Keys(keys[:n4])
	sortKeys(keys[n4:])
	var stack []allowedKey
	for _, e := range keys {
		for len(stack) > 0 && !stack[len(stack)-1].contains(e) {
			stack = stack[:len(stack)-1]
		}
		if len(stack) > 0 {
			top := stack[len(stack)-1]
			same := top.bits == e.bits && top.hi == e.hi && top.lo == e.lo
			if top.bits == 0 && !same && top.peer != e.peer {
				// Specific prefixes under a default route are the usual
				// hub layout; the loop check covers the default route.
				stack = append(stack, e)
				continue
			}
			ep, tp := e.prefix(t), top.prefix(t)
			here, there := v.allowedPath(at, int(e.peer), int(e.elem)), v.allowedPath(at, int(top.peer), int(top.elem))
			switch {
			case same && top.peer == e.peer:
				v.r.warnf(here, ErrDuplicate, "%s is listed twice (also %s)", ep, there)
			case same:
				v.r.errorf(here, ErrOverlap, "%s is also allowed for %s; WireGuard keeps only the last peer's", ep, there)
			case top.peer == e.peer:
				v.r.warnf(here, ErrOverlap, "%s is inside %s of the same peer", ep, tp)
			default:
				v.r.warnf(here, ErrOverlap, "%s is inside %s (%s); the more specific prefix wins", ep, tp, there)
			}
		}
		stack = append(stack, e)
	}
}

// contains reports whether k's prefix contains e's address (the masked
// address of e's prefix), from the keys alone: the check ran
// netip.Prefix.Masked twice a key, a third of the overlap check's
// instructions on a hub.
func (k allowedKey) contains(e allowedKey) bool {
	if k.v6 != e.v6 {
		return false
	}
	n := uint(k.bits) // the prefix length in the 128-bit address
	if !k.v6 {
		n += 96
	}
	hi, lo := e.hi, e.lo
	switch {
	case n == 0:
		hi, lo = 0, 0
	case n <= 64:
		hi &= ^uint64(0) << (64 - n)
		lo = 0
	default:
		lo &= ^uint64(0) << (128 - n)
	}
	return hi == k.hi && lo == k.lo
}

func (v *validator) allowedPath(at string, peer, elem int) string {
	return indexPath(peerPath(at, peer, "allowed_ips"), elem)
}

// loops finds routes that would send the tunnel's own encrypted packets
// into the tunnel. Only the main table is checked: with table "off" no
// routes are added, and a numbered table with a fwmark is policy routing
// that excludes the tunnel's own packets (as wg-quick does).
func (v *validator) loops(at string, t *Tunnel) {
	for j := range t.Peers {
		eps := t.Peers[j].EndpointList()
		for k, e := range eps {
			if !e.Addr.IsValid() {
				continue
			}
			a := e.Addr.Addr()
			for _, own := range t.Address {
				if own.Contains(a) && !v.onLink(a, own.Bits()) {
					v.r.errorf(endpointPath(at, j, k, len(eps) > t.Peers[j].fallbacks), ErrLoop,
						"%s is inside the tunnel's own address prefix %s: packets to the endpoint would loop through the tunnel", a, own)
					break
				}
			}
		}
	}
	if t.Table != TableMain {
		return
	}
	var (
		defaults  []allowedEntry
		roaming   bool
		endpoints int
	)
	for j := range t.Peers {
		if len(t.Peers[j].EndpointList()) > 0 {
			endpoints++
		} else {
			roaming = true
		}
		for k, pfx := range t.Peers[j].AllowedIPs {
			if pfx.IsValid() && pfx.Bits() == 0 {
				defaults = append(defaults, allowedEntry{p: pfx.Masked(), peer: j, elem: k})
			}
		}
	}
	const hint = `use table = 51820 with fwmark = 51820 for policy routing, or table = "off"`
	if roaming {
		for _, e := range defaults {
			v.r.errorf(v.allowedPath(at, e.peer, e.elem), ErrLoop, "%s in the main table, and a peer without an endpoint would be answered through the tunnel itself; %s", e.p, hint)
		}
	}
	if endpoints == 0 {
		return
	}
	n := 0
	for j := range t.Peers {
		n += len(t.Peers[j].AllowedIPs)
	}
	// The first peer and element of each masked prefix (firstseen costs a
	// third of a map's instructions; 30,000 prefixes on a hub).
	allowed := firstseen.New(n)
	sameAs := func(m netip.Prefix) func(j, k int) bool {
		return func(j, k int) bool { return t.Peers[j].AllowedIPs[k].Masked() == m }
	}
	var lengths [2][129]bool // the prefix lengths in allowed, IPv4 and IPv6
	for j := range t.Peers {
		for k, pfx := range t.Peers[j].AllowedIPs {
			if !pfx.IsValid() {
				continue
			}
			m := pfx.Masked()
			if _, _, dup := allowed.Add(allowed.HashPrefix(m), j, k, sameAs(m)); !dup {
				lengths[familyIndex(m.Addr())][m.Bits()] = true
			}
		}
	}
	// The lengths present, longest first: an endpoint is looked up at
	// those only, not at each of its address's 33 or 129.
	var present [2][]int
	for f := range lengths {
		for bits := len(lengths[f]) - 1; bits >= 0; bits-- {
			if lengths[f][bits] {
				present[f] = append(present[f], bits)
			}
		}
	}
	for j := range t.Peers {
		eps := t.Peers[j].EndpointList()
		for k, e := range eps {
			if !e.Addr.IsValid() {
				continue
			}
			a := e.Addr.Addr()
			longest, found := allowedEntry{}, false
			for _, bits := range present[familyIndex(a)] {
				pfx, err := a.Prefix(bits)
				if err != nil {
					break
				}
				if pj, pk, ok := allowed.Find(allowed.HashPrefix(pfx), sameAs(pfx)); ok {
					longest, found = allowedEntry{p: pfx, peer: pj, elem: pk}, true
					break
				}
			}
			if !found {
				continue
			}
			if !v.onLink(a, longest.p.Bits()) {
				v.r.errorf(endpointPath(at, j, k, len(eps) > t.Peers[j].fallbacks), ErrLoop,
					"%s is inside %s (%s) and no more specific uplink route reaches it: packets to the endpoint would loop through the tunnel; %s",
					a, longest.p, v.allowedPath(at, longest.peer, longest.elem), hint)
			}
		}
	}
}

// onLink reports whether an uplink address prefix longer than bits
// contains a, so that its connected route wins over a tunnel route.
func (v *validator) onLink(a netip.Addr, bits int) bool {
	return slices.ContainsFunc(v.p.Uplink.Address, func(u netip.Prefix) bool {
		return u.Contains(a) && u.Bits() > bits
	})
}

// routeKey is a route in a routing table.
type routeKey struct {
	table Table
	p     netip.Prefix
}

// routeConflicts reports allowed IPs that another tunnel already routes in
// the same table: the second route would fail with EEXIST.
func (v *validator) routeConflicts(at string, i int, t *Tunnel, routes map[routeKey]int) {
	for j := range t.Peers {
		for k, pfx := range t.Peers[j].AllowedIPs {
			if !pfx.IsValid() {
				continue
			}
			key := routeKey{t.Table, pfx.Masked()}
			if other, dup := routes[key]; dup && other != i {
				v.r.errorf(v.allowedPath(at, j, k), ErrOverlap, "%s is also routed to tunnel[%d] in the same table", key.p, other)
				continue
			}
			routes[key] = i
		}
	}
}

func (v *validator) handoff() {
	h := &v.p.Handoff
	switch {
	case h.Root == "":
		if h.FSType != "" {
			v.r.warnf("handoff.fstype", ErrInvalid, "ignored: root is empty, so init runs from the initramfs")
		}
	case h.FSType == "":
		v.root(h)
		v.r.errorf("handoff.fstype", ErrRequired, "required when root is set, e.g. \"ext4\"")
	default:
		v.root(h)
	}
	if !strings.HasPrefix(h.Init, "/") {
		v.r.errorf("handoff.init", ErrInvalid, "%q: want an absolute path such as /sbin/init", h.Init)
	}
	if !h.OnFailure.Valid() {
		v.r.errorf("handoff.on_failure", ErrInvalid, "unknown action %q: want "+onFailureWant, h.OnFailure)
	}
	if !h.RemoteFallback.Valid() || h.RemoteFallback == FailRemote {
		v.r.errorf("handoff.remote_fallback", ErrInvalid, "unknown action %q: want continue, shell, reboot or halt", h.RemoteFallback)
	}
	if h.Deadline <= 0 {
		v.r.errorf("handoff.deadline", ErrRange, "must be positive: it bounds all of early boot")
		return
	}
	if h.WaitHandshake >= h.Deadline {
		v.r.warnf("handoff.wait_handshake", ErrRange, "%s is not shorter than deadline (%s)", h.WaitHandshake, h.Deadline)
	}
	u := &v.p.Uplink
	// The waits in the order the boot runs them: carrier, duplicate
	// address detection of the static addresses, then DHCP and router
	// advertisements at the same time.
	what := "carrier_timeout"
	dad := u.DADWait(v.p.NeedsIPv6())
	if dad > 0 {
		what += " + dad (" + dad.String() + ")"
	}
	var dynamic time.Duration
	longest := ""
	if u.DHCP && u.DHCPTimeout > dynamic {
		dynamic, longest = u.DHCPTimeout, " + dhcp_timeout"
	}
	if u.AcceptRA && u.RATimeout > dynamic {
		dynamic, longest = u.RATimeout, " + ra_timeout"
	}
	what += longest
	if sum := u.CarrierTimeout + dad + dynamic + h.WaitHandshake; sum > h.Deadline && u.CarrierTimeout < h.Deadline && dynamic < h.Deadline && h.WaitHandshake < h.Deadline {
		v.r.warnf("handoff.deadline", ErrRange, "%s is shorter than %s + wait_handshake (%s)", h.Deadline, what, sum.Round(time.Millisecond))
	}
}

// ifName checks an interface name with the kernel rule the boot applies
// too ([krule.CheckIfName]) and reports whether it is usable.
func (v *validator) ifName(at, name string) bool {
	if name == "" {
		if !v.isBad(at) {
			v.r.errorf(at, ErrRequired, "required: an interface name such as eth0")
		}
		return false
	}
	var ie *krule.IfNameError
	if err := krule.CheckIfName(name); errors.As(err, &ie) {
		v.r.errorf(at, ErrInvalid, "%q: %s", name, ie.Reason)
		return false
	}
	return true
}

// ifAddr checks an interface address and reports whether it is usable.
func (v *validator) ifAddr(at string, a netip.Prefix) bool {
	addr := a.Addr()
	switch {
	case !a.IsValid():
		return false
	case addr.IsUnspecified() || addr.IsMulticast():
		v.r.errorf(at, ErrInvalid, "%s cannot be an interface address", addr)
		return false
	case addr.Is4() && a.Bits() < 31 && a.Masked().Addr() == addr:
		v.r.warnf(at, ErrInvalid, "%s is the network address of %s; an interface address is usually a host in it", addr, a.Masked())
	}
	return true
}

// isBad reports whether path failed to parse, or lies under a value that
// failed to parse.
func (v *validator) isBad(path string) bool {
	if len(v.bad) == 0 {
		return false
	}
	if _, ok := v.bad[path]; ok {
		return true
	}
	for p := parentPath(path); p != ""; p = parentPath(p) {
		if v.bad[p] {
			return true
		}
	}
	return false
}

// familyIndex is 0 for IPv4 and 1 for IPv6 addresses, IPv4-mapped ones
// included.
func familyIndex(a netip.Addr) int {
	if a.Is4() {
		return 0
	}
	return 1
}

func familyOf(a netip.Addr) int {
	if a.Unmap().Is4() {
		return 4
	}
	return 6
}
