// Command init is wgboot's PID 1: the first program of a router's boot.
//
// As PID 1 it mounts the early filesystems, logs to /dev/kmsg, loads the
// wireguard kernel module and its dependencies, brings the WireGuard tunnel
// up over raw netlink, and hands off to the main system. It never exits and
// never panics: every failure follows the board profile's policy.
//
// Run as any other PID, the same binary is a command line tool (installed
// as /bin/wgboot in the image):
//
//	init check PROFILE...   validate board profiles
//	init version            print the build
package main
