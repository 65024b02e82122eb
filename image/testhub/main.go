// Command testhub is what the QEMU tests' hub guest runs after its wgboot
// has brought the hub's tunnel up and handed off in the initramfs
// (hub.toml: root = "", init = "/sbin/testhub"): the services of the
// network a real board boots into, which the client's wgboot uses. It is
// test-only code and never part of a board's /init.
//
//   - DHCPv4 on the uplink (dhcp.go), with insomniacslk/dhcp's server4:
//     every client gets 192.168.50.<100 + last byte of its MAC>/24, a
//     router and name server (192.168.50.1), classless static routes, an
//     MTU of 1492 and a one-hour lease. testhub.dhcp=off keeps it silent.
//
//   - IPv6 router advertisements (ra.go) when testhub.ra=PREFIX/64 is on
//     the kernel command line: a default router and a prefix for SLAAC,
//     sent every second and at once to each router solicitation.
//
//   - DNS on port 53, UDP and TCP, on every address of the hub (dns.go): a
//     small authoritative responder for the names in /etc/testhub/zone,
//     built on golang.org/x/net/dns/dnsmessage. Each line of the zone is
//
//     <name> A|AAAA|CNAME <value>
//     <name> TC          answers over UDP are truncated: ask over TCP
//
//     A name the zone lacks is NXDOMAIN; a name it has without a record
//     of the type asked is NODATA. Every query is logged:
//
//     testhub: dns: udp 192.168.50.2:40000 A hub.wgboot.test. → NOERROR [192.168.50.1]
//
//     testhub.dns=off serves no DNS (the fault tests' "DNS server down":
//     queries meet ICMP port unreachable); so does an image without a
//     zone. testhub.dns=silent reads and logs the queries and answers
//     none (a server that drops them).
//
// It is PID 1: it never exits, and prints one line per event on the
// console, prefixed "testhub:".
package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/signal"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// uplink is the hub's uplink; its address is hub.toml's.
const uplink = "eth0"

// zonePath is where the test puts the zone in the hub's image.
const zonePath = "/etc/testhub/zone"

func main() {
	// PID 1: a signal that ends the program panics the kernel.
	signal.Ignore(unix.SIGHUP, unix.SIGINT, unix.SIGTERM, unix.SIGPIPE)
	logf("running as PID %d", os.Getpid())
	params := map[string]string{}
	if raw, err := os.ReadFile("/proc/cmdline"); err == nil {
		for _, f := range strings.Fields(string(raw)) {
			k, v, _ := strings.Cut(f, "=")
			params[k] = v
		}
	}
	if params["testhub.dhcp"] != "off" {
		go func() {
			if err := serveDHCP(uplink); err != nil {
				logf("dhcp: %v", err)
			}
		}()
	}
	if p := params["testhub.ra"]; p != "" {
		go func() {
			if err := advertise(context.Background(), uplink, p); err != nil {
				logf("ra: %v", err)
			}
		}()
	}
	if params["testhub.dns"] == "off" {
		logf("dns: off")
	} else {
		go func() {
			if err := serveDNS(params["testhub.dns"] == "silent"); err != nil {
				logf("dns: %v", err)
			}
		}()
	}
	// PID 1 must not exit: the kernel would panic.
	for {
		time.Sleep(time.Hour)
	}
}

// serveDNS serves the zone at zonePath, if the image has one; silent, it
// answers nothing.
func serveDNS(silent bool) error {
	f, err := os.Open(zonePath)
	if errors.Is(err, fs.ErrNotExist) {
		logf("dns: off (no %s)", zonePath)
		return nil
	}
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
	srv.silent = silent
	how := "serving"
	if silent {
		how = "silent, dropping queries for"
	}
	logf("dns: %s %d name(s) on port 53, UDP and TCP", how, len(z))
	srv.serve()
	return nil
}

func logf(format string, args ...any) {
	fmt.Printf("testhub: "+format+"\n", args...)
}
