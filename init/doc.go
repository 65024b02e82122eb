// Command init is wgboot's PID 1: the first program of a router's boot.
//
// As PID 1 it mounts the early filesystems, logs to /dev/kmsg, reads the
// board's profile, mounts the board's config partition (its own keys,
// made at first boot, and profiles, which run before the image's), loads
// the wireguard kernel module and its dependencies, brings the WireGuard
// tunnels up over raw netlink, writes the state file
// /run/wgboot/state.json, and hands off to the main system. It never exits
// and never panics: every failure follows the board profile's policy.
//
// Run as any other PID, the same binary is /bin/wgboot in the image, for a
// rescue shell:
//
//	wgboot show [INTERFACE...]   the WireGuard tunnels, like wg show
//	wgboot state [STATE.json]    the state file, as written
//	wgboot pubkey [KEYFILE...]   the tunnels' public keys, for enrollment
//	wgboot version               the build
//
// Everything else a person runs on a build host — checking profiles,
// importing wg-quick files, drawing the boot timeline, a summary of a
// state file — is the host command, cmd/wgboot, and is not linked here:
// every byte of /init is flashed into every board.
package main
