// Package e2e holds wgboot's QEMU end-to-end tests: whole images booted
// with Debian's kernels for amd64 and arm64, two guests joined by a
// point-to-point Ethernet on 127.0.0.1, a real WireGuard handshake, the
// switch_root into a root disk, and the failure policies.
//
// The tests need QEMU and `make kernels`; `make test` runs them with
// WGBOOT_E2E=required, which turns a missing prerequisite into a failure.
package e2e
