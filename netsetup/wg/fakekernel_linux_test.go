package wg

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"slices"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/wgboot/wgboot/internal/wgkey"
	"github.com/wgboot/wgboot/netsetup/internal/nl"
	"github.com/wgboot/wgboot/netsetup/internal/nltest"
)

// testFamily is the family ID the fake kernel assigns to "wireguard".
const testFamily = 0x1b

// fakeWG models one WireGuard device of drivers/net/wireguard/netlink.c:
// WG_CMD_SET_DEVICE with the kernel's peer semantics, and a
// WG_CMD_GET_DEVICE dump split into parts of at most dumpSize bytes the way
// wg_get_device_dump splits them.
type fakeWG struct {
	t testing.TB

	mu        sync.Mutex
	name      string
	index     int32
	priv      wgkey.PrivateKey
	port      uint16
	fwmark    uint32
	peers     []*fakePeer
	byKey     map[wgkey.Key]*fakePeer
	owner     map[netip.Prefix]*fakePeer
	dumpSize  int
	interrupt int // dumps still to mark NLM_F_DUMP_INTR
	failSet   int // SET message (1-based) to fail with EINVAL; 0: none
	sets      int
	onGet     func(*fakeWG) // called at each GET, under mu
}

type fakePeer struct {
	key       wgkey.Key
	psk       [32]byte
	endpoint  []byte
	keepalive uint16
	ips       []netip.Prefix
	handshake time.Time
	rx, tx    uint64
}

func newFakeWG(t testing.TB, name string) *fakeWG {
	return &fakeWG{t: t, name: name, index: 7, dumpSize: 32 << 10,
		byKey: make(map[wgkey.Key]*fakePeer), owner: make(map[netip.Prefix]*fakePeer)}
}

// client returns a Client served by f, and the recorder of every request.
func (f *fakeWG) client(t *testing.T) (*Client, *nltest.Recorder) {
	t.Helper()
	var rec nltest.Recorder
	c, err := NewClient(dialFake(rec.Serve(nltest.ServeFamily("wireguard", testFamily, f.serve))))
	if err != nil {
		t.Fatalf("NewClient() error = %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c, &rec
}

func (f *fakeWG) peer(k wgkey.Key) *fakePeer {
	return f.byKey[k]
}

// addPeer and removePeers keep the indexes in step with f.peers.
func (f *fakeWG) addPeer(p *fakePeer) {
	f.peers = append(f.peers, p)
	f.byKey[p.key] = p
}

func (f *fakeWG) removePeers(del func(*fakePeer) bool) {
	f.peers = slices.DeleteFunc(f.peers, func(p *fakePeer) bool {
		if !del(p) {
			return false
		}
		delete(f.byKey, p.key)
		for _, ip := range p.ips {
			delete(f.owner, ip)
		}
		return true
	})
}

func (f *fakeWG) serve(req nl.Message) ([]nl.Message, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if req.Type != testFamily {
		return nil, fmt.Errorf("fake wireguard: request type %#x", req.Type)
	}
	h, ad, err := nl.ParseGenl(req.Data)
	if err != nil {
		return nil, err
	}
	if h.Version != unix.WG_GENL_VERSION {
		return nil, fmt.Errorf("fake wireguard: version %d", h.Version)
	}
	switch h.Command {
	case unix.WG_CMD_SET_DEVICE:
		if req.Flags != unix.NLM_F_REQUEST|unix.NLM_F_ACK {
			return nil, fmt.Errorf("fake wireguard: SET flags %#x", req.Flags)
		}
		f.sets++
		if f.sets == f.failSet {
			return nltest.Errno(req, unix.EINVAL, "injected failure"), nil
		}
		if errno, msg := f.set(ad); errno != 0 {
			return nltest.Errno(req, errno, msg), nil
		}
		return nltest.Ack(req), nil
	case unix.WG_CMD_GET_DEVICE:
		if req.Flags != unix.NLM_F_REQUEST|unix.NLM_F_DUMP {
			return nil, fmt.Errorf("fake wireguard: GET flags %#x", req.Flags)
		}
		var name string
		for ad.Next() {
			if ad.Type() == unix.WGDEVICE_A_IFNAME {
				name = ad.String()
			}
		}
		if name != f.name {
			return nltest.Errno(req, unix.ENODEV, ""), nil
		}
		if f.onGet != nil {
			f.onGet(f)
		}
		parts := f.dump()
		if f.interrupt > 0 {
			f.interrupt--
			parts[len(parts)-1].Flags |= unix.NLM_F_DUMP_INTR
		}
		return nltest.Dump(req, parts...), nil
	}
	return nil, fmt.Errorf("fake wireguard: command %d", h.Command)
}

// set applies a SET message as wg_set_device does, checking NLA_F_NESTED
// as strict validation does since Linux 5.2.
func (f *fakeWG) set(ad *nl.AttrDecoder) (unix.Errno, string) {
	var (
		name              string
		flags             uint32
		priv              []byte
		port, fwmark      *uint32
		peers             []byte
		hasPeers, nesting bool
	)
	for ad.Next() {
		switch ad.Type() {
		case unix.WGDEVICE_A_IFNAME:
			name = ad.String()
		case unix.WGDEVICE_A_FLAGS:
			flags = ad.Uint32()
		case unix.WGDEVICE_A_PRIVATE_KEY:
			priv = ad.Bytes()
		case unix.WGDEVICE_A_LISTEN_PORT:
			v := uint32(ad.Uint16())
			port = &v
		case unix.WGDEVICE_A_FWMARK:
			v := ad.Uint32()
			fwmark = &v
		case unix.WGDEVICE_A_PEERS:
			peers, hasPeers, nesting = ad.Bytes(), true, ad.IsNested()
		default:
			return unix.EINVAL, fmt.Sprintf("unknown device attribute %d", ad.Type())
		}
	}
	if err := ad.Err(); err != nil {
		return unix.EINVAL, err.Error()
	}
	if name != f.name {
		return unix.ENODEV, ""
	}
	if flags&^unix.WGDEVICE_F_REPLACE_PEERS != 0 {
		return unix.EOPNOTSUPP, "device flags"
	}
	if hasPeers && !nesting {
		return unix.EINVAL, "WGDEVICE_A_PEERS without NLA_F_NESTED"
	}
	if fwmark != nil {
		f.fwmark = *fwmark
	}
	if port != nil {
		f.port = uint16(*port)
	}
	if flags&unix.WGDEVICE_F_REPLACE_PEERS != 0 {
		f.removePeers(func(*fakePeer) bool { return true })
	}
	if priv != nil {
		if len(priv) != 32 {
			return unix.EINVAL, "private key length"
		}
		f.priv = wgkey.PrivateKeyFromBytes([32]byte(priv))
		if p := f.peer(f.priv.PublicKey()); p != nil && !f.priv.IsZero() {
			f.removePeers(func(q *fakePeer) bool { return q == p })
		}
	}
	pd := nl.NewAttrDecoder(peers)
	for pd.Next() {
		if !pd.IsNested() {
			return unix.EINVAL, "peer without NLA_F_NESTED"
		}
		var (
			errno unix.Errno
			msg   string
		)
		pd.Nested(func(ad *nl.AttrDecoder) error {
			errno, msg = f.setPeer(ad)
			return nil
		})
		if errno != 0 {
			return errno, msg
		}
	}
	if err := pd.Err(); err != nil {
		return unix.EINVAL, err.Error()
	}
	return 0, ""
}

func (f *fakeWG) setPeer(ad *nl.AttrDecoder) (unix.Errno, string) {
	var (
		key, psk, endpoint []byte
		flags              uint32
		keepalive          *uint16
		ips                []netip.Prefix
	)
	for ad.Next() {
		switch ad.Type() {
		case unix.WGPEER_A_PUBLIC_KEY:
			key = ad.Bytes()
		case unix.WGPEER_A_PRESHARED_KEY:
			psk = ad.Bytes()
		case unix.WGPEER_A_FLAGS:
			flags = ad.Uint32()
		case unix.WGPEER_A_ENDPOINT:
			endpoint = ad.Bytes()
		case unix.WGPEER_A_PERSISTENT_KEEPALIVE_INTERVAL:
			v := ad.Uint16()
			keepalive = &v
		case unix.WGPEER_A_ALLOWEDIPS:
			if !ad.IsNested() {
				return unix.EINVAL, "allowed IPs without NLA_F_NESTED"
			}
			var bad error
			ad.Nested(func(ld *nl.AttrDecoder) error {
				for ld.Next() {
					if !ld.IsNested() {
						bad = fmt.Errorf("allowed IP without NLA_F_NESTED")
						return nil
					}
					ld.Nested(func(ad *nl.AttrDecoder) error {
						p, err := parseAllowedIP(ad)
						if err != nil {
							bad = err
						}
						ips = append(ips, p)
						return nil
					})
				}
				return nil
			})
			if bad != nil {
				return unix.EINVAL, bad.Error()
			}
		default:
			return unix.EINVAL, fmt.Sprintf("unknown peer attribute %d", ad.Type())
		}
	}
	if err := ad.Err(); err != nil {
		return unix.EINVAL, err.Error()
	}
	if len(key) != 32 {
		return unix.EINVAL, "peer public key"
	}
	if flags&^7 != 0 {
		return unix.EOPNOTSUPP, "peer flags"
	}
	k := wgkey.Key(key)
	p := f.peer(k)
	if p == nil {
		if flags&(unix.WGPEER_F_REMOVE_ME|unix.WGPEER_F_UPDATE_ONLY) != 0 {
			return 0, ""
		}
		flags &^= unix.WGPEER_F_REPLACE_ALLOWEDIPS
		if !f.priv.IsZero() && f.priv.PublicKey() == k {
			return 0, "" // silently ignored, as the kernel does
		}
		p = &fakePeer{key: k}
		f.addPeer(p)
	}
	if flags&unix.WGPEER_F_REMOVE_ME != 0 {
		f.removePeers(func(q *fakePeer) bool { return q == p })
		return 0, ""
	}
	if len(psk) == 32 {
		p.psk = [32]byte(psk)
	}
	if l := len(endpoint); (l == unix.SizeofSockaddrInet4 || l == unix.SizeofSockaddrInet6) && parseOK(endpoint) {
		p.endpoint = endpoint
	}
	if flags&unix.WGPEER_F_REPLACE_ALLOWEDIPS != 0 {
		for _, ip := range p.ips {
			delete(f.owner, ip)
		}
		p.ips = nil
	}
	for _, ip := range ips {
		// The kernel masks and moves a prefix to its latest peer.
		ip = ip.Masked()
		if q := f.owner[ip]; q == p {
			continue
		} else if q != nil {
			q.ips = slices.DeleteFunc(q.ips, func(x netip.Prefix) bool { return x == ip })
		}
		f.owner[ip] = p
		p.ips = append(p.ips, ip)
	}
	if keepalive != nil {
		p.keepalive = *keepalive
	}
	return 0, ""
}

func parseOK(b []byte) bool {
	_, err := parseSockaddr(b)
	return err == nil
}

// dump renders the device as wg_get_device_dump does, in parts of at most
// f.dumpSize bytes: device attributes while no peer has been completed, a
// peer cut inside its allowed IPs continues with its public key only.
func (f *fakeWG) dump() []nl.Message {
	var parts []nl.Message
	peer, ip := 0, 0
	started := false // the peer at the cursor was partly sent
	for {
		var top nl.AttrEncoder
		if peer == 0 {
			top.Uint16(unix.WGDEVICE_A_LISTEN_PORT, f.port)
			top.Uint32(unix.WGDEVICE_A_FWMARK, f.fwmark)
			top.Uint32(unix.WGDEVICE_A_IFINDEX, uint32(f.index))
			top.String(unix.WGDEVICE_A_IFNAME, f.name)
			if !f.priv.IsZero() {
				k := f.priv.Bytes()
				top.Bytes(unix.WGDEVICE_A_PRIVATE_KEY, k[:])
				pub := f.priv.PublicKey()
				top.Bytes(unix.WGDEVICE_A_PUBLIC_KEY, pub[:])
			}
		}
		room := f.dumpSize - (nl.HeaderLen + 4 + top.Len() + 4)
		var peers nl.AttrEncoder
		for peer < len(f.peers) {
			p := f.peers[peer]
			var pe nl.AttrEncoder
			pe.Bytes(unix.WGPEER_A_PUBLIC_KEY, p.key[:])
			if !started {
				pe.Bytes(unix.WGPEER_A_PRESHARED_KEY, p.psk[:])
				ts := make([]byte, 16)
				if !p.handshake.IsZero() {
					binary.NativeEndian.PutUint64(ts, uint64(p.handshake.Unix()))
					binary.NativeEndian.PutUint64(ts[8:], uint64(p.handshake.Nanosecond()))
				}
				pe.Bytes(unix.WGPEER_A_LAST_HANDSHAKE_TIME, ts)
				pe.Uint16(unix.WGPEER_A_PERSISTENT_KEEPALIVE_INTERVAL, p.keepalive)
				pe.Uint64(unix.WGPEER_A_TX_BYTES, p.tx)
				pe.Uint64(unix.WGPEER_A_RX_BYTES, p.rx)
				pe.Uint32(unix.WGPEER_A_PROTOCOL_VERSION, 1)
				if p.endpoint != nil {
					pe.Bytes(unix.WGPEER_A_ENDPOINT, p.endpoint)
				}
			}
			free := room - peers.Len() - 4 - pe.Len()
			if free < 0 {
				break
			}
			n := 0
			if rest := p.ips[ip:]; len(rest) > 0 {
				free -= 4
				var list nl.AttrEncoder
				for _, pfx := range rest {
					var a nl.AttrEncoder
					a.Uint8(unix.WGALLOWEDIP_A_CIDR_MASK, uint8(pfx.Bits()))
					if pfx.Addr().Is4() {
						a.Uint16(unix.WGALLOWEDIP_A_FAMILY, unix.AF_INET)
						v := pfx.Addr().As4()
						a.Bytes(unix.WGALLOWEDIP_A_IPADDR, v[:])
					} else {
						a.Uint16(unix.WGALLOWEDIP_A_FAMILY, unix.AF_INET6)
						v := pfx.Addr().As16()
						a.Bytes(unix.WGALLOWEDIP_A_IPADDR, v[:])
					}
					b, _ := a.Encode()
					if list.Len()+4+len(b) > free {
						break
					}
					list.Bytes(unix.NLA_F_NESTED, b)
					n++
				}
				if free < 0 && peers.Len() > 0 {
					break
				}
				lb, _ := list.Encode()
				pe.Bytes(unix.WGPEER_A_ALLOWEDIPS|unix.NLA_F_NESTED, lb)
			}
			pb, _ := pe.Encode()
			peers.Bytes(unix.NLA_F_NESTED, pb)
			if ip+n < len(p.ips) {
				ip += n
				started = true
				break
			}
			peer++
			ip = 0
			started = false
		}
		if peers.Len() > 0 {
			pb, _ := peers.Encode()
			top.Bytes(unix.WGDEVICE_A_PEERS|unix.NLA_F_NESTED, pb)
		}
		data, err := nl.GenlPayload(nl.GenlHeader{Command: unix.WG_CMD_GET_DEVICE, Version: unix.WG_GENL_VERSION}, &top)
		if err != nil {
			f.t.Errorf("fake wireguard: dump: %v", err)
		}
		parts = append(parts, nl.Message{Header: nl.Header{Type: testFamily}, Data: data})
		if peer >= len(f.peers) {
			return parts
		}
		if len(parts) > 1e5 {
			f.t.Fatalf("fake wireguard: dump makes no progress")
		}
	}
}
