package cli

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/wgboot/wgboot/internal/bootstate"
	"github.com/wgboot/wgboot/internal/timeline"
)

// statePath is where PID 1 leaves the state file; /run moves into the main
// system at switch_root.
const statePath = bootstate.Path

// readState reads and decodes a state file. The device writes it with
// bootstate.Encode; on the host, encoding/json reads it.
func readState(path string) (*bootstate.State, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var s bootstate.State
	if err := json.Unmarshal(data, &s); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &s, nil
}

// State is `wgboot state [STATE.json]`: a state file, summarised for
// people.
func State(stdout, stderr io.Writer, args []string) int {
	path := statePath
	switch {
	case len(args) == 1 && (args[0] == "" || args[0][0] != '-'):
		path = args[0]
	case len(args) > 0:
		fmt.Fprint(stderr, usage())
		return ExitUsage
	}
	s, err := readState(path)
	if err != nil {
		fmt.Fprintln(stderr, "wgboot state:", err)
		return ExitFail
	}
	writeState(stdout, s)
	return ExitOK
}

func writeState(w io.Writer, s *bootstate.State) {
	fmt.Fprintf(w, "wgboot %s: board %s, profile %s, ready %v\n", s.Version, s.Board, s.Profile, s.Ready)
	switch s.ProfileFrom {
	case "persist":
		fmt.Fprintln(w, "profile from the config partition")
	case "image":
		fmt.Fprintln(w, "profile from the image")
	}
	if s.Fallback.Profile != "" {
		fmt.Fprintf(w, "fell back from %s: %s\n", s.Fallback.Profile, s.Fallback.Reason)
	}
	if p := s.Persist; p.Device != "" {
		if p.Error != "" {
			fmt.Fprintf(w, "persist %s (%s): %s\n", p.Device, p.FSType, p.Error)
		} else {
			fmt.Fprintf(w, "persist %s (%s) on %s\n", p.Device, p.FSType, p.Path)
		}
	}
	for _, k := range s.Keys {
		made := ""
		if k.Generated {
			made = " (new: made at this boot)"
		}
		fmt.Fprintf(w, "key of tunnel %s in %s: public key %s%s\n", k.Tunnel, k.File, k.PublicKey, made)
	}
	if s.Failure != "" {
		fmt.Fprintf(w, "failure: %s (policy %s)\n", s.Failure, s.Policy)
	}
	if r := s.Rescue; len(r.Listen) > 0 || r.HostKey != "" || r.Error != "" || r.Retries > 0 {
		if len(r.Listen) > 0 {
			fmt.Fprintf(w, "remote rescue: ssh on %s, host key %s\n", strings.Join(r.Listen, " "), r.HostKey)
		}
		if r.Retries > 0 {
			fmt.Fprintf(w, "remote rescue: failed retries: %d (the failure above is the last one's)\n", r.Retries)
		}
		if r.Error != "" {
			fmt.Fprintf(w, "remote rescue: %s\n", r.Error)
		}
	}
	writeDuties(w, s)
	for _, p := range s.Phases {
		status := "ok"
		if p.Err != "" {
			status = p.Err
		}
		fmt.Fprintf(w, "  %-10s at %8v took %8v  %s\n", p.Name, round(p.Start), round(p.Dur), status)
	}
	if u := s.Uplink; u != nil {
		fmt.Fprintf(w, "uplink %s (index %d): mtu %d, addresses %v, gateways %v\n", u.Interface, u.Index, u.MTU, u.Addresses, u.Gateways)
		if l := u.DHCP; l != nil {
			lease := "infinite"
			if l.LeaseTimeS != 4294967295 {
				lease = (time.Duration(l.LeaseTimeS) * time.Second).String()
			}
			fmt.Fprintf(w, "  dhcp lease %s from %s for %s, router %s, routes %v, name servers %v\n",
				l.Address, l.ServerID, lease, l.Router, l.Routes, l.DNS)
		}
	}
	if len(s.DNSServers) > 0 {
		fmt.Fprintf(w, "name servers %v\n", s.DNSServers)
	}
	for _, n := range s.Names {
		if n.Err != "" {
			fmt.Fprintf(w, "name %s: %s\n", n.Host, n.Err)
			continue
		}
		via := ""
		if len(n.CNAMEs) > 0 {
			via = " via CNAME " + strings.Join(n.CNAMEs, " → ")
		}
		fmt.Fprintf(w, "name %s: %s%s (from %s, TTL %ds)\n", n.Host, strings.Join(n.Addrs, " "), via, n.Server, n.TTL)
	}
	for _, t := range s.Tunnels {
		fmt.Fprintf(w, "tunnel %s (index %d): public key %s, port %d\n", t.Name, t.Index, t.PublicKey, t.ListenPort)
		for _, p := range t.Peers {
			hs := "never"
			if !p.LastHandshake.IsZero() {
				hs = p.LastHandshake.UTC().Format("2006-01-02 15:04:05Z")
			}
			from := ""
			if p.EndpointFrom != "" {
				from = " (" + p.EndpointFrom + ")"
			}
			if len(p.EndpointsTried) > 1 {
				from += " after " + strings.Join(p.EndpointsTried[:len(p.EndpointsTried)-1], ", ")
			}
			fmt.Fprintf(w, "  peer %s endpoint %s%s allowed %v handshake %s\n", p.PublicKey, p.Endpoint, from, p.AllowedIPs, hs)
		}
	}
	fmt.Fprintf(w, "init peak RSS %d KiB\n", s.PeakRSSKB)
}

// writeDuties summarises the watchdog, the clock and the random seed.
func writeDuties(w io.Writer, s *bootstate.State) {
	if wd := s.Watchdog; wd != (bootstate.Watchdog{}) {
		fmt.Fprintf(w, "watchdog %s", wd.Device)
		if wd.Identity != "" {
			fmt.Fprintf(w, " (%s)", wd.Identity)
		}
		if wd.TimeoutS != 0 {
			fmt.Fprintf(w, ": timeout %ds", wd.TimeoutS)
		}
		if wd.Handoff != "" {
			fmt.Fprintf(w, ", %s at handoff", wd.Handoff)
		}
		if wd.LastResetByWatchdog {
			fmt.Fprint(w, "; it caused the last reset")
		}
		if wd.Error != "" {
			fmt.Fprintf(w, "; error: %s", wd.Error)
		}
		fmt.Fprintln(w)
	}
	if c := s.Clock; c != (bootstate.Clock{}) {
		fmt.Fprintf(w, "clock: %s", c.Source)
		if c.NTPHost != "" {
			fmt.Fprintf(w, " from %s (%s)", c.NTPHost, c.NTPServer)
		} else if c.NTPServer != "" {
			fmt.Fprintf(w, " from %s", c.NTPServer)
		}
		switch d := time.Duration(c.StepNS).Round(time.Millisecond); {
		case c.StepNS > 0:
			fmt.Fprintf(w, ", set forward %v", d)
		case c.StepNS < 0:
			fmt.Fprintf(w, ", set back %v", -d)
		}
		if !c.Saved.IsZero() {
			fmt.Fprintf(w, ", saved clock %s", c.Saved.UTC().Format("2006-01-02 15:04:05Z"))
		}
		if !c.SavedNow.IsZero() {
			fmt.Fprintf(w, ", saved again %s", c.SavedNow.UTC().Format("2006-01-02 15:04:05Z"))
		}
		if c.Error != "" {
			fmt.Fprintf(w, "; error: %s", c.Error)
		}
		fmt.Fprintln(w)
	}
	if r := s.RandomSeed; r != (bootstate.RandomSeed{}) {
		fmt.Fprintf(w, "random seed: %d bits credited, renewed %v", r.CreditedBits, r.Renewed)
		if r.Error != "" {
			fmt.Fprintf(w, "; error: %s", r.Error)
		}
		fmt.Fprintln(w)
	}
}

// round makes durations readable, as init's log does.
func round(d time.Duration) time.Duration {
	switch {
	case d > time.Second:
		return d.Round(time.Millisecond)
	case d > time.Millisecond:
		return d.Round(10 * time.Microsecond)
	}
	return d.Round(time.Microsecond)
}

// Timeline is `wgboot timeline [-console LOG] [-title TEXT] STATE.json`:
// the boot that a state file describes as an SVG chart on stdout (package
// timeline). With -console, a console log or dmesg of the same boot, the
// time before init is split into the kernel, the initramfs unpacking and
// the program's start.
func Timeline(stdout, stderr io.Writer, args []string) int {
	fs := flag.NewFlagSet("timeline", flag.ContinueOnError)
	fs.SetOutput(stderr)
	console := fs.String("console", "", "console log or dmesg of the same boot, for the kernel's part")
	title := fs.String("title", "", "chart title (default: the version, board and profile)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: wgboot timeline [-console LOG] [-title TEXT] STATE.json > boot.svg")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return ExitUsage
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return ExitUsage
	}
	s, err := readState(fs.Arg(0))
	if err != nil {
		fmt.Fprintln(stderr, "wgboot timeline:", err)
		return ExitFail
	}
	var log []byte
	if *console != "" {
		if log, err = os.ReadFile(*console); err != nil {
			fmt.Fprintln(stderr, "wgboot timeline:", err)
			return ExitFail
		}
	}
	if _, err := stdout.Write(timeline.SVG(s, log, *title)); err != nil {
		fmt.Fprintln(stderr, "wgboot timeline:", err)
		return ExitFail
	}
	return ExitOK
}
