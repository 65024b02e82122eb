// Package cli is the host command, cmd/wgboot: it checks board profiles,
// imports wg-quick configurations and reads the state files that PID 1
// leaves, on a build host or a main system. None of it is linked into
// /init, which keeps only what a device uses (see init/main.go).
// Functions take their output streams and return an exit status, so that
// the command's main only calls os.Exit and tests need no process.
package cli

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"

	"github.com/wgboot/wgboot/board"
	"github.com/wgboot/wgboot/internal/persist"
)

// Exit statuses.
const (
	ExitOK    = 0 // done; warnings may have been printed
	ExitFail  = 1 // a profile is invalid, or a file could not be converted
	ExitUsage = 2 // the command line is wrong
)

// Version is the build, set by cmd/wgboot from the Makefile's -ldflags -X.
// Without it (go run), the module's version from the build info is shown.
var Version = "dev"

// A command is one word of the command line, with its line in the usage.
type command struct {
	name, args, help string
	run              func(stdout, stderr io.Writer, args []string) int
}

// commands are the host command's commands, in the order of the usage.
func commands() []command {
	return []command{
		{"check", "[-root DIR] [-persist DIR] [-image minimal|rescue] [-strict] PROFILE...", "validate board profiles", Check},
		{"import", "WG-QUICK.conf > PROFILE.toml", "convert a wg-quick config", importCmd},
		{"pubkey", "[KEYFILE...]", "the public key of private key files (or stdin)", pubkeyCmd},
		{"timeline", "[-console LOG] [-title TEXT] STATE.json", "the boot as an SVG chart on stdout", Timeline},
		{"state", "[STATE.json]", "what init did at boot (" + statePath + ")", State},
		{"version", "", "the build", version},
		{"help", "", "this text", help},
	}
}

// usage is the host command's usage: one line per command, each of which
// Run dispatches (TestUsageDispatches).
func usage() string {
	var b strings.Builder
	b.WriteString("usage: wgboot COMMAND, on a build host (the device's /bin/wgboot has show, state, pubkey and version; a rescue image's also retry):\n")
	for _, c := range commands() {
		line := "wgboot " + c.name
		if c.args != "" {
			line += " " + c.args
		}
		if len(line) > 46 {
			line += "\n" + strings.Repeat(" ", 46)
		}
		fmt.Fprintf(&b, "  %-46s  %s\n", line, c.help)
	}
	return b.String()
}

// Run runs the command named by args[0].
func Run(stdout, stderr io.Writer, args []string) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage())
		return ExitUsage
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
	return ExitUsage
}

func help(stdout, stderr io.Writer, args []string) int {
	fmt.Fprint(stdout, usage())
	return ExitOK
}

func version(stdout, stderr io.Writer, args []string) int {
	fmt.Fprintln(stdout, "wgboot", buildVersion())
	return ExitOK
}

// buildVersion is Version, or what the Go toolchain recorded of the
// module's version or commit.
func buildVersion() string {
	bi, ok := debug.ReadBuildInfo()
	if Version != "dev" || !ok {
		return Version
	}
	if v := bi.Main.Version; v != "" && v != "(devel)" {
		return v
	}
	rev, dirty := "", ""
	for _, s := range bi.Settings {
		switch {
		case s.Key == "vcs.revision" && len(s.Value) >= 12:
			rev = s.Value[:12]
		case s.Key == "vcs.modified" && s.Value == "true":
			dirty = "-dirty"
		}
	}
	if rev == "" {
		return Version
	}
	return rev + dirty
}

func pubkeyCmd(stdout, stderr io.Writer, args []string) int {
	return Pubkey(stdin, stdout, stderr, args)
}

func importCmd(stdout, stderr io.Writer, args []string) int {
	if len(args) != 1 || len(args[0]) > 0 && args[0][0] == '-' && args[0] != "-" {
		fmt.Fprint(stderr, usage())
		return ExitUsage
	}
	return Import(stdout, stderr, args[0])
}

// Check validates the profiles named in args, after optional flags:
//
//	-root DIR  the staged image tree: absolute key file paths are read
//	           below DIR (without it, they are looked up by base name next
//	           to the profile, and a missing one is only a warning)
//	-persist DIR  a staged config partition: its profiles, under
//	           DIR/wgboot/profiles, are checked as the board reads them
//	           (after the image's), and key files under /persist are
//	           read below DIR (a missing one is fine with generate_key)
//	-strict    count warnings as errors
//	-image minimal|rescue  the image the profiles go into: a failure
//	           policy that needs the rescue tools (on_failure = "remote",
//	           "shell") is reported for a minimal one
//
// Every problem is printed to stdout as one "file:line:col: field:
// message" line; key material is never printed. With several profiles,
// conflicts between them (two profiles matching the same board) are
// reported too. Check returns ExitOK when no profile has errors, ExitFail
// when one has, and ExitUsage for a bad command line.
func Check(stdout, stderr io.Writer, args []string) int {
	flags := flag.NewFlagSet("check", flag.ContinueOnError)
	flags.SetOutput(stderr)
	flags.Usage = func() { fmt.Fprint(stderr, usage()) }
	root := flags.String("root", "", "staged image `directory` for absolute key file paths")
	persistDir := flags.String("persist", "", "staged config partition `directory`: its wgboot/profiles and the key files under /persist")
	strict := flags.Bool("strict", false, "count warnings as errors")
	imageKind := flags.String("image", "", "`minimal` or rescue: the image the profiles go into (on_failure = \"remote\" needs a rescue image)")
	if err := flags.Parse(args); err != nil {
		return ExitUsage
	}
	if flags.NArg() == 0 {
		fmt.Fprint(stderr, usage())
		return ExitUsage
	}
	switch *imageKind {
	case "", "minimal", "rescue":
	default:
		fmt.Fprintf(stderr, "wgboot check: -image %s: want minimal or rescue\n%s", *imageKind, usage())
		return ExitUsage
	}
	src := board.KeySource{}
	if *root != "" {
		info, err := os.Stat(*root)
		if err != nil || !info.IsDir() {
			fmt.Fprintf(stderr, "wgboot check: -root %s: not a directory\n%s", *root, usage())
			return ExitUsage
		}
		src.Root = os.DirFS(*root)
	}
	var partition []string // the config partition's profiles
	if *persistDir != "" {
		info, err := os.Stat(*persistDir)
		if err != nil || !info.IsDir() {
			fmt.Fprintf(stderr, "wgboot check: -persist %s: not a directory\n%s", *persistDir, usage())
			return ExitUsage
		}
		src.Persist = os.DirFS(*persistDir)
		// Glob's only error is a bad pattern; a partition without
		// profiles has none to check.
		partition, _ = filepath.Glob(filepath.Join(*persistDir, filepath.FromSlash(persist.ProfileDir), "*.toml"))
	}
	var all board.Diagnostics
	// The image's profiles and the partition's are chosen from apart (the
	// partition's first), so conflicts are looked for within each.
	for _, set := range []struct {
		names       []string
		onPartition bool
	}{{flags.Args(), false}, {partition, true}} {
		var profiles []*board.Profile
		for _, name := range set.names {
			ds, p := checkOne(name, src, set.onPartition)
			if p != nil && *imageKind != "" {
				ds = append(ds, p.CheckImage(*imageKind == "rescue")...)
			}
			all = append(all, ds...)
			if p != nil {
				profiles = append(profiles, p)
			}
		}
		if len(profiles) > 1 {
			all = append(all, board.Conflicts(profiles)...)
		}
	}
	failed := false
	for _, d := range all {
		fmt.Fprintln(stdout, d.Error())
		if d.Severity == board.SeverityError || *strict {
			failed = true
		}
	}
	if failed {
		return ExitFail
	}
	return ExitOK
}

// checkOne parses, reads keys for and validates one profile file;
// onPartition says it is one of the config partition's.
func checkOne(name string, src board.KeySource, onPartition bool) (board.Diagnostics, *board.Profile) {
	data, err := os.ReadFile(name)
	if err != nil {
		return board.Diagnostics{{
			Pos:  board.Position{File: name},
			Kind: board.ErrRead,
			Msg:  fmt.Sprintf("cannot read: %v", unwrapPath(err)),
		}}, nil
	}
	p, ds := board.Parse(name, data)
	if p == nil {
		return ds, nil
	}
	p.OnPartition = onPartition
	src.Dir = os.DirFS(filepath.Dir(name))
	ds = append(ds, p.ReadKeys(src)...)
	ds = append(ds, p.Validate()...)
	ds.Sort()
	return ds, p
}

// unwrapPath drops the file name an *fs.PathError repeats.
func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
