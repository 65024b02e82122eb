package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"strconv"
	"strings"
	"time"
)

// statePath is where init leaves its account of the boot. /run moves into
// the main system at switch_root, so the main system finds it there.
const statePath = "/run/wgboot/state.json"

// state is what the boot did, for the main system and for people: never a
// secret, only public keys.
type state struct {
	Version   string        `json:"version"`
	Board     string        `json:"board,omitempty"`
	Profile   string        `json:"profile,omitempty"`
	Tunnels   []tunnelState `json:"tunnels,omitempty"`
	Phases    []phaseResult `json:"phases"`
	Ready     bool          `json:"ready"`
	Failure   string        `json:"failure,omitempty"`
	Policy    string        `json:"policy,omitempty"` // the on_failure action taken
	PeakRSSKB int           `json:"init_peak_rss_kb"`
	// Uptime is the kernel's uptime when init started and when the
	// state was written: phase times are relative to the first.
	StartUptimeNS time.Duration `json:"start_uptime_ns"`
	WrittenNS     time.Duration `json:"written_uptime_ns"`
}

type tunnelState struct {
	Name       string      `json:"name"`
	Index      int32       `json:"ifindex"`
	PublicKey  string      `json:"public_key"`
	ListenPort int         `json:"listen_port"`
	Peers      []peerState `json:"peers"`
}

type peerState struct {
	PublicKey     string    `json:"public_key"`
	Endpoint      string    `json:"endpoint,omitempty"`
	AllowedIPs    []string  `json:"allowed_ips"`
	LastHandshake time.Time `json:"last_handshake,omitzero"`
}

// encodeState renders s as indented JSON.
func encodeState(s *state) ([]byte, error) {
	return json.MarshalIndent(s, "", "  ")
}

// vmHWM returns a process's peak resident set size in KiB from
// /proc/PID/status, 0 when unknown.
func vmHWM(status []byte) int {
	sc := bufio.NewScanner(bytes.NewReader(status))
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(rest), " kB"))
			return kb
		}
	}
	return 0
}

// writeFileAtomic writes data to path through a temporary file and rename.
func writeFileAtomic(path string, data []byte, perm os.FileMode) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, perm); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
