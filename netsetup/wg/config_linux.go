package wg

import (
	"errors"
	"fmt"
	"math"
	"net/netip"
	"strconv"
	"time"

	"github.com/wgboot/wgboot/internal/errcap"
	"github.com/wgboot/wgboot/internal/firstseen"
	"github.com/wgboot/wgboot/internal/krule"
	"github.com/wgboot/wgboot/internal/wgkey"
)

// Config is a change to a WireGuard device, as one WG_CMD_SET_DEVICE
// exchange applies it. Nil pointers leave the device's value unchanged.
type Config struct {
	// PrivateKey sets the device's private key; a zero key removes it.
	PrivateKey *wgkey.PrivateKey
	// ListenPort sets the UDP port, 0 to 65535; 0 lets the kernel pick one
	// when the link goes up.
	ListenPort *int
	// FirewallMark sets the mark of outgoing packets; 0 turns it off.
	FirewallMark *uint32
	// ReplacePeers removes every peer not in Peers (WGDEVICE_F_REPLACE_PEERS).
	ReplacePeers bool
	// Peers are added, updated or removed in order.
	Peers []PeerConfig
}

// PeerConfig is a change to one peer, identified by its public key.
type PeerConfig struct {
	PublicKey wgkey.Key
	// Remove deletes the peer (WGPEER_F_REMOVE_ME); no other field but
	// PublicKey and UpdateOnly may be set with it.
	Remove bool
	// UpdateOnly changes the peer only if it exists (WGPEER_F_UPDATE_ONLY).
	UpdateOnly bool
	// PresharedKey sets the preshared key; a zero key removes it.
	PresharedKey *wgkey.PresharedKey
	// Endpoint sets the peer's address, if valid. A link-local IPv6 address
	// needs a zone: an interface index ("2") or name ("eth0"), sent as the
	// sockaddr_in6 scope ID.
	Endpoint netip.AddrPort
	// PersistentKeepalive sets the keepalive interval in whole seconds, up
	// to 65535; 0 turns it off.
	PersistentKeepalive *time.Duration
	// ReplaceAllowedIPs replaces the peer's allowed IPs instead of adding
	// to them (WGPEER_F_REPLACE_ALLOWEDIPS).
	ReplaceAllowedIPs bool
	// AllowedIPs are the prefixes routed to this peer. Host bits are
	// ignored, as the kernel masks them.
	AllowedIPs []netip.Prefix
}

// ErrInvalid is wrapped by every error Validate reports.
var ErrInvalid = errors.New("invalid WireGuard configuration")

// FieldError is one problem Validate found. It matches ErrInvalid with
// errors.Is and never contains a private or preshared key.
type FieldError struct {
	// Field is the offending field, such as "peers[3].allowed_ips[1]".
	Field string
	// Err describes the problem.
	Err error
}

// Error returns "FIELD: PROBLEM".
func (e *FieldError) Error() string { return e.Field + ": " + e.Err.Error() }

// Unwrap returns the problem.
func (e *FieldError) Unwrap() error { return e.Err }

// Is reports whether target is ErrInvalid.
func (e *FieldError) Is(target error) bool { return target == ErrInvalid }

// maxReported bounds the problems Validate and Verify list: a generated
// configuration of 10,000 broken peers must not make a megabyte error.
const maxReported = 20

// problems collects errors, keeping maxReported and counting the rest.
type problems struct{ list errcap.List }

func (p *problems) add(err error) {
	p.list.Max = maxReported
	p.list.Add(err)
}

func (p *problems) field(field fmt.Stringer, format string, args ...any) {
	p.add(&FieldError{Field: field.String(), Err: fmt.Errorf(format, args...)})
}

// fieldName names a configuration field lazily: formatting 30,000 names
// that are almost never needed is measurable on a slow guest.
type fieldName struct {
	peer, ip int // -1: not a peer / not an allowed IP
	name     string
}

func (f fieldName) String() string {
	switch {
	case f.peer < 0:
		return f.name
	case f.ip >= 0:
		return fmt.Sprintf("peers[%d].allowed_ips[%d]", f.peer, f.ip)
	}
	return fmt.Sprintf("peers[%d].%s", f.peer, f.name)
}

// err joins the problems kept, followed by "… and N more" if some were
// dropped; nil if there were none.
func (p *problems) err() error {
	return p.list.Err()
}

// Validate checks everything the kernel would reject, or silently drop,
// before any message is sent: the kernel applies a configuration piece by
// piece and keeps what it applied before an error. Validate reports every
// problem (at most 20 listed) as a *FieldError, joined.
func Validate(cfg Config) error {
	var p problems
	if cfg.ListenPort != nil && (*cfg.ListenPort < 0 || *cfg.ListenPort > math.MaxUint16) {
		p.field(fieldName{peer: -1, name: "listen_port"}, "%d out of range 0-65535", *cfg.ListenPort)
	}
	// Repeats are found with firstseen, not maps: for 10,000 peers the two
	// maps cost 31 M instructions of Validate's 37 M (callgrind, amd64).
	peerIndex := firstseen.New(len(cfg.Peers))
	var prefixOwner *firstseen.Index
	for i := range cfg.Peers {
		pc := &cfg.Peers[i]
		field := func(name string) fieldName { return fieldName{peer: i, ip: -1, name: name} }
		if pc.PublicKey.IsZero() {
			p.field(field("public_key"), "missing")
		} else if j, _, dup := peerIndex.Add(peerIndex.HashKey((*[32]byte)(&pc.PublicKey)), i, 0, func(j, _ int) bool {
			return cfg.Peers[j].PublicKey == pc.PublicKey
		}); dup {
			p.field(field("public_key"), "%s repeats peers[%d]", pc.PublicKey, j)
		}
		if pc.Remove {
			if pc.PresharedKey != nil || pc.Endpoint.IsValid() || pc.PersistentKeepalive != nil ||
				pc.ReplaceAllowedIPs || len(pc.AllowedIPs) > 0 {
				p.field(field("remove"), "a removed peer takes no other settings")
			}
			continue
		}
		if ep := pc.Endpoint; ep != (netip.AddrPort{}) {
			switch {
			case !ep.IsValid():
				p.field(field("endpoint"), "invalid address")
			case ep.Port() == 0:
				p.field(field("endpoint"), "port 0")
			case ep.Addr().Zone() != "":
				if _, err := parseZone(ep.Addr().Zone()); err != nil {
					p.field(field("endpoint"), "%v", err)
				}
			}
		}
		if ka := pc.PersistentKeepalive; ka != nil {
			switch {
			case *ka < 0 || *ka > math.MaxUint16*time.Second:
				p.field(field("persistent_keepalive"), "%v out of range 0-65535s", *ka)
			case *ka%time.Second != 0:
				p.field(field("persistent_keepalive"), "%v is not a whole number of seconds", *ka)
			}
		}
		if len(pc.AllowedIPs) > 0 && prefixOwner == nil {
			n := 0
			for k := range cfg.Peers[i:] {
				n += len(cfg.Peers[i+k].AllowedIPs)
			}
			prefixOwner = firstseen.New(n)
		}
		for j, pfx := range pc.AllowedIPs {
			f := fieldName{peer: i, ip: j}
			if !pfx.IsValid() {
				p.field(f, "invalid prefix %v", pfx)
				continue
			}
			m := pfx.Masked()
			if peer, ip, dup := prefixOwner.Add(prefixOwner.HashPrefix(m), i, j, func(peer, ip int) bool {
				return cfg.Peers[peer].AllowedIPs[ip].Masked() == m
			}); dup {
				if peer == i {
					p.field(f, "%v repeats allowed_ips[%d]", m, ip)
				} else {
					// The kernel would move the prefix to the later peer.
					p.field(f, "%v is also allowed for peers[%d]", m, peer)
				}
			}
		}
	}
	return p.err()
}

// parseZone checks an endpoint zone: a decimal interface index or an
// interface name. It returns the index, or 0 for a name.
func parseZone(zone string) (uint32, error) {
	if n, err := strconv.ParseUint(zone, 10, 32); err == nil {
		return uint32(n), nil
	}
	if err := checkIfname(zone); err != nil {
		return 0, fmt.Errorf("zone: %w", err)
	}
	return 0, nil
}

// checkIfname checks an interface name with the rule the whole boot and
// `wgboot check` apply; WGDEVICE_A_IFNAME is limited to IFNAMSIZ-1 bytes.
func checkIfname(name string) error {
	return krule.CheckIfName(name)
}
