// Package blkid finds block devices by identity, the way the kernel's
// root= and util-linux's blkid name them: PARTUUID=, PARTLABEL=, UUID=,
// LABEL=, or a /dev path.
//
// [Parse] reads and checks such a name (the profile linter and the boot
// share it, so that `check` accepts exactly what the boot can find).
// [ReadSuperblock] reads a file system's type, UUID and label, and
// [ReadGPT] a disk's GUID partition table, each from an io.ReaderAt, so
// that both are tested without a kernel. On Linux, [Find] and [Wait] look
// through /sys/class/block for the device.
//
// # What comes from where
//
// The kernel already knows each partition's number and, for GPT, its name:
// the uevent file of a partition in sysfs carries PARTN and PARTNAME.
// Linux 6.1 does not put the partition's GUID there (PARTUUID= in uevent
// came with a later kernel), so PARTUUID= of a GPT partition is read from
// the disk's partition table, and PARTUUID= of an MBR partition
// (SSSSSSSS-PP) from the disk signature. File system UUIDs and labels are
// read from the superblocks of ext2/3/4, vfat, btrfs and xfs.
//
// u-root's pkg/mount/block was measured against this package for /init
// (docs/fleet.md has the method): it knows no file system labels and no
// MBR PARTUUID, reads GPT through github.com/rekby/gpt and links pkg/pci
// and log, and adds 86 KB (amd64) and 72 KB (arm64) to /init's xz size,
// where this package adds 22 KB and 19 KB.
package blkid
