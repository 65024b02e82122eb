package main

import (
	"fmt"
	"os"
)

// buildTime is the build's time as Unix seconds, set by the Makefile with
// -ldflags -X. It serves as a floor for the clock on boards without an RTC.
var buildTime = "0"

// version is set by the Makefile with -ldflags -X.
var version = "dev"

func main() {
	if os.Getpid() == 1 {
		pid1() // never returns
	}
	os.Exit(cli(os.Args[1:]))
}

func cli(args []string) int {
	if len(args) == 0 {
		fmt.Fprintln(os.Stderr, "usage: wgboot <check|version> ...")
		return 2
	}
	switch args[0] {
	case "version":
		fmt.Println("wgboot", version)
		return 0
	}
	fmt.Fprintf(os.Stderr, "wgboot: unknown command %q\n", args[0])
	return 2
}
