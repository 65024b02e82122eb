// Package bringup turns a board profile's uplink and WireGuard tunnels into
// kernel state, through netsetup (rtnetlink) and netsetup/wg (generic
// netlink): what PID 1 does between loading the modules and handing off.
//
// It is the one translation of a profile into kernel requests. PID 1
// (init), the boot benchmark's minimal PID 1 (bench/cmd/steps) and the
// end-to-end tests' next stage (image/testroot, which checks the kernel
// state against the same plan with [Check]) all use it, so that what is
// benchmarked and tested is what boots.
//
// # Secrets
//
// [TunnelUp] hands the tunnel's private key and its peers' preshared keys
// to the kernel and then zeroes them, on every path: wgkey's secret types
// share their material between copies, so this wipes the profile's copy
// too. Nothing here logs or returns a secret.
package bringup
