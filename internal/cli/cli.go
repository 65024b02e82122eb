// Package cli is the command-line face of the wgboot binary: when the
// binary is not PID 1 it checks board profiles and imports wg-quick
// configurations. Functions take their output streams and return an exit
// status, so that init's main only calls os.Exit and tests need no process.
package cli

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/wgboot/wgboot/board"
)

// Exit statuses.
const (
	ExitOK    = 0 // done; warnings may have been printed
	ExitFail  = 1 // a profile is invalid, or a file could not be converted
	ExitUsage = 2 // the command line is wrong
)

const usage = `usage:
  wgboot check [-root DIR] [-strict] PROFILE...   validate board profiles
  wgboot import WG-QUICK.conf > PROFILE.toml      convert a wg-quick config
  wgboot show [INTERFACE]                         WireGuard state, like wg show
  wgboot state [STATE.json]                       what init did at boot
  wgboot timeline [STATE.json] > boot.svg         the boot as a chart
  wgboot version
`

// Run runs the command named by args[0] ("check", "import" or "help").
func Run(stdout, stderr io.Writer, args []string) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return ExitUsage
	}
	switch args[0] {
	case "check":
		return Check(stdout, stderr, args[1:])
	case "import":
		if len(args) != 2 || len(args[1]) > 0 && args[1][0] == '-' && args[1] != "-" {
			fmt.Fprint(stderr, usage)
			return ExitUsage
		}
		return Import(stdout, stderr, args[1])
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
		return ExitOK
	}
	fmt.Fprintf(stderr, "wgboot: unknown command %q\n%s", args[0], usage)
	return ExitUsage
}

// Check validates the profiles named in args, after optional flags:
//
//	-root DIR  the staged image tree: absolute key file paths are read
//	           below DIR (without it, they are looked up by base name next
//	           to the profile, and a missing one is only a warning)
//	-strict    count warnings as errors
//
// Every problem is printed to stdout as one "file:line:col: field:
// message" line; key material is never printed. With several profiles,
// conflicts between them (two profiles matching the same board) are
// reported too. Check returns ExitOK when no profile has errors, ExitFail
// when one has, and ExitUsage for a bad command line.
func Check(stdout, stderr io.Writer, args []string) int {
	flags := flag.NewFlagSet("check", flag.ContinueOnError)
	flags.SetOutput(stderr)
	flags.Usage = func() { fmt.Fprint(stderr, usage) }
	root := flags.String("root", "", "staged image `directory` for absolute key file paths")
	strict := flags.Bool("strict", false, "count warnings as errors")
	if err := flags.Parse(args); err != nil {
		return ExitUsage
	}
	if flags.NArg() == 0 {
		fmt.Fprint(stderr, usage)
		return ExitUsage
	}
	src := board.KeySource{}
	if *root != "" {
		info, err := os.Stat(*root)
		if err != nil || !info.IsDir() {
			fmt.Fprintf(stderr, "wgboot check: -root %s: not a directory\n%s", *root, usage)
			return ExitUsage
		}
		src.Root = os.DirFS(*root)
	}
	var (
		all      board.Diagnostics
		profiles []*board.Profile
	)
	for _, name := range flags.Args() {
		ds, p := checkOne(name, src)
		all = append(all, ds...)
		if p != nil {
			profiles = append(profiles, p)
		}
	}
	if len(profiles) > 1 {
		all = append(all, board.Conflicts(profiles)...)
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

// checkOne parses, reads keys for and validates one profile file.
func checkOne(name string, src board.KeySource) (board.Diagnostics, *board.Profile) {
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
