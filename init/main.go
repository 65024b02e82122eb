package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"

	"github.com/wgboot/wgboot/internal/cli"
)

// buildTime is the build's time as Unix seconds, set by the Makefile with
// -ldflags -X (the last commit's time, so builds stay reproducible). It is
// the clock's floor on boards without an RTC.
var buildTime = "0"

// version is set by the Makefile with -ldflags -X.
var version = "dev"

func main() {
	if os.Getpid() == 1 {
		pid1() // never returns
	}
	os.Exit(runCLI(os.Stdout, os.Stderr, os.Args[1:]))
}

// runCLI is the binary when it is not PID 1: `wgboot check`, `import`,
// `state`, `show`, …
func runCLI(stdout, stderr io.Writer, args []string) int {
	if len(args) > 0 {
		switch args[0] {
		case "version":
			fmt.Fprintln(stdout, "wgboot", version)
			return 0
		case "state":
			return showState(stdout, stderr, args[1:])
		case "timeline":
			return timelineCmd(stdout, stderr, args[1:])
		case "show":
			return showWG(stdout, stderr, args[1:])
		}
	}
	return cli.Run(stdout, stderr, args)
}

// showState pretty-prints the state file init left for the main system.
func showState(stdout, stderr io.Writer, args []string) int {
	path := statePath
	if len(args) > 0 {
		path = args[0]
	}
	data, err := os.ReadFile(path)
	if err != nil {
		fmt.Fprintln(stderr, "wgboot state:", err)
		return 1
	}
	var s state
	if err := json.Unmarshal(data, &s); err != nil {
		fmt.Fprintf(stderr, "wgboot state: %s: %v\n", path, err)
		return 1
	}
	fmt.Fprintf(stdout, "wgboot %s: board %s, profile %s, ready %v\n", s.Version, s.Board, s.Profile, s.Ready)
	if s.Failure != "" {
		fmt.Fprintf(stdout, "failure: %s (policy %s)\n", s.Failure, s.Policy)
	}
	for _, p := range s.Phases {
		status := "ok"
		if p.Err != "" {
			status = p.Err
		}
		fmt.Fprintf(stdout, "  %-10s at %8v took %8v  %s\n", p.Name, round(p.Start), round(p.Dur), status)
	}
	for _, t := range s.Tunnels {
		fmt.Fprintf(stdout, "tunnel %s (index %d): public key %s, port %d\n", t.Name, t.Index, t.PublicKey, t.ListenPort)
		for _, p := range t.Peers {
			hs := "never"
			if !p.LastHandshake.IsZero() {
				hs = p.LastHandshake.UTC().Format("2006-01-02 15:04:05Z")
			}
			fmt.Fprintf(stdout, "  peer %s endpoint %s allowed %v handshake %s\n", p.PublicKey, p.Endpoint, p.AllowedIPs, hs)
		}
	}
	fmt.Fprintf(stdout, "init peak RSS %d KiB\n", s.PeakRSSKB)
	return 0
}
