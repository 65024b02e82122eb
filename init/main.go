package main

import (
	"fmt"
	"io"
	"os"
	"strings"
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

// A command is one word of /bin/wgboot's command line, with its line in
// the usage.
type command struct {
	name, args, help string
	run              func(stdout, stderr io.Writer, args []string) int
}

// commands are what a device needs from a rescue shell. Checking profiles,
// importing wg-quick files and drawing the timeline are the host command's
// (cmd/wgboot), so that /init carries no flag parsing, JSON decoding or
// SVG rendering.
func commands() []command {
	if !remoteBuild {
		return []command{
			{"show", "[INTERFACE...]", helpShow, showWG},
			{"state", "[STATE.json]", helpState, showState},
			{"pubkey", "[KEYFILE...]", helpPubkey, showPubkey},
			{"version", "", "the build", printVersion},
			{"help", "", "this text", printUsage},
		}
	}
	// Only a rescue image's /init has a remote rescue to retry in (and
	// its image a shell to type it in).
	return []command{
		{"show", "[INTERFACE...]", helpShow, showWG},
		{"state", "[STATE.json]", helpState, showState},
		{"pubkey", "[KEYFILE...]", helpPubkey, showPubkey},
		{"retry", "", "in a remote rescue: run the handoff again (after a repair)", retryCmd},
		{"version", "", "the build", printVersion},
		{"help", "", "this text", printUsage},
	}
}

const (
	helpShow   = "the WireGuard tunnels, like wg show (no secrets)"
	helpState  = "what init did at boot: " + statePath
	helpPubkey = "the tunnels' public keys, for enrolling the board"
)

// usage lists commands(), one line each (TestUsageDispatches).
func usage() string {
	var b strings.Builder
	b.WriteString("usage: wgboot COMMAND, on the device (check, import and timeline are the build host's: go run ./cmd/wgboot):\n")
	for _, c := range commands() {
		fmt.Fprintf(&b, "  %-28s  %s\n", strings.TrimSpace("wgboot "+c.name+" "+c.args), c.help)
	}
	return b.String()
}

// runCLI is the binary when it is not PID 1: /bin/wgboot in a rescue shell.
func runCLI(stdout, stderr io.Writer, args []string) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage())
		return 2
	}
	name := args[0]
	if name == "-h" || name == "-help" || name == "--help" {
		name = "help"
	}
	for _, c := range commands() {
		if c.name == name {
			return c.run(stdout, stderr, args[1:])
		}
	}
	fmt.Fprintf(stderr, "wgboot: unknown command %q\n%s", args[0], usage())
	return 2
}

func printUsage(stdout, stderr io.Writer, args []string) int {
	fmt.Fprint(stdout, usage())
	return 0
}

func printVersion(stdout, stderr io.Writer, args []string) int {
	fmt.Fprintln(stdout, "wgboot", version)
	return 0
}

// showState prints the state file init left. It is indented JSON, written
// for people too, so it is printed as it is: a summary would need a JSON
// decoder in /init (the host command's `wgboot state` has one).
func showState(stdout, stderr io.Writer, args []string) int {
	path := statePath
	switch {
	case len(args) == 1 && !strings.HasPrefix(args[0], "-"):
		path = args[0]
	case len(args) > 0:
		fmt.Fprint(stderr, usage())
		return 2
	}
	data, err := os.ReadFile(path)
	if err != nil {
		fmt.Fprintln(stderr, "wgboot state:", err)
		return 1
	}
	if len(data) > 0 && data[len(data)-1] != '\n' {
		data = append(data, '\n')
	}
	if _, err := stdout.Write(data); err != nil {
		fmt.Fprintln(stderr, "wgboot state:", err)
		return 1
	}
	return 0
}
