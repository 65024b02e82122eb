package board

import (
	"net/netip"
	"slices"
	"strconv"
	"time"

	"github.com/wgboot/wgboot/internal/wgkey"
)

// NTPPort is an NTP server's port when [Clock] NTP gives none.
const NTPPort = 123

// Defaults for keys a profile may leave out.
const (
	DefaultCarrierTimeout  = 10 * time.Second
	DefaultDHCPTimeout     = 30 * time.Second
	DefaultRATimeout       = 10 * time.Second
	DefaultEndpointTimeout = 5 * time.Second
	DefaultMTU             = 1420
	DefaultTable           = TableMain
	DefaultInit            = "/sbin/init"
	DefaultOnFailure       = FailContinue
	DefaultRemoteFallback  = FailReboot
	DefaultRescueTimeout   = 30 * time.Minute
	DefaultDeadline        = 60 * time.Second
	// DefaultWatchdogTimeout is the watchdog timeout when a profile
	// names a watchdog without one: the default of most drivers.
	DefaultWatchdogTimeout = 60 * time.Second
	DefaultWatchdogHandoff = WatchdogKeep
)

// DADTimeout bounds the boot's wait for IPv6 duplicate address detection
// on the uplink's static addresses (see [Uplink.DADWait]): about a second
// with the kernel's defaults (one probe, RetransTimer 1 s, a random delay
// up to 1 s).
const DADTimeout = 5 * time.Second

// DefaultBoard is the board name of the fallback profile that [Select]
// picks when no profile matches the board.
const DefaultBoard = "default"

// Profile is one board profile: the parsed form of a TOML file.
type Profile struct {
	Board   Board
	Persist Persist
	Clock   Clock
	Uplink  Uplink
	Tunnels []Tunnel // [[tunnel]]
	Handoff Handoff
	Rescue  Rescue

	// OnPartition is set, by whoever reads the profile, for a profile of
	// the board's config partition (persist.ProfileDir): the image's
	// profile says where the partition is, so its own [persist] table is
	// ignored, and its key files under /persist are there by definition.
	OnPartition bool

	src *source // where the profile came from; nil when built in code
}

// Persist is the board's config partition, mounted on /persist
// (internal/persist.Dir): per-device key files and profiles.
type Persist struct {
	// Device names the partition: LABEL=, PARTLABEL=, PARTUUID=, UUID=
	// (internal/blkid) or a /dev path. "": the board has none.
	Device string
	FSType string // ext4 or vfat
	// RandomSeed credits the seed saved on the partition to the kernel's
	// pool at boot and replaces it at once (internal/randseed).
	RandomSeed bool
	// SaveClock sets the clock no earlier than the time saved on the
	// partition (internal/clockfile), which the next stage keeps.
	SaveClock bool
}

// Clock is where the boot takes the time from, besides the build time and
// [Persist] SaveClock.
type Clock struct {
	// NTP lists SNTP servers, asked in turn over the uplink before the
	// tunnels phase: IP addresses, or host names that the ntp phase looks
	// up through the boot's DNS servers, as the resolve phase does the
	// endpoints'; port 123 unless given.
	NTP []Endpoint
}

// Board identifies the hardware a profile is for.
type Board struct {
	// Name names the profile; wgboot.board= selects by it. The profile
	// named [DefaultBoard] is the fallback.
	Name string
	// Match lists DMI names (product_name, board_name, or
	// "sys_vendor product_name") and device-tree compatible strings.
	Match []string
	// Modules are loaded, each after its dependencies, before networking.
	Modules []string
	// Watchdog is the hardware watchdog device PID 1 opens and keeps
	// alive while the boot makes progress, such as "/dev/watchdog0"; ""
	// for none.
	Watchdog string
	// WatchdogTimeout is the timeout asked of the watchdog's driver, in
	// whole seconds.
	WatchdogTimeout time.Duration
	// WatchdogHandoff says what becomes of the watchdog at handoff.
	WatchdogHandoff WatchdogHandoff
}

// WatchdogHandoff is what PID 1 does with the watchdog when it hands off.
type WatchdogHandoff string

// Values of [WatchdogHandoff].
const (
	// WatchdogKeep leaves it running for the next stage to take over,
	// as procd and systemd expect.
	WatchdogKeep WatchdogHandoff = "keep"
	// WatchdogDisarm stops it with the magic close.
	WatchdogDisarm WatchdogHandoff = "disarm"
)

// Valid reports whether w is one of the known values.
func (w WatchdogHandoff) Valid() bool { return w == WatchdogKeep || w == WatchdogDisarm }

// Uplink is the physical interface that carries the tunnels.
type Uplink struct {
	Interface string
	// MAC chooses the uplink by hardware address instead of Interface:
	// the link whose permanent address (or, where the driver has none,
	// current address) it is. Zero when Interface names the uplink.
	MAC            MAC
	Address        []netip.Prefix // interface addresses, e.g. 192.168.50.2/24
	Gateway        []netip.Addr   // default gateways, at most one per family
	CarrierTimeout time.Duration  // how long to wait for carrier; 0: do not wait
	// DHCP gets the IPv4 address, routes, MTU and name servers by DHCPv4,
	// trying for at most DHCPTimeout.
	DHCP        bool
	DHCPTimeout time.Duration
	// AcceptRA configures IPv6 from router advertisements (SLAAC) and
	// waits, at most RATimeout, for a global address and a default route.
	AcceptRA  bool
	RATimeout time.Duration
	// DNS are name servers for endpoint host names, asked before the
	// lease's.
	DNS []netip.Addr
	// NoDAD turns IPv6 duplicate address detection off on the uplink
	// (dad = false).
	NoDAD bool
}

// DADWait is how long the boot may wait, after carrier and before DHCP
// and router advertisements, for the uplink's addresses to pass duplicate
// address detection: DADTimeout when needIPv6 (see
// [Profile.NeedsIPv6]), the uplink has static IPv6 addresses and dad is
// not false, otherwise 0 (the kernel finishes DAD on its own, and no
// first handshake waits for it). The boot and the linter both ask here.
func (u *Uplink) DADWait(needIPv6 bool) time.Duration {
	if !needIPv6 || u.NoDAD || !slices.ContainsFunc(u.Address, func(p netip.Prefix) bool { return p.Addr().Is6() }) {
		return 0
	}
	return DADTimeout
}

// NeedsIPv6 reports whether the tunnels need the uplink's IPv6 at once:
// some peer's endpoint is an IPv6 address. A host name is resolved only
// after the uplink, and does not count.
func (p *Profile) NeedsIPv6() bool {
	for i := range p.Tunnels {
		for _, peer := range p.Tunnels[i].Peers {
			if a := peer.Endpoint.Addr(); a.Is6() && !a.Is4In6() {
				return true
			}
		}
	}
	return false
}

// Tunnel is one WireGuard interface.
type Tunnel struct {
	Name string
	// PrivateKey holds the key once known: parsed from private_key or read
	// from PrivateKeyFile by [Profile.ReadKeys].
	PrivateKey     wgkey.PrivateKey
	PrivateKeyFile string
	// GenerateKey makes the private key at boot when PrivateKeyFile, on
	// the config partition, does not exist (issue 13).
	GenerateKey bool
	ListenPort  uint16 // 0: the kernel picks a port
	FwMark      uint32 // 0: off
	MTU         int
	Address     []netip.Prefix
	Table       Table // where routes for the peers' allowed_ips go
	Peers       []Peer

	inlineKey bool // private_key was written in the profile

	// pub is PublicKey's last derivation, from pubOf (see PublicKey).
	pub   wgkey.Key
	pubOf wgkey.PrivateKey
}

// PublicKey returns the public key of t.PrivateKey, or the zero key when
// that is unset. The derivation, an X25519 multiplication, costs about 1.5
// million instructions, a sixth of a boot up to the tunnels; Validate does
// it, and PublicKey returns that result while the private key is the
// same, so the boot need not do it again.
func (t *Tunnel) PublicKey() wgkey.Key {
	if t.PrivateKey.IsZero() {
		return wgkey.Key{}
	}
	if t.pub.IsZero() || !t.pubOf.Equal(t.PrivateKey) {
		t.pub, t.pubOf = t.PrivateKey.PublicKey(), t.PrivateKey
	}
	return t.pub
}

// KnownPublicKey returns the public key of t.PrivateKey if it is already
// known (derived by Validate or PublicKey, or given to SetPrivateKey), and
// false if it is not, without deriving it. It writes nothing, so that a
// boot phase may call it on the profile it shares with others.
func (t *Tunnel) KnownPublicKey() (wgkey.Key, bool) {
	if t.PrivateKey.IsZero() || t.pub.IsZero() || !t.pubOf.Equal(t.PrivateKey) {
		return wgkey.Key{}, false
	}
	return t.pub, true
}

// SetPrivateKey sets t.PrivateKey to k, and pub as its public key, which
// the caller derived from k (k.PublicKey()): PublicKey then returns pub
// without deriving it again. A boot that reads a key file derives the
// public key once, for the state file, and hands it on here.
func (t *Tunnel) SetPrivateKey(k wgkey.PrivateKey, pub wgkey.Key) {
	t.PrivateKey = k
	t.pub, t.pubOf = pub, k
}

// Peer is one WireGuard peer of a tunnel.
type Peer struct {
	PublicKey wgkey.Key
	// PresharedKey holds the key once known, as for Tunnel.PrivateKey.
	PresharedKey     wgkey.PresharedKey
	PresharedKeyFile string
	// Endpoint is the address the kernel gets: endpoint's, when the
	// profile gives an address; for a host name, or when falling back,
	// the boot sets it (see Endpoints). Zero: wait for the peer to
	// connect.
	Endpoint netip.AddrPort
	// Endpoints are endpoint and fallback_endpoints, in order, as the
	// profile writes them: addresses or host names, tried in turn until
	// one answers a handshake (see EndpointTimeout). Empty when the peer
	// has no endpoint, or when a profile built in code sets only
	// Endpoint; EndpointList covers both.
	Endpoints []Endpoint
	// EndpointTimeout is how long each of Endpoints gets to answer a
	// handshake initiation before the next is tried.
	EndpointTimeout     time.Duration
	AllowedIPs          []netip.Prefix
	PersistentKeepalive uint16 // seconds; 0: off

	inlinePSK bool // preshared_key was written in the profile
	// fallbacks is how many of Endpoints fallback_endpoints gave, so
	// that Endpoints[0] is endpoint's when there are more.
	fallbacks int
}

// Endpoint is where a peer is reached, as a profile writes it: an IP
// address and port, or a host name and port that the boot resolves.
type Endpoint struct {
	Addr netip.AddrPort // the address, when the profile gives one
	Host string         // the host name, when the profile gives one
	Port uint16         // Host's port
}

// String is the endpoint as a profile writes it: "hub.example.net:51820",
// "192.0.2.1:51820" or "[2001:db8::1]:51820".
func (e Endpoint) String() string {
	if e.Host != "" {
		return e.Host + ":" + strconv.Itoa(int(e.Port))
	}
	return e.Addr.String()
}

// EndpointList is p's endpoints in order: Endpoints, or Endpoint alone
// when a profile built in code gives only that.
func (p *Peer) EndpointList() []Endpoint {
	if len(p.Endpoints) == 0 && p.Endpoint.IsValid() {
		return []Endpoint{{Addr: p.Endpoint}}
	}
	return p.Endpoints
}

// HasHost reports whether one of p's endpoints is a host name.
func (p *Peer) HasHost() bool {
	for _, e := range p.Endpoints {
		if e.Host != "" {
			return true
		}
	}
	return false
}

// Handoff says how early boot ends.
type Handoff struct {
	Root          string        // device to mount, as blkid.Parse reads it; "": run Init from the initramfs
	FSType        string        // filesystem type of Root
	Init          string        // program to exec as PID 1 in the new root
	WaitHandshake time.Duration // wait for a handshake on every tunnel; 0: do not wait
	OnFailure     OnFailure     // what to do when a phase fails
	// RemoteFallback is the action that replaces on_failure = "remote"
	// when no tunnel came up: a rescue nobody can reach is worth nothing.
	RemoteFallback OnFailure
	Deadline       time.Duration // limit for all of early boot
}

// Table is a routing table number. A tunnel's table receives one route per
// allowed IP prefix of its peers.
type Table uint32

// Routing tables with a name in profiles.
const (
	TableOff  Table = 0   // "off": no routes are added
	TableMain Table = 254 // "main": RT_TABLE_MAIN
)

// OnFailure is the action taken when a boot phase fails or the deadline
// passes.
type OnFailure string

// Values of [OnFailure].
const (
	FailContinue OnFailure = "continue" // hand off anyway, degraded
	FailShell    OnFailure = "shell"    // start a shell on the console
	FailReboot   OnFailure = "reboot"
	FailHalt     OnFailure = "halt"
	// FailRemote starts an SSH server on the tunnels' own addresses
	// (a rescue image's wgboot-remote); see [Rescue].
	FailRemote OnFailure = "remote"
)

// onFailureWant lists the actions for messages.
const onFailureWant = "continue, shell, remote, reboot or halt"

// badAction says which actions a key takes when f is not one of them, and
// is "" when it is: on_failure takes every action, remote_fallback
// (fallback) every one but "remote".
func badAction(f OnFailure, fallback bool) string {
	switch {
	case fallback && f == FailRemote:
	case f.Valid():
		return ""
	}
	if fallback {
		return "continue, shell, reboot or halt"
	}
	return onFailureWant
}

// Valid reports whether f is one of the known actions.
func (f OnFailure) Valid() bool {
	switch f {
	case FailContinue, FailShell, FailReboot, FailHalt, FailRemote:
		return true
	}
	return false
}

// File returns the name p was parsed from, or "" for a profile built in
// code.
func (p *Profile) File() string {
	if p == nil || p.src == nil {
		return ""
	}
	return p.src.name
}

// newProfile returns a profile with the defaults of every top-level table.
func newProfile() *Profile {
	return &Profile{
		Board:  Board{WatchdogTimeout: DefaultWatchdogTimeout, WatchdogHandoff: DefaultWatchdogHandoff},
		Uplink: Uplink{CarrierTimeout: DefaultCarrierTimeout, DHCPTimeout: DefaultDHCPTimeout, RATimeout: DefaultRATimeout},
		Handoff: Handoff{
			Init:           DefaultInit,
			OnFailure:      DefaultOnFailure,
			RemoteFallback: DefaultRemoteFallback,
			Deadline:       DefaultDeadline,
		},
		Rescue: Rescue{Timeout: DefaultRescueTimeout},
	}
}

// newPeer returns a peer with its defaults.
func newPeer() Peer {
	return Peer{EndpointTimeout: DefaultEndpointTimeout}
}

// newTunnel returns a tunnel with its defaults.
func newTunnel() Tunnel {
	return Tunnel{MTU: DefaultMTU, Table: DefaultTable}
}
