package main

import (
	"fmt"
	"strings"
)

// A clock is how the guest's time runs, and so what the kernel's stamps
// measure.
type clock string

const (
	// clockICount is QEMU's -icount shift=0,sleep=off: the guest clock
	// advances 1 ns per instruction executed (and jumps to the next timer
	// when the guest is idle). Times are instruction counts, the same from
	// boot to boot and whatever else the host runs; code is not slower the
	// first time it runs, as it is under TCG while QEMU translates it.
	clockICount clock = "icount"
	// clockTCG is QEMU's TCG as it normally runs: the guest clock is the
	// host's, so times include QEMU's translation and the host's load.
	clockTCG clock = "tcg"
)

func parseClocks(s string) ([]clock, error) {
	var out []clock
	for _, f := range strings.Split(s, ",") {
		switch c := clock(strings.TrimSpace(f)); c {
		case clockICount, clockTCG:
			for _, d := range out {
				if d == c {
					return nil, fmt.Errorf("%q twice", c)
				}
			}
			out = append(out, c)
		default:
			return nil, fmt.Errorf("unknown clock %q (want icount, tcg)", f)
		}
	}
	return out, nil
}

// title names the clock in headings.
func (c clock) title() string {
	if c == clockICount {
		return "instruction time"
	}
	return "TCG wall time"
}

// unit is what its milliseconds are.
func (c clock) unit() string {
	if c == clockICount {
		return "instruction-ms"
	}
	return "ms"
}

// guest describes the guest for table titles.
func (c clock) guest() string {
	if c == clockICount {
		return "QEMU TCG with -icount shift=0,sleep=off, 1 vCPU; 1 instruction-ms = 10⁶ instructions"
	}
	return "QEMU TCG, 1 vCPU, host time"
}
