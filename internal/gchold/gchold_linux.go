// Package gchold turns Go's garbage collector off for a bounded stretch of
// work, with a memory limit as the safety net: PID 1 reading a profile of
// many peers and configuring them allocates a few tens of megabytes that
// all live until the tunnels are up, so the collector's cycles in between
// only cost time (about 25 million instructions for 10,000 peers) and make
// that time depend on where the cycles fall.
package gchold

import (
	"runtime/debug"

	"golang.org/x/sys/unix"
)

// The memory limit is a quarter of the board's RAM, within these bounds.
// A quarter leaves the rest for the kernel, the initramfs's files (tmpfs)
// and the main system's start; 16 MiB is more than a profile of a few
// peers needs and less than any board that runs Linux and WireGuard has
// to spare; above 256 MiB the collector runs anyway (10,000 peers
// allocate well under that).
const (
	minLimit = 16 << 20
	maxLimit = 256 << 20
)

// Limit is the memory limit Hold sets on a board with ram bytes of RAM.
func Limit(ram uint64) int64 {
	return int64(min(max(ram/4, minLimit), maxLimit))
}

// Hold turns the collector off (GOGC=off) under a memory limit derived
// from the board's RAM (see Limit): the runtime collects only when its
// memory nears the limit. restore puts back the percent and the limit
// that were in force, and must be called once the work is done: a
// process that goes on allocating (a rescue shell's server, a watchdog
// loop) needs the collector. If the RAM cannot be read, Hold changes
// nothing.
func Hold() (restore func()) {
	var si unix.Sysinfo_t
	if unix.Sysinfo(&si) != nil {
		return func() {}
	}
	limit := debug.SetMemoryLimit(Limit(uint64(si.Totalram) * uint64(si.Unit)))
	percent := debug.SetGCPercent(-1)
	return func() {
		debug.SetGCPercent(percent)
		debug.SetMemoryLimit(limit)
	}
}
