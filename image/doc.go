// Package image builds wgboot initramfs images on the build host and boots
// them under QEMU for tests.
//
// Nothing in this package is linked into /init: it runs on the machine that
// builds firmware. An image is a newc cpio written with u-root's pkg/cpio,
// holding /init, the console and null device nodes, the board profiles, and
// the transitive closure of the kernel modules the profiles name together
// with a minimal modules.dep. The same inputs always give the same bytes.
package image
