// Package bootstate is the state file that wgboot's PID 1 leaves in
// /run/wgboot/state.json for the main system and for people: what the boot
// did, never a secret, only public keys.
//
// PID 1 writes the file with Encode, a JSON writer for exactly these types,
// so that /init links no encoding/json. Its output is what
// json.MarshalIndent(s, "", "  ") gives, byte for byte. Host tools read the
// file with encoding/json and the field tags below.
package bootstate

import "time"

// Path is where PID 1 writes the state file. /run moves into the main
// system at switch_root, so the main system finds it there.
const Path = "/run/wgboot/state.json"

// State is what the boot did.
type State struct {
	Version string `json:"version"`
	Board   string `json:"board,omitempty"`
	Profile string `json:"profile,omitempty"`
	// ProfileFrom says where the profile that ran came from: "persist"
	// (the board's config partition) or "image".
	ProfileFrom string `json:"profile_from,omitempty"`
	// Fallback is the partition's profile that was chosen but did not
	// run to the end, and why: the image's profile ran instead.
	Fallback Fallback `json:"fallback,omitzero"`
	Persist  Persist  `json:"persist,omitzero"`
	Uplink   *Uplink  `json:"uplink,omitempty"`
	// DNSServers are the name servers the boot resolves endpoint names
	// with, in the order it asks them: the kernel command line's
	// nameserver=, the profile's [uplink] dns, the DHCP lease's.
	DNSServers []string `json:"dns_servers,omitempty"`
	Keys       []Key    `json:"keys,omitempty"` // the tunnels' keys from key files
	Tunnels    []Tunnel `json:"tunnels,omitempty"`
	// Names are the endpoint host names the boot looked up, in the
	// order the profile names them.
	Names     []Name  `json:"names,omitempty"`
	Phases    []Phase `json:"phases"`
	Ready     bool    `json:"ready"`
	Failure   string  `json:"failure,omitempty"`
	Policy    string  `json:"policy,omitempty"` // the on_failure action taken
	Rescue    Rescue  `json:"rescue,omitzero"`  // on_failure = "remote"
	PeakRSSKB int     `json:"init_peak_rss_kb"`
	// The board's duties: omitted when the profile asks for none.
	Watchdog   Watchdog   `json:"watchdog,omitzero"`
	Clock      Clock      `json:"clock,omitzero"`
	RandomSeed RandomSeed `json:"random_seed,omitzero"`
	// The kernel's uptime (CLOCK_BOOTTIME) when init started and when the
	// state was written: phase times are relative to the first.
	StartUptimeNS time.Duration `json:"start_uptime_ns"`
	WrittenNS     time.Duration `json:"written_uptime_ns"`
}

// Fallback is a profile of the config partition that was given up for the
// image's.
type Fallback struct {
	Profile string `json:"profile"`
	Reason  string `json:"reason"`
}

// Persist is the board's config partition.
type Persist struct {
	Device string `json:"device"`         // as the profile names it: LABEL=wgboot
	Path   string `json:"path,omitempty"` // the device found: /dev/vda1
	FSType string `json:"fstype"`
	Error  string `json:"error,omitempty"` // why it is not mounted
}

// Key is a tunnel's private key file, by its public key: what a fleet's
// hub needs to enroll a board.
type Key struct {
	Tunnel    string `json:"tunnel"`
	File      string `json:"file"`
	PublicKey string `json:"public_key"`
	// Generated is true when this boot made the key: it is new and the
	// hub does not know it yet.
	Generated bool `json:"generated,omitempty"`
}

// Uplink is the underlay interface as the uplink phase left it.
type Uplink struct {
	Interface string `json:"interface"`
	Index     int32  `json:"ifindex"`
	MTU       int    `json:"mtu"`
	// Addresses are the link's addresses with their prefix lengths, and
	// Gateways the next hops of its default routes, static, leased or
	// learnt from router advertisements.
	Addresses []string `json:"addresses,omitempty"`
	Gateways  []string `json:"gateways,omitempty"`
	DHCP      *Lease   `json:"dhcp,omitempty"`
	// AcceptRA says the kernel configures IPv6 from router
	// advertisements on the link (accept_ra = true).
	AcceptRA bool `json:"accept_ra,omitempty"`
}

// Lease is the DHCPv4 lease the uplink got, for the next stage to renew
// (see docs/boot.md).
type Lease struct {
	Address  string   `json:"address"` // with the prefix length
	ServerID string   `json:"server_id,omitempty"`
	Router   string   `json:"router,omitempty"`
	Routes   []string `json:"routes,omitempty"` // option 121: "10.0.0.0/8 via 192.0.2.254", "198.51.100.0/24 on-link"
	DNS      []string `json:"dns,omitempty"`
	MTU      int      `json:"mtu,omitempty"`
	// Lease, renewal (T1) and rebinding (T2) times in seconds, as the
	// server gave them; 4294967295 is an infinite lease.
	LeaseTimeS int64 `json:"lease_time_s"`
	RenewS     int64 `json:"renew_s"`
	RebindS    int64 `json:"rebind_s"`
	// Obtained is when the ACK arrived, by the boot's wall clock (on a
	// board without RTC, possibly the build time), and ObtainedUptimeNS by
	// the kernel's CLOCK_BOOTTIME, which no clock setting moves.
	Obtained         time.Time     `json:"obtained,omitzero"`
	ObtainedUptimeNS time.Duration `json:"obtained_uptime_ns"`
}

// Tunnel is one WireGuard interface as the kernel had it after bring-up.
type Tunnel struct {
	Name       string `json:"name"`
	Index      int32  `json:"ifindex"`
	PublicKey  string `json:"public_key"`
	ListenPort int    `json:"listen_port"`
	Peers      []Peer `json:"peers"`
}

// Peer is one peer of a tunnel.
type Peer struct {
	PublicKey  string   `json:"public_key"`
	Endpoint   string   `json:"endpoint,omitempty"`
	AllowedIPs []string `json:"allowed_ips"`
	// LastHandshake is left out when zero, and also when it cannot be
	// written as RFC 3339 (a year outside 0–9999), which encoding/json
	// would refuse: one odd clock must not cost the whole state file.
	LastHandshake time.Time `json:"last_handshake,omitzero"`
	// EndpointFrom is the profile's endpoint, as written (endpoint or
	// one of fallback_endpoints, a host name or an address), that
	// Endpoint was configured from: set for peers with a host name or
	// fallbacks.
	EndpointFrom string `json:"endpoint_from,omitempty"`
	// EndpointsTried lists the addresses the handshake gate configured,
	// in order, the one kept last: set when it switched.
	EndpointsTried []string `json:"endpoints_tried,omitempty"`
}

// Name is a host name looked up for peer endpoints, and the answer.
type Name struct {
	Host   string   `json:"host"`
	Server string   `json:"server,omitempty"` // the DNS server that answered
	CNAMEs []string `json:"cnames,omitempty"` // the chain to the name with the addresses
	Addrs  []string `json:"addresses,omitempty"`
	TTL    int      `json:"ttl_s,omitempty"` // the answer's smallest TTL, in seconds
	Err    string   `json:"error,omitempty"` // why the lookup failed
}

// Phase is what one phase of the boot did.
type Phase struct {
	Name  string        `json:"name"`
	Start time.Duration `json:"start_ns"` // since init started
	Dur   time.Duration `json:"duration_ns"`
	Err   string        `json:"error,omitempty"`
}
