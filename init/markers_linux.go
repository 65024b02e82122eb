package main

import (
	"os"

	"golang.org/x/sys/unix"
)

// benchEnv is set in PID 1's environment when the kernel command line has
// wgbootbench=1: the kernel hands parameters it does not know, without a
// dot, to init as environment variables. The boot benchmark
// (bench/cmd/bootbench) sets it; nothing else should.
const benchEnv = "wgbootbench"

// init writes the boot benchmark's "main" marker to /dev/kmsg, where the
// kernel stamps it: package main's init runs after the Go runtime has
// started and every imported package is initialised, just before main. Its
// distance from the kernel's "Run /init as init process" is what the Go
// runtime costs before wgboot's first statement. devtmpfs is mounted for
// it a moment earlier than mountEarly would, which takes EBUSY as success.
func init() {
	if os.Getpid() != 1 || os.Getenv(benchEnv) == "" {
		return
	}
	unix.Mount("devtmpfs", "/dev", "devtmpfs", unix.MS_NOSUID, "mode=0755")
	if fd, err := unix.Open("/dev/kmsg", unix.O_WRONLY|unix.O_CLOEXEC, 0); err == nil {
		unix.Write(fd, []byte("<6>wgboot: bench: main\n"))
		unix.Close(fd)
	}
}
