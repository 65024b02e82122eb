package wg

import (
	"encoding/binary"
	"fmt"
	"math"
	"net/netip"
	"runtime"
	"time"

	"golang.org/x/sys/unix"

	"github.com/wgboot/wgboot/internal/secmem"
	"github.com/wgboot/wgboot/internal/wgkey"
	"github.com/wgboot/wgboot/netsetup/internal/nl"
)

const (
	// DefaultMessageSize is the default byte budget of one SET message,
	// headers included. Each message costs a system call and a wake-up,
	// about 0.7-2 ms on a single slow vCPU, so messages are large: 10,000
	// peers with an endpoint and three allowed IPs each take 27. It stays
	// below 64 KiB
	// because the WGDEVICE_A_PEERS nest that carries nearly all of it has
	// a 16-bit length.
	DefaultMessageSize = 60 << 10

	// MinMessageSize is the smallest budget SetMessageSize accepts. It
	// holds the device fields with the longest interface name and one peer
	// fragment with every field and one IPv6 allowed IP (272 bytes).
	MinMessageSize = 512

	// maxMessageSize keeps the WGDEVICE_A_PEERS nest within its u16 length.
	maxMessageSize = math.MaxUint16
)

// Sizes of the fixed parts of a SET message.
const (
	genlHeaderLen = 4 // GENL_HDRLEN
	attrHeaderLen = 4 // NLA_HDRLEN
	keyAttrLen    = attrHeaderLen + wgkey.Len
)

// allowedIPLen is the encoded size of one allowed-IP nest: the nest header,
// FAMILY (u16, padded), IPADDR and CIDR_MASK (u8, padded). It is 28 bytes
// for IPv4 and 40 for IPv6.
func allowedIPLen(p netip.Prefix) int {
	if p.Addr().Is4() {
		return attrHeaderLen + 8 + (attrHeaderLen + 4) + 8
	}
	return attrHeaderLen + 8 + (attrHeaderLen + 16) + 8
}

// Configure validates cfg, then applies it to the WireGuard device ifname
// with as few WG_CMD_SET_DEVICE messages as the byte budget allows, each
// acknowledged by the kernel before the next is sent.
//
// An invalid cfg is rejected before anything is sent, with an error
// matching ErrInvalid. If the kernel rejects a message, the earlier
// messages stay applied (the kernel is not transactional); the error says
// how far it got. Re-apply with ReplacePeers to recover a known state.
func (c *Client) Configure(ifname string, cfg Config) error {
	if err := checkIfname(ifname); err != nil {
		return fmt.Errorf("configure wireguard: %w", &FieldError{Field: "ifname", Err: err})
	}
	if err := Validate(cfg); err != nil {
		return fmt.Errorf("configure %s: %w", ifname, err)
	}
	scopes, err := resolveScopes(cfg.Peers)
	if err != nil {
		return fmt.Errorf("configure %s: %w", ifname, err)
	}
	// The keys go through the vector registers of the thread that encodes
	// them (see package secmem): the goroutine stays on that thread until
	// they are cleared.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	defer secmem.ClearRegisters()
	b := newSetBuilder(ifname, &cfg, c.messageSize, scopes)
	sent := 0
	for !b.done() {
		payload, peers, err := b.next()
		if err != nil {
			return fmt.Errorf("configure %s: build message %d: %w", ifname, sent+1, err)
		}
		req := nl.Message{Header: nl.Header{Type: c.family, Flags: unix.NLM_F_ACK}, Data: payload}
		_, err = c.conn.Execute(req, "WG_CMD_SET_DEVICE")
		clear(payload)
		if err != nil {
			applied := "nothing applied"
			if sent > 0 {
				applied = fmt.Sprintf("the %d earlier messages stay applied", sent)
			}
			return fmt.Errorf("configure %s: message %d (%s): %w (%s)", ifname, sent+1, peers, err, applied)
		}
		sent++
	}
	return nil
}

// resolveScopes returns the scope IDs of the peers' zoned endpoints, by
// peer index, or nil if there are none. It runs before anything is sent.
func resolveScopes(peers []PeerConfig) (map[int]uint32, error) {
	var scopes map[int]uint32
	for i := range peers {
		zone := peers[i].Endpoint.Addr().Zone()
		if zone == "" || peers[i].Remove {
			continue
		}
		id, err := scopeID(zone)
		if err != nil {
			return nil, &FieldError{Field: fmt.Sprintf("peers[%d].endpoint", i), Err: err}
		}
		if scopes == nil {
			scopes = make(map[int]uint32)
		}
		scopes[i] = id
	}
	return scopes, nil
}

// setBuilder cuts a Config into WG_CMD_SET_DEVICE payloads, each at most
// budget bytes long as a whole message, following wg(8)'s
// kernel_set_device:
//
//   - the device fields and WGDEVICE_F_REPLACE_PEERS go in the first
//     message only;
//   - peers are packed greedily; a peer that does not fit is cut after
//     its last allowed IP that fits, and continues in the next message
//     with only its public key, WGPEER_F_UPDATE_ONLY if set and the
//     remaining allowed IPs;
//   - WGPEER_F_REPLACE_ALLOWEDIPS, the preshared key, the endpoint and the
//     keepalive go in a peer's first fragment only.
//
// Unlike wg(8), a peer never starts with a fragment that carries none of
// its allowed IPs: it moves to the next message whole instead.
//
// Keys never leave a stray copy: the encoders that hold them are sized for
// a whole message before anything goes in, so appending never moves them,
// and wiped when next returns, on every path; only the payload it returns
// holds keys, and Configure wipes it once sent. The keys are encoded from
// their own memory (Use), never from a copy, and the registers the copies
// went through are cleared (see package secmem).
type setBuilder struct {
	ifname string
	cfg    *Config
	budget int
	scopes map[int]uint32

	scratch []byte // for appendAllowedIP
	// payload is the array every message's payload is built in: next
	// returns it, Configure zeroes it once sent. One array for all the
	// messages, not a new one each (27 of 60 KiB for 10,000 peers).
	payload []byte

	// Reused for every message: its attributes, with the private key and
	// the preshared keys.
	dev nl.AttrEncoder

	first bool // the next message is the first
	peer  int  // cursor: next peer
	ip    int  // cursor: next allowed IP of that peer; > 0 in a continuation
}

func newSetBuilder(ifname string, cfg *Config, budget int, scopes map[int]uint32) *setBuilder {
	return &setBuilder{ifname: ifname, cfg: cfg, budget: budget, scopes: scopes, first: true}
}

// done reports whether every message has been built.
func (b *setBuilder) done() bool {
	return !b.first && b.peer >= len(b.cfg.Peers)
}

// peerRange describes the peers of one message for error messages.
type peerRange struct{ first, last, count int }

func (r peerRange) String() string {
	switch r.count {
	case 0:
		return "device fields only"
	case 1:
		return fmt.Sprintf("peers[%d]", r.first)
	}
	return fmt.Sprintf("peers[%d] to peers[%d]", r.first, r.last)
}

// maxPeerHeader bounds a peer nest's header and attributes before its
// allowed IPs (public key 36, flags 8, endpoint 32, keepalive 8): next
// writes them before it knows whether the peer fits, so dev grows by that
// much beyond the budget up front, and never moves the keys it holds.
const maxPeerHeader = 128

// next builds the next message's generic netlink payload. Every nest (the
// peers, each peer, its allowed IPs) is written in place in dev
// (nl.AttrEncoder.Begin), not built in an encoder of its own and copied
// into its parent's: each byte of a message is copied twice (into dev,
// into the payload), not five times.
func (b *setBuilder) next() ([]byte, peerRange, error) {
	dev := &b.dev
	dev.Grow(b.budget + maxPeerHeader)
	defer dev.Wipe()
	first := b.first
	b.first = false
	cfg := b.cfg

	dev.String(unix.WGDEVICE_A_IFNAME, b.ifname)
	reserve := 0 // bytes appended after the peers
	if first {
		if cfg.ListenPort != nil {
			dev.Uint16(unix.WGDEVICE_A_LISTEN_PORT, uint16(*cfg.ListenPort))
		}
		if cfg.FirewallMark != nil {
			dev.Uint32(unix.WGDEVICE_A_FWMARK, *cfg.FirewallMark)
		}
		if cfg.ReplacePeers {
			dev.Uint32(unix.WGDEVICE_A_FLAGS, unix.WGDEVICE_F_REPLACE_PEERS)
		}
		if cfg.PrivateKey != nil {
			reserve = keyAttrLen
		}
	}
	if err := dev.Err(); err != nil {
		return nil, peerRange{first: b.peer}, err // not a peer's
	}
	// Room left for peer nests inside WGDEVICE_A_PEERS.
	room := b.budget - (nl.HeaderLen + genlHeaderLen + dev.Len() + attrHeaderLen + reserve)
	peersAt := dev.Begin(unix.WGDEVICE_A_PEERS)
	peersLen := func() int { return dev.Len() - peersAt - attrHeaderLen }

	rng := peerRange{first: b.peer}
	for b.peer < len(cfg.Peers) {
		pc := &cfg.Peers[b.peer]
		before := peersLen()
		peerAt := dev.Begin(unix.NLA_F_NESTED)
		psk := b.peerHeader(dev, pc, b.ip > 0)
		ips := pc.AllowedIPs[b.ip:]
		if pc.Remove {
			ips = nil
		}
		// The peer nest without its allowed IPs.
		need := dev.Len() - peerAt
		if psk {
			need += keyAttrLen
		}
		free := room - before - need
		n := 0
		if len(ips) > 0 {
			free -= attrHeaderLen // WGPEER_A_ALLOWEDIPS
			for used := 0; n < len(ips); n++ {
				l := allowedIPLen(ips[n])
				if used+l > free {
					break
				}
				used += l
			}
		}
		if free < 0 || (len(ips) > 0 && n == 0) {
			dev.Truncate(peerAt)
			break // the rest goes in the next message
		}
		if n > 0 {
			ipsAt := dev.Begin(unix.WGPEER_A_ALLOWEDIPS)
			for _, p := range ips[:n] {
				b.scratch = appendAllowedIP(dev, b.scratch, p)
			}
			dev.End(ipsAt)
		}
		if psk {
			pc.PresharedKey.Use(func(k []byte) { dev.Bytes(unix.WGPEER_A_PRESHARED_KEY, k) })
		}
		dev.End(peerAt)
		if err := dev.Err(); err != nil {
			return nil, rng, fmt.Errorf("peers[%d]: %w", b.peer, err)
		}
		rng.last = b.peer
		rng.count++
		if n < len(ips) {
			b.ip += n
			break // message full inside this peer
		}
		b.peer++
		b.ip = 0
	}
	if rng.count == 0 && !first {
		return nil, rng, fmt.Errorf("peers[%d] does not fit in a %d-byte message", b.peer, b.budget)
	}

	if rng.count > 0 {
		dev.End(peersAt)
	} else {
		dev.Truncate(peersAt) // no WGDEVICE_A_PEERS
	}
	if reserve > 0 {
		cfg.PrivateKey.Use(func(k []byte) { dev.Bytes(unix.WGDEVICE_A_PRIVATE_KEY, k) })
	}
	payload, err := nl.AppendGenlPayload(b.payload[:0], nl.GenlHeader{Command: unix.WG_CMD_SET_DEVICE, Version: unix.WG_GENL_VERSION}, dev)
	if err == nil {
		b.payload = payload[:0]
	}
	secmem.ClearRegisters() // the nests and the payload were copied through them
	if err != nil {
		return nil, rng, err
	}
	if l := nl.HeaderLen + len(payload); l > b.budget {
		clear(payload)
		return nil, rng, fmt.Errorf("internal error: %d-byte message exceeds the %d-byte budget", l, b.budget)
	}
	return payload, rng, nil
}

// peerHeader encodes into ae a peer fragment's attributes that precede its
// allowed IPs, and reports whether its preshared key must follow them.
func (b *setBuilder) peerHeader(ae *nl.AttrEncoder, pc *PeerConfig, continuation bool) bool {
	ae.Bytes(unix.WGPEER_A_PUBLIC_KEY, pc.PublicKey[:])
	var flags uint32
	if pc.Remove {
		flags |= unix.WGPEER_F_REMOVE_ME
	}
	// A continuation must not create a peer that its first fragment, with
	// UPDATE_ONLY, declined to create.
	if pc.UpdateOnly {
		flags |= unix.WGPEER_F_UPDATE_ONLY
	}
	if pc.ReplaceAllowedIPs && !continuation && !pc.Remove {
		flags |= unix.WGPEER_F_REPLACE_ALLOWEDIPS
	}
	if flags != 0 {
		ae.Uint32(unix.WGPEER_A_FLAGS, flags)
	}
	if continuation || pc.Remove {
		return false
	}
	if pc.Endpoint.IsValid() {
		var sa [28]byte // sockaddr_in6, the larger: no allocation per peer
		ae.Bytes(unix.WGPEER_A_ENDPOINT, appendSockaddr(sa[:0], pc.Endpoint, b.scopes[b.peer]))
	}
	if pc.PersistentKeepalive != nil {
		ae.Uint16(unix.WGPEER_A_PERSISTENT_KEEPALIVE_INTERVAL, uint16(*pc.PersistentKeepalive/time.Second))
	}
	return pc.PresharedKey != nil
}

// appendAllowedIP appends one allowed-IP nest for p, host bits cleared:
// FAMILY (u16), IPADDR (4 or 16 bytes), CIDR_MASK (u8), as wg(8) sends
// them. WGALLOWEDIP_A_FLAGS is never sent: kernels before 6.16 reject it.
//
// The nest's three fixed-size attributes are laid out by hand in a
// scratch buffer that the caller reuses: encoding 30,000 of them with an
// encoder each cost 200,000 allocations, a tenth of a second on a slow
// guest. The nest itself, and everything around it, goes through the
// encoder; the attribute tree and golden tests pin the layout.
func appendAllowedIP(ae *nl.AttrEncoder, scratch []byte, p netip.Prefix) []byte {
	p = p.Masked()
	a := p.Addr()
	b := scratch[:0]
	b = appendAttrHeader(b, 2, unix.WGALLOWEDIP_A_FAMILY)
	if a.Is4() {
		b = binary.NativeEndian.AppendUint16(b, unix.AF_INET)
		b = append(b, 0, 0) // padding
		v4 := a.As4()
		b = appendAttrHeader(b, 4, unix.WGALLOWEDIP_A_IPADDR)
		b = append(b, v4[:]...)
	} else {
		b = binary.NativeEndian.AppendUint16(b, unix.AF_INET6)
		b = append(b, 0, 0)
		v6 := a.As16()
		b = appendAttrHeader(b, 16, unix.WGALLOWEDIP_A_IPADDR)
		b = append(b, v6[:]...)
	}
	b = appendAttrHeader(b, 1, unix.WGALLOWEDIP_A_CIDR_MASK)
	b = append(b, uint8(p.Bits()), 0, 0, 0)
	ae.Bytes(unix.NLA_F_NESTED, b)
	return b
}

// appendAttrHeader appends a struct nlattr for a payload of n bytes.
func appendAttrHeader(b []byte, n int, typ uint16) []byte {
	b = binary.NativeEndian.AppendUint16(b, uint16(attrHeaderLen+n))
	return binary.NativeEndian.AppendUint16(b, typ)
}
