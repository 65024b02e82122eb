package main

import (
	"encoding/binary"
	"errors"
	"strconv"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// sysmonSlack is the timer slack, in nanoseconds, that PID 1 gives the Go
// runtime's sysmon thread: 1 ms.
//
// sysmon sleeps 20 µs between its checks for as long as the program is
// busy (it backs off only after 50 checks in a row find nothing to do),
// and the kernel's default slack of 50 µs makes that about 70 µs: some
// fourteen wake-ups per millisecond of the boot, each an interrupt, two
// context switches and, while PID 1 is in a system call, a P taken from
// it and handed to another thread that finds nothing to run. With 1 ms of
// slack the kernel wakes it about once a millisecond. Under QEMU -icount,
// medians of 3 boots, amd64 / arm64, instruction-ms: the tunnels phase
// 2.48 → 2.33 / 2.06 → 1.93, (c) 2.50 → 2.34 / 2.10 → 1.94, (a) 7.82 →
// 7.62 / 6.12 → 6.04, setting it included (the mounts phase +0.1 / +0.07,
// /proc being new to the kernel); docs/benchmarks.md has the
// runs. What sysmon does is unchanged; it does it less often: a P held
// by a long system call is handed off after up to about 1 ms rather than
// 20–70 µs, and a goroutine running 10 ms is preempted up to 1 ms later.
// Threads the runtime starts from sysmon inherit the slack, so their
// timed waits (the next timer, a futex timeout) may end up to 1 ms late:
// nothing PID 1 waits for is that precise. The next stage is not
// affected: the handoff's exec ends sysmon, and the thread that execs
// keeps its own slack.
const sysmonSlack = "1000000"

// calmSysmon gives the Go runtime's sysmon thread sysmonSlack of timer
// slack. It needs /proc. sysmon is the first thread the runtime starts
// (runtime.main, before any package's init), and /proc/self/task lists a
// process's threads in the order they were created, the main thread first.
func calmSysmon() error {
	fd, err := unix.Open("/proc/self/task", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	var buf [512]byte // ".", "..", the main thread, sysmon, … (more reads if need be)
	var ids []int
	for len(ids) < 2 {
		n, err := syscall.ReadDirent(fd, buf[:]) // os's: not another copy
		if err != nil || n <= 0 {
			break
		}
		ids = threadIDs(buf[:n], ids)
	}
	unix.Close(fd)
	if len(ids) < 2 {
		return errNoSysmon
	}
	fd, err = unix.Open("/proc/"+strconv.Itoa(ids[1])+"/timerslack_ns", unix.O_WRONLY|unix.O_CLOEXEC, 0)
	if err == nil {
		_, err = unix.Write(fd, []byte(sysmonSlack))
		unix.Close(fd)
	}
	return err
}

var errNoSysmon = errors.New("no second thread in /proc/self/task")

// threadIDs appends to ids the thread IDs among the linux_dirent64 records
// in b (getdents64 of /proc/self/task), in their order. Names that are not
// numbers ("." and "..") are skipped.
func threadIDs(b []byte, ids []int) []int {
	const nameOff = int(unsafe.Offsetof(unix.Dirent{}.Name))
	const reclenOff = int(unsafe.Offsetof(unix.Dirent{}.Reclen))
	for len(b) > nameOff {
		reclen := int(binary.NativeEndian.Uint16(b[reclenOff:]))
		if reclen <= nameOff || reclen > len(b) {
			return ids
		}
		tid := 0
		for _, c := range b[nameOff:reclen] {
			if c == 0 {
				break
			}
			if c < '0' || c > '9' {
				tid = 0
				break
			}
			tid = tid*10 + int(c-'0')
		}
		if tid > 0 {
			ids = append(ids, tid)
		}
		b = b[reclen:]
	}
	return ids
}
