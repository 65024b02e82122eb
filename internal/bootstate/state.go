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
	Version   string   `json:"version"`
	Board     string   `json:"board,omitempty"`
	Profile   string   `json:"profile,omitempty"`
	Tunnels   []Tunnel `json:"tunnels,omitempty"`
	Phases    []Phase  `json:"phases"`
	Ready     bool     `json:"ready"`
	Failure   string   `json:"failure,omitempty"`
	Policy    string   `json:"policy,omitempty"` // the on_failure action taken
	PeakRSSKB int      `json:"init_peak_rss_kb"`
	// The board's duties: omitted when the profile asks for none.
	Watchdog   Watchdog   `json:"watchdog,omitzero"`
	Clock      Clock      `json:"clock,omitzero"`
	RandomSeed RandomSeed `json:"random_seed,omitzero"`
	// The kernel's uptime (CLOCK_BOOTTIME) when init started and when the
	// state was written: phase times are relative to the first.
	StartUptimeNS time.Duration `json:"start_uptime_ns"`
	WrittenNS     time.Duration `json:"written_uptime_ns"`
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
}

// Phase is what one phase of the boot did.
type Phase struct {
	Name  string        `json:"name"`
	Start time.Duration `json:"start_ns"` // since init started
	Dur   time.Duration `json:"duration_ns"`
	Err   string        `json:"error,omitempty"`
}
