package main

import (
	"encoding/binary"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// dirents encodes names as getdents64 records.
func dirents(names ...string) []byte {
	nameOff := int(unsafe.Offsetof(unix.Dirent{}.Name))
	reclenOff := int(unsafe.Offsetof(unix.Dirent{}.Reclen))
	var b []byte
	for _, n := range names {
		reclen := (nameOff + len(n) + 1 + 7) &^ 7
		rec := make([]byte, reclen)
		binary.NativeEndian.PutUint16(rec[reclenOff:], uint16(reclen))
		copy(rec[nameOff:], n)
		b = append(b, rec...)
	}
	return b
}

func TestThreadIDs(t *testing.T) {
	for _, c := range []struct {
		names []string
		want  []int
	}{
		{[]string{".", "..", "1", "79", "80", "81"}, []int{1, 79, 80, 81}},
		// Creation order, not numeric order: after a PID wrap the
		// runtime's first thread can have a lower ID than the main one.
		{[]string{".", "..", "31000", "301", "30999"}, []int{31000, 301, 30999}},
		{[]string{".", "..", "1"}, []int{1}},
		{[]string{".", ".."}, nil},
		{nil, nil},
	} {
		if got := threadIDs(dirents(c.names...), nil); !slices.Equal(got, c.want) {
			t.Errorf("threadIDs(%q) = %v, want %v", c.names, got, c.want)
		}
	}
	// Appended to what an earlier read found; a record cut short by the
	// buffer's end is not read past.
	b := dirents("79", "80")
	if got := threadIDs(b[:len(b)-4], []int{1}); !slices.Equal(got, []int{1, 79}) {
		t.Errorf("threadIDs(truncated) = %v, want [1 79]", got)
	}
}

// TestCalmSysmon checks that calmSysmon gives the slack to the runtime's
// sysmon thread — the one thread of a busy Go process that sleeps in
// nanosleep(2) (runtime.usleep) — and to no other thread.
func TestCalmSysmon(t *testing.T) {
	var stop atomic.Bool
	defer stop.Store(true)
	go func() { // keeps a P busy, so that sysmon polls in usleep
		for !stop.Load() {
		}
	}()
	// The threads before: those sysmon starts later inherit its slack.
	ents, err := os.ReadDir("/proc/self/task")
	if err != nil {
		t.Fatal(err)
	}
	if err := calmSysmon(); err != nil {
		t.Fatal(err)
	}
	sysmon := ""
	deadline := time.Now().Add(5 * time.Second)
	for sysmon == "" && time.Now().Before(deadline) {
		for _, e := range ents {
			b, err := os.ReadFile("/proc/self/task/" + e.Name() + "/syscall")
			if err == nil && strings.HasPrefix(string(b), strconv.Itoa(unix.SYS_NANOSLEEP)+" ") {
				sysmon = e.Name()
			}
		}
		time.Sleep(time.Millisecond)
	}
	if sysmon == "" {
		t.Fatal("no thread found sleeping in nanosleep (sysmon)")
	}
	for _, e := range ents {
		b, err := os.ReadFile("/proc/" + e.Name() + "/timerslack_ns")
		if err != nil {
			t.Fatal(err)
		}
		got := strings.TrimSpace(string(b))
		switch {
		case e.Name() == sysmon && got != sysmonSlack:
			t.Errorf("sysmon (thread %s): timer slack %s ns, want %s", e.Name(), got, sysmonSlack)
		case e.Name() != sysmon && got == sysmonSlack:
			t.Errorf("thread %s, not sysmon, got sysmon's timer slack", e.Name())
		}
	}
}
