// Package image builds wgboot initramfs images on the build host and boots
// them under QEMU for tests.
//
// Nothing in this package is linked into /init: it runs on the machine that
// builds firmware. An image is a newc cpio written with u-root's pkg/cpio,
// holding /init, the console and null device nodes, the board profiles, and
// the transitive closure of the kernel modules the profiles name together
// with a minimal modules.dep. The same inputs always give the same bytes.
// It is compressed for the kernel's own decompressor: xz with a CRC32
// check, a dictionary no larger than the image, and the BCJ filter for
// the target's code where the kernel has its decoder (see XZ).
package image
