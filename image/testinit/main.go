// Command testinit is a PID 1 for running Go test binaries inside a QEMU
// guest: it mounts the pseudo filesystems, loads the modules the kernel
// command line names, runs the test binary, prints its exit status as a
// marker and powers off.
//
// Kernel command line:
//
//	testinit.modules=wireguard,virtio_net   modules to load first
//	testinit.run=/tests/pkg.test            the test binary
//	testinit.args="-test.v -test.run=^TestGuest"
//
// The host side (image/imagetest.RunGuestTest) builds the image, boots it
// and reads the marker "testinit: exit N".
package main

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/wgboot/wgboot/internal/kmod"
	"github.com/wgboot/wgboot/internal/krule"
)

func main() {
	code := run()
	fmt.Printf("testinit: exit %d\n", code)
	unix.Sync()
	unix.Reboot(unix.LINUX_REBOOT_CMD_POWER_OFF)
	for {
		time.Sleep(time.Hour)
	}
}

func run() int {
	for _, m := range []struct{ fs, dir string }{{"proc", "/proc"}, {"sysfs", "/sys"}, {"devtmpfs", "/dev"}, {"tmpfs", "/run"}, {"tmpfs", "/tmp"}} {
		os.MkdirAll(m.dir, 0o755)
		if err := unix.Mount(m.fs, m.dir, m.fs, 0, ""); err != nil && err != unix.EBUSY {
			fmt.Printf("testinit: mount %s: %v\n", m.dir, err)
			return 120
		}
	}
	raw, err := os.ReadFile("/proc/cmdline")
	if err != nil {
		fmt.Printf("testinit: %v\n", err)
		return 120
	}
	params := map[string]string{}
	args, _ := krule.SplitCmdline(string(raw))
	for _, f := range args {
		k, v, _ := strings.Cut(f, "=")
		params[k] = v
	}
	if mods := params["testinit.modules"]; mods != "" {
		l, err := kmod.New(nil)
		if err == nil {
			_, err = l.LoadAll(strings.Split(mods, ","))
		}
		if err != nil {
			fmt.Printf("testinit: modules: %v\n", err)
			return 121
		}
	}
	bin := params["testinit.run"]
	if bin == "" {
		fmt.Println("testinit: no testinit.run= on the kernel command line")
		return 122
	}
	cmd := exec.Command(bin, strings.Fields(params["testinit.args"])...)
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stdout
	cmd.Env = []string{"PATH=/bin", "HOME=/tmp", "TMPDIR=/tmp", "WGBOOT_IN_GUEST=1"}
	if err := cmd.Run(); err != nil {
		if ee, ok := err.(*exec.ExitError); ok {
			return ee.ExitCode()
		}
		fmt.Printf("testinit: run %s: %v\n", bin, err)
		return 123
	}
	return 0
}
