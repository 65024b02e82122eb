// Command benchroot is the /sbin/init of the root disk that the boot
// benchmark's timeline boot hands off to (bench/cmd/bootbench): it marks the
// handoff in the kernel log, prints wgboot's state file between two marker
// lines on the console, and powers off.
package main

import (
	"os"

	"golang.org/x/sys/unix"
)

func main() {
	if f, err := os.OpenFile("/dev/kmsg", os.O_WRONLY, 0); err == nil {
		f.WriteString("<6>benchroot: main")
		f.Close()
	}
	data, err := os.ReadFile("/run/wgboot/state.json")
	if err != nil {
		os.Stdout.WriteString("benchroot: " + err.Error() + "\n")
	} else {
		os.Stdout.WriteString("benchroot: state begin\n")
		os.Stdout.Write(data)
		os.Stdout.WriteString("\nbenchroot: state end\n")
	}
	unix.Sync()
	unix.Reboot(unix.LINUX_REBOOT_CMD_POWER_OFF)
	select {}
}
