package main

import (
	"os"
	"strconv"
	"strings"

	"github.com/wgboot/wgboot/internal/bootstate"
)

// statePath is where init leaves its account of the boot.
const statePath = bootstate.Path

// state is what the boot did, for the main system and for people: never a
// secret, only public keys. It is written by bootstate.Encode, not
// encoding/json, which /init does not link.
type state struct {
	bootstate.State
}

// vmHWM returns a process's peak resident set size in KiB from
// /proc/PID/status, 0 when unknown. Lines cut with strings.Cut, not
// bufio.Scanner: see kmod.ParseDep.
func vmHWM(status []byte) int {
	for rest := string(status); rest != ""; {
		var line string
		line, rest, _ = strings.Cut(rest, "\n")
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(v), " kB"))
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
