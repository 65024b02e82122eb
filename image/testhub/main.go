// Command testhub is the next stage of the hub guest in the QEMU
// end-to-end tests: the hub's wgboot brings up its uplink and tunnels and
// then execs testhub in the initramfs (handoff.root = ""), where it stays as
// PID 1 and serves what a real network gives a board. Test-only code: it is
// never part of a board's image.
//
// It serves DNS on port 53, UDP and TCP, on every address of the hub: a
// small authoritative responder for the names in /etc/testhub/zone, built
// on golang.org/x/net/dns/dnsmessage. Each line of the zone is
//
//	<name> A|AAAA|CNAME <value>
//	<name> TC          answers over UDP are truncated: ask over TCP
//
// A name the zone lacks is NXDOMAIN; a name it has without a record of
// the type asked is NODATA. Every query is logged on the console:
//
//	testhub: dns: udp 192.168.50.2:40000 A hub.wgboot.test. → NOERROR [192.168.50.1]
//
// Kernel command line: testhub.dns=off serves no DNS (the fault tests'
// "DNS server down": queries meet ICMP port unreachable).
package main

import (
	"bufio"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// zonePath is where the test puts the zone in the hub's image.
const zonePath = "/etc/testhub/zone"

func main() {
	// PID 1: a signal that ends the program panics the kernel.
	signal.Ignore(unix.SIGHUP, unix.SIGINT, unix.SIGTERM, unix.SIGPIPE)
	logf("running as PID %d", os.Getpid())
	if err := run(); err != nil {
		logf("FAIL %v", err)
	}
	for {
		time.Sleep(time.Hour)
	}
}

func run() error {
	raw, err := os.ReadFile("/proc/cmdline")
	if err != nil {
		return err
	}
	dns := true
	for _, f := range strings.Fields(string(raw)) {
		if f == "testhub.dns=off" {
			dns = false
		}
	}
	if !dns {
		logf("dns: off")
		return nil
	}
	f, err := os.Open(zonePath)
	if err != nil {
		return err
	}
	defer f.Close()
	z, err := parseZone(bufio.NewScanner(f))
	if err != nil {
		return fmt.Errorf("%s: %w", zonePath, err)
	}
	srv, err := listen(":53", z, logf)
	if err != nil {
		return err
	}
	logf("dns: serving %d name(s) on port 53, UDP and TCP", len(z))
	srv.serve()
	return nil
}

func logf(format string, args ...any) {
	fmt.Printf("testhub: "+format+"\n", args...)
}
