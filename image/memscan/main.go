// Command memscan is a test program for the rescue-shell end-to-end test:
// it searches the memory of a process (PID 1 by default) for secrets, to
// check that wgboot leaves no key in its memory after the bring-up — not
// in its heap, its stacks or freed memory. The needles are read from a
// file of hex lines (the test keys, raw); only where they were found is
// printed, never a needle.
//
// First it sends every thread of the process SIGURG, which Go programs
// take without a word (it is the runtime's preemption signal): the kernel
// saves each thread's registers in a signal frame, in the process's
// memory, as any signal would. A key left in the registers by a copy is
// then in memory, where the search finds it, instead of only when a
// signal happens to come at the wrong time.
//
//	memscan [-pid N] NEEDLES-FILE
package main

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/wgboot/wgboot/internal/keyscan"
)

func main() {
	pid := 1
	args := os.Args[1:]
	if len(args) == 3 && args[0] == "-pid" {
		n, err := strconv.Atoi(args[1])
		if err != nil {
			fail(err)
		}
		pid, args = n, args[2:]
	}
	if len(args) != 1 {
		fail(fmt.Errorf("usage: memscan [-pid N] NEEDLES-FILE"))
	}
	needles, err := readNeedles(args[0])
	if err != nil {
		fail(err)
	}
	threads, err := signalThreads(pid)
	if err != nil {
		fail(err)
	}
	fmt.Printf("memscan: pid %d: signalled %d threads\n", pid, threads)
	regions, size, hits, err := scan(pid, needles)
	if err != nil {
		fail(err)
	}
	fmt.Printf("memscan: pid %d: %d regions, %d bytes, %d needles, hits=%d\n", pid, regions, size, len(needles), len(hits))
	for _, h := range hits {
		fmt.Printf("memscan: hit: needle %d (%s) at %#x in %s\n", h.needle, h.form, h.addr, h.region)
	}
}

// signalThreads sends SIGURG to every thread of pid, then waits a moment
// for the signals to be delivered.
func signalThreads(pid int) (int, error) {
	ents, err := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
	if err != nil {
		return 0, err
	}
	n := 0
	for _, e := range ents {
		tid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if unix.Tgkill(pid, tid, unix.SIGURG) == nil {
			n++
		}
	}
	time.Sleep(100 * time.Millisecond)
	return n, nil
}

func fail(err error) {
	fmt.Printf("memscan: FAIL %v\n", err)
	os.Exit(1)
}

// readNeedles reads one hex string per line; each is searched raw, in
// lower- and upper-case hex and in base64 (the forms a key takes).
func readNeedles(path string) ([][]byte, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var out [][]byte
	for _, l := range strings.Fields(string(data)) {
		raw, err := hex.DecodeString(l)
		if err != nil {
			return nil, err
		}
		out = append(out, raw)
	}
	return out, nil
}

type hit struct {
	needle int
	form   string
	addr   uint64
	region string
}

// scan reads every readable mapping of pid through /proc/PID/mem.
func scan(pid int, needles [][]byte) (regions int, size int64, hits []hit, err error) {
	ms, err := keyscan.Mappings(pid)
	if err != nil {
		return 0, 0, nil, err
	}
	mem, err := os.Open(fmt.Sprintf("/proc/%d/mem", pid))
	if err != nil {
		return 0, 0, nil, err
	}
	defer mem.Close()
	for _, m := range ms {
		buf := make([]byte, m.End-m.Start)
		n, _ := mem.ReadAt(buf, int64(m.Start))
		buf = buf[:n]
		regions++
		size += int64(n)
		for i, nd := range needles {
			for k, form := range forms(nd) {
				for off := 0; ; {
					j := bytes.Index(buf[off:], form)
					if j < 0 {
						break
					}
					hits = append(hits, hit{i, formNames[k], uint64(m.Start) + uint64(off+j), m.Line})
					off += j + 1
				}
			}
		}
	}
	return regions, size, hits, nil
}

// formNames name the forms returns, in order.
var formNames = []string{"raw", "hex", "HEX", "base64"}

func forms(raw []byte) [][]byte {
	h := hex.EncodeToString(raw)
	return [][]byte{raw, []byte(h), []byte(strings.ToUpper(h)), []byte(base64.StdEncoding.EncodeToString(raw))}
}
