// Command wgboot is wgboot's host command, for a build host or a main
// system: it validates board profiles (check), converts wg-quick
// configurations (import), and reads the state file PID 1 leaves in
// /run/wgboot (state, timeline). `wgboot help` lists the commands.
//
// The device's /init, run as /bin/wgboot from a rescue shell, has only
// show, state, pubkey and version; everything here stays off the boards.
package main

import (
	"os"

	"github.com/wgboot/wgboot/internal/cli"
)

// version is set by the Makefile with -ldflags -X.
var version = "dev"

func main() {
	cli.Version = version
	os.Exit(cli.Run(os.Stdout, os.Stderr, os.Args[1:]))
}
