package bringup

import (
	"context"
	"fmt"
	"net/netip"
	"time"

	"golang.org/x/sys/unix"

	"github.com/wgboot/wgboot/board"
	"github.com/wgboot/wgboot/internal/wgkey"
	"github.com/wgboot/wgboot/netsetup"
	"github.com/wgboot/wgboot/netsetup/wg"
)

// Logger receives what a bring-up does, one line per call, printf style.
// internal/kmsg's Logger is one.
type Logger interface {
	Infof(format string, args ...any)
	Warnf(format string, args ...any)
	Errorf(format string, args ...any)
}

// Net is the pair of kernel handles a bring-up uses: rtnetlink for links,
// addresses, routes and rules, and the wireguard generic netlink family
// for keys and peers.
type Net struct {
	RT  *netsetup.Handle
	WG  *wg.Client
	Log Logger
	// Trace, if not nil, is called after each step of TunnelUp with the
	// step's name: the boot benchmark stamps each in the kernel log.
	Trace func(step string)

	// rekeyTimeout stands for WireGuard's REKEY_TIMEOUT in
	// HandshakesWithFallback; zero means the kernel's 5 seconds. Tests
	// shorten it.
	rekeyTimeout time.Duration
}

// Bind bounds every netlink exchange of both handles by ctx's deadline (none
// if ctx has none), so that a kernel call that never answers ends with the
// phase that made it.
func (n *Net) Bind(ctx context.Context) {
	d, _ := ctx.Deadline()
	if n.RT != nil {
		n.RT.SetDeadline(d)
	}
	if n.WG != nil {
		n.WG.SetDeadline(d)
	}
}

func (n *Net) trace(step string) {
	if n.Trace != nil {
		n.Trace(step)
	}
}

// Tunnel is a tunnel brought up: what the state file and the later checks
// need, never a secret.
type Tunnel struct {
	Name  string
	Index int32
	// PublicKey is the private key's public key if the profile knew it
	// already ([board.Tunnel.KnownPublicKey]), else zero: TunnelUp does
	// not derive it (an X25519 multiplication); the kernel does, and
	// [Net.Verify] reads it back.
	PublicKey  wgkey.Key
	ListenPort uint16
	Peers      int
	// Expect is the device configuration that was applied, with the
	// private key left out and each preshared key replaced by a marker:
	// what [Net.Verify] compares the device with.
	Expect wg.Config
}

// TunnelUp creates (or re-creates) the tunnel's wireguard link, applies its
// keys and peers, MTU, addresses and routes, brings it up and adds its
// policy rules. A wireguard link of the same name that is already there is
// stale, left by an earlier run: it is emptied and deleted first. On
// failure the link is deleted again, so that nothing is left half
// configured.
//
// TunnelUp consumes t's secrets: the private key and the preshared keys are
// zeroed once the kernel has them, or when TunnelUp fails before, on every
// path.
func (n *Net) TunnelUp(t *board.Tunnel) (Tunnel, error) {
	defer zeroSecrets(t)
	link, err := n.freshLink(t.Name)
	if err != nil {
		return Tunnel{}, err
	}
	n.trace("link")
	pub, _ := t.KnownPublicKey()
	res := Tunnel{Name: t.Name, Index: link.Index, PublicKey: pub,
		ListenPort: t.ListenPort, Peers: len(t.Peers)}
	cfg := DeviceConfig(t)
	err = n.WG.Configure(t.Name, cfg)
	zeroSecrets(t) // the kernel has them, or will never get them
	res.Expect = expectation(cfg)
	if err == nil {
		n.trace("setconf")
		err = n.RT.ConfigureTunnelLinkOf(link, LinkConfig(t))
	}
	if err == nil {
		n.trace("configure")
		err = n.addRules(t)
	}
	if err != nil {
		if derr := n.RT.DeleteLink(link.Index); derr != nil {
			n.Log.Errorf("tunnel %s: undo: delete link: %v", t.Name, derr)
		}
		return Tunnel{}, err
	}
	n.trace("rules")
	return res, nil
}

// freshLink returns a new wireguard link named name, deleting a stale one
// first.
func (n *Net) freshLink(name string) (netsetup.Link, error) {
	link, created, err := n.RT.EnsureWireGuardLink(name)
	if err != nil || created {
		return link, err
	}
	// Its peers go first: deleting a link with thousands of peers takes
	// the kernel minutes, emptying it first takes a second.
	n.Log.Warnf("tunnel %s: already present (index %d): deleting it and creating it anew", name, link.Index)
	if err := n.WG.Configure(name, wg.Config{ReplacePeers: true}); err != nil {
		n.Log.Warnf("tunnel %s: empty the stale link: %v", name, err)
	}
	if err := n.RT.DeleteLink(link.Index); err != nil {
		return netsetup.Link{}, fmt.Errorf("delete stale link: %w", err)
	}
	link, _, err = n.RT.EnsureWireGuardLink(name)
	return link, err
}

// zeroSecrets wipes the tunnel's private key and its peers' preshared keys.
func zeroSecrets(t *board.Tunnel) {
	t.PrivateKey.Zero()
	for i := range t.Peers {
		t.Peers[i].PresharedKey.Zero()
	}
}

// DeviceConfig is the WireGuard device configuration of a tunnel, replacing
// whatever the device had. Its keys share their material with t's (see
// package wgkey): zeroing either zeroes both.
func DeviceConfig(t *board.Tunnel) wg.Config {
	cfg := wg.Config{ReplacePeers: true, Peers: make([]wg.PeerConfig, 0, len(t.Peers))}
	pk := t.PrivateKey
	cfg.PrivateKey = &pk
	port := int(t.ListenPort)
	cfg.ListenPort = &port
	mark := t.FwMark
	cfg.FirewallMark = &mark
	// One array for the keepalives, not an allocation per peer.
	kas := make([]time.Duration, len(t.Peers))
	for i := range t.Peers {
		p := &t.Peers[i]
		pc := wg.PeerConfig{
			PublicKey:         p.PublicKey,
			Endpoint:          p.Endpoint,
			ReplaceAllowedIPs: true,
			AllowedIPs:        p.AllowedIPs,
		}
		if !p.PresharedKey.IsZero() {
			psk := p.PresharedKey
			pc.PresharedKey = &psk
		}
		kas[i] = time.Duration(p.PersistentKeepalive) * time.Second
		pc.PersistentKeepalive = &kas[i]
		cfg.Peers = append(cfg.Peers, pc)
	}
	return cfg
}

// pskSet stands for "a preshared key is set" in an expectation: wg.Verify
// compares only whether one is set, and the real key is gone by then.
var pskSet = wgkey.PresharedKeyFromBytes([wgkey.Len]byte{1})

// expectation is cfg without its secrets, for wg.Verify.
func expectation(cfg wg.Config) wg.Config {
	cfg.PrivateKey = nil
	peers := make([]wg.PeerConfig, len(cfg.Peers))
	copy(peers, cfg.Peers)
	for i := range peers {
		if peers[i].PresharedKey != nil {
			peers[i].PresharedKey = &pskSet
		}
	}
	cfg.Peers = peers
	return cfg
}

// LinkConfig is the IP configuration of a tunnel's link.
func LinkConfig(t *board.Tunnel) netsetup.TunnelLink {
	return netsetup.TunnelLink{
		Name:      t.Name,
		MTU:       t.MTU,
		Addresses: t.Address,
		Routes:    Routes(t),
		Table:     uint32(t.Table),
	}
}

// Routes lists the prefixes routed into a tunnel: its peers' allowed IPs,
// unless the profile's table is "off".
func Routes(t *board.Tunnel) []netip.Prefix {
	if t.Table == board.TableOff {
		return nil
	}
	n := 0
	for i := range t.Peers {
		n += len(t.Peers[i].AllowedIPs)
	}
	out := make([]netip.Prefix, 0, n)
	for i := range t.Peers {
		out = append(out, t.Peers[i].AllowedIPs...)
	}
	return out
}

// Rules are wg-quick's policy rules for a tunnel whose routes go to a
// table of its own with a firewall mark — the way a full tunnel (0.0.0.0/0
// through the tunnel) avoids routing its own encrypted packets into
// itself: packets without the tunnel's mark look up its table, and the
// main table is consulted first for everything but its default route.
// Rules are added per address family that the tunnel routes.
func Rules(t *board.Tunnel) []netsetup.Rule {
	if t.Table == board.TableMain || t.Table == board.TableOff || t.FwMark == 0 {
		return nil
	}
	var has4, has6 bool
	for i := range t.Peers {
		for _, p := range t.Peers[i].AllowedIPs {
			if p.Addr().Is4() {
				has4 = true
			} else {
				has6 = true
			}
		}
	}
	var rules []netsetup.Rule
	for _, fam := range []struct {
		af  uint8
		has bool
	}{{unix.AF_INET, has4}, {unix.AF_INET6, has6}} {
		if !fam.has {
			continue
		}
		rules = append(rules,
			netsetup.Rule{Family: fam.af, Table: uint32(t.Table), Mark: t.FwMark, Invert: true},
			netsetup.Rule{Family: fam.af, Table: unix.RT_TABLE_MAIN, SuppressPrefixLen: new(0)},
		)
	}
	return rules
}

func (n *Net) addRules(t *board.Tunnel) error {
	for _, r := range Rules(t) {
		if err := n.RT.AddRule(r); err != nil {
			return fmt.Errorf("add rule %v: %w", r, err)
		}
	}
	return nil
}
