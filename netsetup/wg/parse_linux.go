package wg

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"time"

	"golang.org/x/sys/unix"

	"github.com/wgboot/wgboot/internal/wgkey"
	"github.com/wgboot/wgboot/netsetup/internal/nl"
)

// Device is a WireGuard device as WG_CMD_GET_DEVICE reports it. It never
// holds the private key or preshared keys, only whether they are set.
type Device struct {
	Name  string
	Index int32
	// PublicKey is derived by the kernel from the private key; zero if
	// HasPrivateKey is false.
	PublicKey     wgkey.Key
	HasPrivateKey bool
	// ListenPort is the UDP port; 0 while the link is down and no port was
	// set.
	ListenPort   int
	FirewallMark uint32
	Peers        []Peer
}

// Peer is one peer of a Device.
type Peer struct {
	PublicKey       wgkey.Key
	HasPresharedKey bool
	// Endpoint is the configured or last seen address; its zone is the
	// sockaddr_in6 scope ID in decimal, if non-zero.
	Endpoint            netip.AddrPort
	PersistentKeepalive time.Duration
	// LastHandshake is the wall-clock time of the last completed
	// handshake; zero if there was none.
	LastHandshake   time.Time
	RxBytes         uint64
	TxBytes         uint64
	ProtocolVersion int
	AllowedIPs      []netip.Prefix
}

// errEmptyDump is returned for a dump without a single message.
var errEmptyDump = errors.New("empty reply")

// sizeofTimespec is the size of struct __kernel_timespec, which is the same
// on every architecture (two s64), unlike struct timespec.
//
//	struct __kernel_timespec {
//		__kernel_time64_t       tv_sec;                 /* seconds */
//		long long               tv_nsec;                /* nanoseconds */
//	};
const sizeofTimespec = 16

// parseDevice decodes the parts of a WG_CMD_GET_DEVICE dump.
//
// The kernel puts the device attributes in the first part only, unless it
// had to split the first peer, in which case it repeats them; a parser
// accepts them absent or repeated. A peer split across parts continues in
// the next part with its public key and more allowed IPs only, and is
// merged here, as wg(8)'s coalesce_peers does.
func parseDevice(msgs []nl.Message) (*Device, error) {
	if len(msgs) == 0 {
		return nil, errEmptyDump
	}
	d := &Device{Index: -1}
	for i, m := range msgs {
		if err := parseDevicePart(d, m); err != nil {
			return nil, fmt.Errorf("reply part %d: %w", i, err)
		}
	}
	if d.Index < 0 {
		return nil, errors.New("reply has no device attributes")
	}
	return d, nil
}

// parseDevicePart decodes one dump part into d.
func parseDevicePart(d *Device, m nl.Message) error {
	h, ad, err := nl.ParseGenl(m.Data)
	if err != nil {
		return err
	}
	if h.Command != unix.WG_CMD_GET_DEVICE {
		return fmt.Errorf("unexpected command %d", h.Command)
	}
	for ad.Next() {
		switch ad.Type() {
		case unix.WGDEVICE_A_IFINDEX:
			d.Index = int32(ad.Uint32())
		case unix.WGDEVICE_A_IFNAME:
			d.Name = ad.String()
		case unix.WGDEVICE_A_PRIVATE_KEY:
			// Present only when the device has one; its bytes are never
			// read (the reply buffer is cleared by the caller).
			if ad.Len() != wgkey.Len {
				return fmt.Errorf("private key attribute of %d bytes", ad.Len())
			}
			d.HasPrivateKey = true
		case unix.WGDEVICE_A_PUBLIC_KEY:
			k, err := parseKey(ad)
			if err != nil {
				return fmt.Errorf("public key: %w", err)
			}
			d.PublicKey = k
		case unix.WGDEVICE_A_LISTEN_PORT:
			d.ListenPort = int(ad.Uint16())
		case unix.WGDEVICE_A_FWMARK:
			d.FirewallMark = ad.Uint32()
		case unix.WGDEVICE_A_PEERS:
			ad.Nested(func(pd *nl.AttrDecoder) error {
				for pd.Next() {
					var err error
					pd.Nested(func(ad *nl.AttrDecoder) error {
						err = parsePeer(d, ad)
						return err
					})
					if err != nil {
						return err
					}
				}
				return nil
			})
		}
	}
	return ad.Err()
}

// parsePeer decodes one peer nest and appends it to d.Peers, or merges it
// into the last peer if it continues that one.
func parsePeer(d *Device, ad *nl.AttrDecoder) error {
	var (
		p      Peer
		hasKey bool
	)
	for ad.Next() {
		switch ad.Type() {
		case unix.WGPEER_A_PUBLIC_KEY:
			k, err := parseKey(ad)
			if err != nil {
				return fmt.Errorf("peer public key: %w", err)
			}
			p.PublicKey, hasKey = k, true
		case unix.WGPEER_A_PRESHARED_KEY:
			if ad.Len() != wgkey.Len {
				return fmt.Errorf("preshared key attribute of %d bytes", ad.Len())
			}
			p.HasPresharedKey = !ad.IsZero() // read in place: no copy of the key
		case unix.WGPEER_A_ENDPOINT:
			ep, err := parseSockaddr(ad.Bytes())
			if err != nil {
				return err
			}
			p.Endpoint = ep
		case unix.WGPEER_A_PERSISTENT_KEEPALIVE_INTERVAL:
			p.PersistentKeepalive = time.Duration(ad.Uint16()) * time.Second
		case unix.WGPEER_A_LAST_HANDSHAKE_TIME:
			t, err := parseTimespec(ad.Bytes())
			if err != nil {
				return err
			}
			p.LastHandshake = t
		case unix.WGPEER_A_RX_BYTES:
			p.RxBytes = ad.Uint64()
		case unix.WGPEER_A_TX_BYTES:
			p.TxBytes = ad.Uint64()
		case unix.WGPEER_A_PROTOCOL_VERSION:
			p.ProtocolVersion = int(ad.Uint32())
		case unix.WGPEER_A_ALLOWEDIPS:
			ad.Nested(func(ld *nl.AttrDecoder) error {
				for ld.Next() {
					var (
						pfx netip.Prefix
						err error
					)
					ld.Nested(func(ad *nl.AttrDecoder) error {
						pfx, err = parseAllowedIP(ad)
						return err
					})
					if err != nil {
						return err
					}
					p.AllowedIPs = append(p.AllowedIPs, pfx)
				}
				return nil
			})
		}
	}
	if err := ad.Err(); err != nil {
		return err
	}
	if !hasKey {
		return errors.New("peer without public key")
	}
	if n := len(d.Peers); n > 0 && d.Peers[n-1].PublicKey == p.PublicKey {
		// A continuation carries only the key and more allowed IPs.
		last := &d.Peers[n-1]
		last.AllowedIPs = append(last.AllowedIPs, p.AllowedIPs...)
		return nil
	}
	d.Peers = append(d.Peers, p)
	return nil
}

// parseHandshakes decodes the parts of a WG_CMD_GET_DEVICE dump for the
// public key and last handshake time of each peer only, into seen: the
// handshake gate reads the device every 100 ms, and decoding every allowed
// IP and endpoint of thousands of peers each time is wasted work. A peer's
// continuation in a later part carries no handshake time and leaves the
// one read.
func parseHandshakes(msgs []nl.Message, seen map[wgkey.Key]time.Time) error {
	if len(msgs) == 0 {
		return errEmptyDump
	}
	for i, m := range msgs {
		h, ad, err := nl.ParseGenl(m.Data)
		if err == nil && h.Command != unix.WG_CMD_GET_DEVICE {
			err = fmt.Errorf("unexpected command %d", h.Command)
		}
		for err == nil && ad.Next() {
			if ad.Type() != unix.WGDEVICE_A_PEERS {
				continue
			}
			ad.Nested(func(pd *nl.AttrDecoder) error {
				for pd.Next() {
					pd.Nested(func(ad *nl.AttrDecoder) error {
						return parsePeerHandshake(ad, seen)
					})
				}
				return nil
			})
		}
		if err == nil {
			err = ad.Err()
		}
		if err != nil {
			return fmt.Errorf("reply part %d: %w", i, err)
		}
	}
	return nil
}

// parsePeerHandshake decodes one peer nest's public key and handshake time
// into seen.
func parsePeerHandshake(ad *nl.AttrDecoder, seen map[wgkey.Key]time.Time) error {
	var (
		key       wgkey.Key
		hasKey    bool
		handshake time.Time
		hasTime   bool
	)
	for ad.Next() {
		switch ad.Type() {
		case unix.WGPEER_A_PUBLIC_KEY:
			k, err := parseKey(ad)
			if err != nil {
				return fmt.Errorf("peer public key: %w", err)
			}
			key, hasKey = k, true
		case unix.WGPEER_A_LAST_HANDSHAKE_TIME:
			t, err := parseTimespec(ad.Bytes())
			if err != nil {
				return err
			}
			handshake, hasTime = t, true
		}
	}
	if err := ad.Err(); err != nil {
		return err
	}
	if !hasKey {
		return errors.New("peer without public key")
	}
	if _, ok := seen[key]; !ok || hasTime {
		seen[key] = handshake
	}
	return nil
}

// parseAllowedIP decodes one allowed-IP nest.
func parseAllowedIP(ad *nl.AttrDecoder) (netip.Prefix, error) {
	var (
		family uint16
		addr   []byte
		bits   = -1
	)
	for ad.Next() {
		switch ad.Type() {
		case unix.WGALLOWEDIP_A_FAMILY:
			family = ad.Uint16()
		case unix.WGALLOWEDIP_A_IPADDR:
			addr = ad.Bytes()
		case unix.WGALLOWEDIP_A_CIDR_MASK:
			bits = int(ad.Uint8())
		}
	}
	if err := ad.Err(); err != nil {
		return netip.Prefix{}, err
	}
	var a netip.Addr
	switch {
	case family == unix.AF_INET && len(addr) == 4:
		a = netip.AddrFrom4([4]byte(addr))
	case family == unix.AF_INET6 && len(addr) == 16:
		a = netip.AddrFrom16([16]byte(addr))
	default:
		return netip.Prefix{}, fmt.Errorf("allowed IP: family %d with %d-byte address", family, len(addr))
	}
	p := netip.PrefixFrom(a, bits)
	if !p.IsValid() {
		return netip.Prefix{}, fmt.Errorf("allowed IP: prefix length %d for %v", bits, a)
	}
	return p, nil
}

// parseKey decodes a 32-byte public key attribute.
func parseKey(ad *nl.AttrDecoder) (wgkey.Key, error) {
	if ad.Len() != wgkey.Len {
		return wgkey.Key{}, fmt.Errorf("%d bytes, want %d", ad.Len(), wgkey.Len)
	}
	return wgkey.Key(ad.Bytes()), nil
}

// parseTimespec decodes a struct __kernel_timespec; (0, 0) means never.
func parseTimespec(b []byte) (time.Time, error) {
	if len(b) != sizeofTimespec {
		return time.Time{}, fmt.Errorf("last handshake time: %d bytes, want %d", len(b), sizeofTimespec)
	}
	sec := int64(binary.NativeEndian.Uint64(b[0:8]))
	nsec := int64(binary.NativeEndian.Uint64(b[8:16]))
	if sec == 0 && nsec == 0 {
		return time.Time{}, nil
	}
	return time.Unix(sec, nsec), nil
}
