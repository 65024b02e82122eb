// Package uroot pins u-root for the boot benchmark's size baseline: an
// initramfs with u-root's core init and gosh, built by bench/cmd/bootbench
// with `go tool u-root` in this directory. It is a module of its own so
// that u-root's commands and their dependencies never enter the main
// go.mod.
package uroot
