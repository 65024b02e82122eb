// Command probe measures what a Go PID 1 costs before main: booted as /init
// by the boot benchmark (bench/cmd/bootbench), its first statement mounts
// devtmpfs and writes "probe: main" to /dev/kmsg, which the kernel stamps;
// the time since the kernel's "Run /init as init process" is exec, the Go
// runtime's start and every package's init: with only syscall linked, the
// floor of any Go PID 1. Then it powers off.
package main

import "syscall"

func main() {
	syscall.Mount("devtmpfs", "/dev", "devtmpfs", syscall.MS_NOSUID, "mode=0755")
	if fd, err := syscall.Open("/dev/kmsg", syscall.O_WRONLY, 0); err == nil {
		syscall.Write(fd, []byte("<6>probe: main"))
		syscall.Close(fd)
	}
	syscall.Reboot(syscall.LINUX_REBOOT_CMD_POWER_OFF)
	select {}
}
