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
//   - IPv6 router advertisements (ra.go) when testhub.ra=PREFIX/64 is on
//     the kernel command line: a default router and a prefix for SLAAC,
//     sent every second and at once to each router solicitation.
//
// It is PID 1: it never exits, and prints one line per event on the
// console, prefixed "testhub:".
package main

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"
)

// uplink is the hub's uplink; its address is hub.toml's.
const uplink = "eth0"

func main() {
	fmt.Printf("testhub: running as PID %d\n", os.Getpid())
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
				fmt.Printf("testhub: dhcp: %v\n", err)
			}
		}()
	}
	if p := params["testhub.ra"]; p != "" {
		go func() {
			if err := advertise(context.Background(), uplink, p); err != nil {
				fmt.Printf("testhub: ra: %v\n", err)
			}
		}()
	}
	// PID 1 must not exit: the kernel would panic.
	for {
		time.Sleep(time.Hour)
	}
}
