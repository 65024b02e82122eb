package bringup

import (
	"encoding/binary"
	"fmt"
	"maps"
	"net/netip"
	"slices"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/wgboot/wgboot/internal/wgkey"
	"github.com/wgboot/wgboot/netsetup"
	"github.com/wgboot/wgboot/netsetup/internal/nl"
	"github.com/wgboot/wgboot/netsetup/internal/nltest"
	"github.com/wgboot/wgboot/netsetup/wg"
)

// fakeKernel models what a bring-up changes: links, addresses, routes and
// rules over rtnetlink, and the WireGuard devices' keys and peers over the
// "wireguard" generic netlink family. It answers the requests netsetup and
// wg send, keeps the resulting state for the tests to inspect, and fails
// the requests a test marks.
type fakeKernel struct {
	t  *testing.T
	mu sync.Mutex

	links   map[int32]*fakeLink
	next    int32
	addrs   []fakeAddr
	routes  []fakeRoute
	rules   int
	ops     []string // one line per state change, in order
	devices map[string]*fakeDevice

	// failRoute makes RTM_NEWROUTE to this prefix fail with EINVAL.
	failRoute netip.Prefix
	// failSet makes WG_CMD_SET_DEVICE fail with EINVAL.
	failSet bool
	// alive holds the endpoints that answer: a peer configured with one
	// completes a handshake, seen by the next WG_CMD_GET_DEVICE.
	alive map[netip.AddrPort]bool
	// unsendable holds the endpoints the kernel cannot send to (no
	// route): no handshake initiation leaves for them.
	unsendable map[netip.AddrPort]bool
	// dumpKeys makes WG_CMD_GET_DEVICE report the private key and the
	// preshared keys, as the kernel does. The fake keeps them
	// complemented (see keySocket), so that a test can search the
	// process's memory for them.
	dumpKeys bool
}

type fakeLink struct {
	name, kind string
	up         bool
	mtu        uint32
}

type fakeAddr struct {
	index int32
	p     netip.Prefix
}

type fakeRoute struct {
	dst   netip.Prefix
	oif   int32
	table uint32
}

// fakeDevice is what SET_DEVICE gave a device; keys are kept only as
// "was a key sent".
type fakeDevice struct {
	privateKey bool
	peers      []wgkey.Key
	psks       int
	endpoints  map[wgkey.Key]netip.AddrPort
	handshakes map[wgkey.Key]time.Time
	// tx counts the bytes of handshake initiations sent to each peer;
	// reads counts the GET_DEVICEs since its endpoint last changed.
	tx    map[wgkey.Key]uint64
	reads map[wgkey.Key]int
	// The keys' complements, for dumpKeys.
	privInv [wgkey.Len]byte
	pskInv  map[wgkey.Key][wgkey.Len]byte
	// pub is reported as the device's public key, if set: the fake does
	// not derive it.
	pub wgkey.Key
}

const testFamily = 0x1c

func newFakeKernel(t *testing.T, links ...fakeLink) *fakeKernel {
	k := &fakeKernel{t: t, links: make(map[int32]*fakeLink), next: 1, devices: make(map[string]*fakeDevice),
		alive: make(map[netip.AddrPort]bool), unsendable: make(map[netip.AddrPort]bool)}
	for _, l := range links {
		k.addLink(l)
	}
	return k
}

func (k *fakeKernel) addLink(l fakeLink) int32 {
	i := k.next
	k.next++
	k.links[i] = &l
	if l.kind == "wireguard" {
		k.devices[l.name] = newFakeDevice()
	}
	return i
}

// net returns a bring-up served by k.
func (k *fakeKernel) net(t *testing.T) *Net {
	t.Helper()
	c, err := wg.NewClient(nltest.Dial(nltest.ServeFamily("wireguard", testFamily, k.serveWG)))
	if err != nil {
		t.Fatalf("wg.NewClient() error = %v", err)
	}
	n := &Net{RT: netsetup.NewHandle(nltest.Dial(k.serveRT)), WG: c, Log: testLog{t}}
	t.Cleanup(func() { n.RT.Close(); n.WG.Close() })
	return n
}

func (k *fakeKernel) op(format string, args ...any) {
	k.ops = append(k.ops, fmt.Sprintf(format, args...))
}

func (k *fakeKernel) byName(name string) (int32, *fakeLink) {
	for i, l := range k.links {
		if l.name == name {
			return i, l
		}
	}
	return 0, nil
}

func (k *fakeKernel) serveRT(req nl.Message) ([]nl.Message, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	dump := req.Flags&unix.NLM_F_DUMP == unix.NLM_F_DUMP
	switch {
	case dump:
		return nltest.Dump(req), nil
	case req.Type == unix.RTM_GETLINK || req.Type == unix.RTM_NEWLINK || req.Type == unix.RTM_DELLINK:
		return k.link(req)
	case req.Type == unix.RTM_NEWADDR:
		a, err := parseAddr(req)
		if err != nil {
			return nil, err
		}
		k.addrs = append(k.addrs, a)
		k.op("address %s on %d", a.p, a.index)
		return nltest.Ack(req), nil
	case req.Type == unix.RTM_NEWROUTE:
		r, err := parseRoute(req)
		if err != nil {
			return nil, err
		}
		if r.dst == k.failRoute {
			return nltest.Errno(req, unix.EINVAL, "Invalid route"), nil
		}
		k.routes = append(k.routes, r)
		k.op("route %s dev %d table %d", r.dst, r.oif, r.table)
		return nltest.Ack(req), nil
	case req.Type == unix.RTM_NEWRULE:
		k.rules++
		k.op("rule")
		return nltest.Ack(req), nil
	}
	return nil, fmt.Errorf("fake kernel: unexpected request type %d", req.Type)
}

func (k *fakeKernel) link(req nl.Message) ([]nl.Message, error) {
	fixed, attrs, err := nl.SplitPayload(req.Data, unix.SizeofIfInfomsg)
	if err != nil {
		return nil, err
	}
	index := int32(binary.NativeEndian.Uint32(fixed[4:8]))
	flags, change := binary.NativeEndian.Uint32(fixed[8:12]), binary.NativeEndian.Uint32(fixed[12:16])
	var name, kind string
	var mtu uint32
	ad := nl.NewAttrDecoder(attrs)
	for ad.Next() {
		switch ad.Type() {
		case unix.IFLA_IFNAME:
			name = ad.String()
		case unix.IFLA_MTU:
			mtu = ad.Uint32()
		case unix.IFLA_LINKINFO:
			ad.Nested(func(li *nl.AttrDecoder) error {
				for li.Next() {
					if li.Type() == unix.IFLA_INFO_KIND {
						kind = li.String()
					}
				}
				return li.Err()
			})
		}
	}
	if err := ad.Err(); err != nil {
		return nil, err
	}
	l := k.links[index]
	if index == 0 && name != "" {
		index, l = k.byName(name)
	}
	switch req.Type {
	case unix.RTM_GETLINK:
		if l == nil {
			return nltest.Errno(req, unix.ENODEV, ""), nil
		}
		return []nl.Message{k.linkMessage(index, l)}, nil
	case unix.RTM_DELLINK:
		if l == nil {
			return nltest.Errno(req, unix.ENODEV, ""), nil
		}
		delete(k.links, index)
		delete(k.devices, l.name)
		k.op("delete link %s", l.name)
		return nltest.Ack(req), nil
	}
	if req.Flags&unix.NLM_F_CREATE != 0 && kind != "" {
		if l != nil {
			return nltest.Errno(req, unix.EEXIST, ""), nil
		}
		k.addLink(fakeLink{name: name, kind: kind, mtu: 1420})
		k.op("create link %s kind %s", name, kind)
		return nltest.Ack(req), nil
	}
	if l == nil {
		return nltest.Errno(req, unix.ENODEV, ""), nil
	}
	if mtu != 0 {
		l.mtu = mtu
		k.op("mtu %d on %s", mtu, l.name)
	}
	if change&unix.IFF_UP != 0 {
		l.up = flags&unix.IFF_UP != 0
		k.op("up=%v on %s", l.up, l.name)
	}
	return nltest.Ack(req), nil
}

func (k *fakeKernel) linkMessage(index int32, l *fakeLink) nl.Message {
	fixed := make([]byte, unix.SizeofIfInfomsg)
	binary.NativeEndian.PutUint32(fixed[4:8], uint32(index))
	if l.up {
		binary.NativeEndian.PutUint32(fixed[8:12], unix.IFF_UP)
	}
	var ae nl.AttrEncoder
	ae.String(unix.IFLA_IFNAME, l.name)
	ae.Uint32(unix.IFLA_MTU, l.mtu)
	if l.kind != "" {
		ae.Nested(unix.IFLA_LINKINFO, func(li *nl.AttrEncoder) error {
			li.String(unix.IFLA_INFO_KIND, l.kind)
			return nil
		})
	}
	data, err := nl.Payload(fixed, &ae)
	if err != nil {
		k.t.Fatal(err)
	}
	return nl.Message{Header: nl.Header{Type: unix.RTM_NEWLINK}, Data: data}
}

func parseAddr(req nl.Message) (fakeAddr, error) {
	fixed, attrs, err := nl.SplitPayload(req.Data, unix.SizeofIfAddrmsg)
	if err != nil {
		return fakeAddr{}, err
	}
	a := fakeAddr{index: int32(binary.NativeEndian.Uint32(fixed[4:8]))}
	ad := nl.NewAttrDecoder(attrs)
	for ad.Next() {
		if ad.Type() == unix.IFA_LOCAL || ad.Type() == unix.IFA_ADDRESS {
			ip, _ := netip.AddrFromSlice(ad.Bytes())
			a.p = netip.PrefixFrom(ip, int(fixed[1]))
		}
	}
	return a, ad.Err()
}

func parseRoute(req nl.Message) (fakeRoute, error) {
	fixed, attrs, err := nl.SplitPayload(req.Data, unix.SizeofRtMsg)
	if err != nil {
		return fakeRoute{}, err
	}
	r := fakeRoute{table: uint32(fixed[4])}
	bits := int(fixed[1])
	dst := netip.IPv4Unspecified()
	if fixed[0] == unix.AF_INET6 {
		dst = netip.IPv6Unspecified()
	}
	ad := nl.NewAttrDecoder(attrs)
	for ad.Next() {
		switch ad.Type() {
		case unix.RTA_DST:
			dst, _ = netip.AddrFromSlice(ad.Bytes())
		case unix.RTA_OIF:
			r.oif = int32(ad.Uint32())
		case unix.RTA_TABLE:
			r.table = ad.Uint32()
		}
	}
	r.dst = netip.PrefixFrom(dst, bits)
	return r, ad.Err()
}

func newFakeDevice() *fakeDevice {
	return &fakeDevice{endpoints: make(map[wgkey.Key]netip.AddrPort), handshakes: make(map[wgkey.Key]time.Time),
		tx: make(map[wgkey.Key]uint64), reads: make(map[wgkey.Key]int), pskInv: make(map[wgkey.Key][wgkey.Len]byte)}
}

// serveWG answers WG_CMD_SET_DEVICE, recording which keys were sent and
// the peers' endpoints, and WG_CMD_GET_DEVICE.
func (k *fakeKernel) serveWG(req nl.Message) ([]nl.Message, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	h, ad, err := nl.ParseGenl(req.Data)
	if err != nil {
		return nil, err
	}
	if h.Command == unix.WG_CMD_GET_DEVICE {
		return k.getDevice(req, ad)
	}
	if h.Command != unix.WG_CMD_SET_DEVICE {
		return nil, fmt.Errorf("fake kernel: unexpected wireguard command %d", h.Command)
	}
	var name string
	dev := newFakeDevice()
	var updates []wgkey.Key // peers sent with UPDATE_ONLY
	replace := false
	for ad.Next() {
		switch ad.Type() {
		case unix.WGDEVICE_A_IFNAME:
			name = ad.String()
		case unix.WGDEVICE_A_FLAGS:
			replace = ad.Uint32()&unix.WGDEVICE_F_REPLACE_PEERS != 0
		case unix.WGDEVICE_A_PRIVATE_KEY:
			dev.privateKey = complement(&dev.privInv, ad)
		case unix.WGDEVICE_A_PEERS:
			ad.Nested(func(peers *nl.AttrDecoder) error {
				for peers.Next() {
					peers.Nested(func(p *nl.AttrDecoder) error {
						var key wgkey.Key
						var ep netip.AddrPort
						var pskInv [wgkey.Len]byte
						hasPSK := false
						update := false
						for p.Next() {
							switch p.Type() {
							case unix.WGPEER_A_PUBLIC_KEY:
								key = wgkey.Key(p.Bytes())
							case unix.WGPEER_A_PRESHARED_KEY:
								dev.psks++
								hasPSK = complement(&pskInv, p)
							case unix.WGPEER_A_FLAGS:
								update = p.Uint32()&unix.WGPEER_F_UPDATE_ONLY != 0
							case unix.WGPEER_A_ENDPOINT:
								ep = parseSockaddr(p.Bytes())
							}
						}
						if update {
							updates = append(updates, key)
						} else {
							dev.peers = append(dev.peers, key)
						}
						if ep.IsValid() {
							dev.endpoints[key] = ep
						}
						if hasPSK {
							dev.pskInv[key] = pskInv
						}
						return p.Err()
					})
				}
				return peers.Err()
			})
		}
	}
	if err := ad.Err(); err != nil {
		return nil, err
	}
	d := k.devices[name]
	if d == nil {
		return nltest.Errno(req, unix.ENODEV, ""), nil
	}
	if k.failSet {
		return nltest.Errno(req, unix.EINVAL, "Invalid argument"), nil
	}
	if replace {
		d.peers = nil
		clear(d.endpoints)
	}
	if dev.privateKey {
		d.privateKey, d.privInv = true, dev.privInv
	}
	maps.Copy(d.pskInv, dev.pskInv)
	d.peers = append(d.peers, dev.peers...)
	d.psks += dev.psks
	maps.Copy(d.endpoints, dev.endpoints)
	for key := range dev.endpoints {
		d.reads[key] = 0
	}
	for _, key := range updates {
		if slices.Contains(d.peers, key) {
			k.op("set device %s: peer %s endpoint %s", name, key, dev.endpoints[key])
		}
	}
	if len(dev.peers) > 0 || len(updates) == 0 {
		k.op("set device %s: private key %v, %d peer(s), %d preshared key(s)", name, dev.privateKey, len(dev.peers), dev.psks)
	}
	return nltest.Ack(req), nil
}

// getDevice answers WG_CMD_GET_DEVICE with the device's peers, their
// endpoints, handshake times and transmitted bytes, in one part. Between
// two reads after a peer's endpoint changed, the fake sends a handshake
// initiation (148 bytes) to it, unless it is unsendable; an alive endpoint
// completes the handshake at once.
func (k *fakeKernel) getDevice(req nl.Message, ad *nl.AttrDecoder) ([]nl.Message, error) {
	var name string
	for ad.Next() {
		if ad.Type() == unix.WGDEVICE_A_IFNAME {
			name = ad.String()
		}
	}
	d := k.devices[name]
	if d == nil {
		return nltest.Errno(req, unix.ENODEV, ""), nil
	}
	index, _ := k.byName(name)
	var ae nl.AttrEncoder
	ae.Uint32(unix.WGDEVICE_A_IFINDEX, uint32(index))
	ae.String(unix.WGDEVICE_A_IFNAME, name)
	if k.dumpKeys && d.privateKey {
		ae.Bytes(unix.WGDEVICE_A_PRIVATE_KEY, d.privInv[:])
	}
	if !d.pub.IsZero() {
		ae.Bytes(unix.WGDEVICE_A_PUBLIC_KEY, d.pub[:])
	}
	ae.Nested(unix.WGDEVICE_A_PEERS, func(peers *nl.AttrEncoder) error {
		for i, key := range d.peers {
			ep := d.endpoints[key]
			if d.reads[key] > 0 && ep.IsValid() && !k.unsendable[ep] && d.handshakes[key].IsZero() {
				d.tx[key] += 148
				if k.alive[ep] {
					d.handshakes[key] = time.Now()
					k.op("handshake on %s with %s at %s", name, key, ep)
				}
			}
			d.reads[key]++
			peers.Nested(uint16(i), func(p *nl.AttrEncoder) error {
				p.Bytes(unix.WGPEER_A_PUBLIC_KEY, key[:])
				if inv, ok := d.pskInv[key]; ok && k.dumpKeys {
					p.Bytes(unix.WGPEER_A_PRESHARED_KEY, inv[:])
				}
				ts := make([]byte, 16)
				if hs := d.handshakes[key]; !hs.IsZero() {
					binary.NativeEndian.PutUint64(ts, uint64(hs.Unix()))
					binary.NativeEndian.PutUint64(ts[8:], uint64(hs.Nanosecond()))
				}
				p.Bytes(unix.WGPEER_A_LAST_HANDSHAKE_TIME, ts)
				p.Uint64(unix.WGPEER_A_TX_BYTES, d.tx[key])
				if ep.IsValid() {
					p.Bytes(unix.WGPEER_A_ENDPOINT, sockaddr(ep))
				}
				return nil
			})
		}
		return nil
	})
	data, err := nl.GenlPayload(nl.GenlHeader{Command: unix.WG_CMD_GET_DEVICE, Version: unix.WG_GENL_VERSION}, &ae)
	if err != nil {
		return nil, err
	}
	return nltest.Dump(req, nl.Message{Header: nl.Header{Type: testFamily}, Data: data}), nil
}

// complement stores the complement of the key attribute ad is at in dst,
// and reports whether it was a key. The fake keeps no copy of the key.
func complement(dst *[wgkey.Len]byte, ad *nl.AttrDecoder) bool {
	key := ad.Bytes()
	defer clear(key)
	if len(key) != wgkey.Len {
		return false
	}
	for i, c := range key {
		dst[i] = ^c
	}
	return true
}

// sockaddr encodes ep as the kernel's struct sockaddr_in or sockaddr_in6.
func sockaddr(ep netip.AddrPort) []byte {
	a := ep.Addr()
	if a.Is4() {
		b := binary.NativeEndian.AppendUint16(nil, unix.AF_INET)
		b = binary.BigEndian.AppendUint16(b, ep.Port())
		v := a.As4()
		return append(append(b, v[:]...), make([]byte, 8)...)
	}
	b := binary.NativeEndian.AppendUint16(nil, unix.AF_INET6)
	b = binary.BigEndian.AppendUint16(b, ep.Port())
	b = append(b, 0, 0, 0, 0)
	v := a.As16()
	return append(append(b, v[:]...), 0, 0, 0, 0)
}

// parseSockaddr decodes what sockaddr encodes; anything else is the zero
// AddrPort.
func parseSockaddr(b []byte) netip.AddrPort {
	switch {
	case len(b) == unix.SizeofSockaddrInet4 && binary.NativeEndian.Uint16(b) == unix.AF_INET:
		return netip.AddrPortFrom(netip.AddrFrom4([4]byte(b[4:8])), binary.BigEndian.Uint16(b[2:4]))
	case len(b) == unix.SizeofSockaddrInet6 && binary.NativeEndian.Uint16(b) == unix.AF_INET6:
		return netip.AddrPortFrom(netip.AddrFrom16([16]byte(b[8:24])), binary.BigEndian.Uint16(b[2:4]))
	}
	return netip.AddrPort{}
}

// live makes the fake's endpoint ep answer handshakes from now on.
func (k *fakeKernel) live(ep netip.AddrPort) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.alive[ep] = true
}

// endpoint is the endpoint the fake has for a peer of device dev.
func (k *fakeKernel) endpoint(dev string, key wgkey.Key) netip.AddrPort {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.devices[dev].endpoints[key]
}

// hasRoute reports whether the kernel has a route to dst.
func (k *fakeKernel) hasRoute(dst netip.Prefix) bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	return slices.ContainsFunc(k.routes, func(r fakeRoute) bool { return r.dst == dst })
}

type testLog struct{ t *testing.T }

func (l testLog) Infof(f string, a ...any)  { l.t.Logf("info: "+f, a...) }
func (l testLog) Warnf(f string, a ...any)  { l.t.Logf("warn: "+f, a...) }
func (l testLog) Errorf(f string, a ...any) { l.t.Logf("err: "+f, a...) }
