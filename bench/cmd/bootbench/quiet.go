package main

import (
	"os"
	"strconv"
	"strings"
	"time"
)

// The bench shares the host with whatever else runs on it, and one TCG
// guest needs a whole core: before each boot it waits, up to a bound, for
// the host's CPUs to be mostly idle, and it records how busy they were.

// busyLimit is the share of all CPUs that others may use when a boot
// starts: on a 2-core host, a little over one core, so that the guest has
// one to itself.
const busyLimit = 0.55

// cpuTimes reads the aggregate busy and total jiffies from /proc/stat.
func cpuTimes() (busy, total uint64, ok bool) {
	data, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, 0, false
	}
	line, _, _ := strings.Cut(string(data), "\n")
	f := strings.Fields(line)
	if len(f) < 5 || f[0] != "cpu" {
		return 0, 0, false
	}
	for i, s := range f[1:] {
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			return 0, 0, false
		}
		total += v
		if i != 3 && i != 4 { // idle, iowait
			busy += v
		}
	}
	return busy, total, true
}

// hostBusy is the share of CPU time the host spent busy over d.
func hostBusy(d time.Duration) float64 {
	b0, t0, ok0 := cpuTimes()
	time.Sleep(d)
	b1, t1, ok1 := cpuTimes()
	if !ok0 || !ok1 || t1 == t0 {
		return 0
	}
	return float64(b1-b0) / float64(t1-t0)
}

// quietBudget is what is left of the run's total wait for quiet.
var quietBudget = 5 * time.Minute

// waitQuiet waits until the host is below busyLimit over one second, for at
// most limit and what is left of quietBudget, and returns the last share
// measured.
func waitQuiet(limit time.Duration) float64 {
	start := time.Now()
	defer func() { quietBudget -= time.Since(start) }()
	deadline := start.Add(min(limit, max(quietBudget, 0)))
	warned := false
	for {
		b := hostBusy(time.Second)
		if b < busyLimit || time.Now().After(deadline) {
			return b
		}
		if !warned {
			logf("host %.0f%% busy: waiting up to %v for it to calm down", 100*b, time.Until(deadline).Round(time.Second))
			warned = true
		}
	}
}
