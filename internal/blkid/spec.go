package blkid

import (
	"errors"
	"fmt"
	"strings"
)

// Kind says how a [Spec] names a device.
type Kind uint8

// Kinds of [Spec], as the kernel's root= and fstab(5) write them.
const (
	Path      Kind = iota // /dev/vda2
	PartUUID              // PARTUUID=: a GPT partition's GUID, or SSSSSSSS-PP on MBR
	PartLabel             // PARTLABEL=: a GPT partition's name
	UUID                  // UUID=: a file system's UUID
	Label                 // LABEL=: a file system's label
)

var kindPrefix = [...]string{Path: "", PartUUID: "PARTUUID=", PartLabel: "PARTLABEL=", UUID: "UUID=", Label: "LABEL="}

// Spec names a block device.
type Spec struct {
	Kind  Kind
	Value string // the path, GUID, UUID or label; GUIDs and UUIDs in lower case
}

// String returns the spec as it is written: "LABEL=wgboot", "/dev/vda2".
func (s Spec) String() string { return kindPrefix[s.Kind] + s.Value }

// ErrSpec is wrapped by every error of [Parse].
var ErrSpec = errors.New("invalid device")

// Limits of the names, from the on-disk formats.
const (
	gptNameMax = 36 // UTF-16 code units of a GPT partition name
	labelMax   = 255
)

// Parse reads a device name: PARTUUID=, PARTLABEL=, UUID=, LABEL= or a
// path under /dev. It checks the value's form, so that a typo is caught
// when the profile is checked rather than by a boot that waits in vain.
// Labels are checked against a file system's limit by [CheckLabel].
func Parse(s string) (Spec, error) {
	bad := func(format string, args ...any) (Spec, error) {
		return Spec{}, fmt.Errorf("%w: %q: %s", ErrSpec, s, fmt.Sprintf(format, args...))
	}
	switch {
	case strings.HasPrefix(s, "/"):
		if !strings.HasPrefix(s, "/dev/") || len(s) == len("/dev/") || strings.HasSuffix(s, "/") {
			return bad("want a device under /dev, such as /dev/vda2")
		}
		if strings.Contains(s, "/../") || strings.HasSuffix(s, "/..") || strings.ContainsFunc(s, badRune) {
			return bad("not a device path")
		}
		return Spec{Kind: Path, Value: s}, nil
	case strings.HasPrefix(s, "PARTUUID="):
		v := strings.ToLower(s[len("PARTUUID="):])
		if strings.Contains(v, "/partnroff=") {
			return bad("PARTNROFF= is not supported: name the partition itself")
		}
		if !isGUID(v) && !isMBRPartUUID(v) {
			return bad("want a GPT partition GUID (8-4-4-4-12 hex digits) or an MBR disk signature and partition number (SSSSSSSS-PP)")
		}
		if strings.Trim(v, "0-") == "" {
			return bad("the zero GUID names no partition")
		}
		return Spec{Kind: PartUUID, Value: v}, nil
	case strings.HasPrefix(s, "PARTLABEL="):
		v := s[len("PARTLABEL="):]
		switch {
		case v == "":
			return bad("empty partition name")
		case len(v) > gptNameMax:
			return bad("%d characters; a GPT partition name has at most %d", len(v), gptNameMax)
		case strings.ContainsFunc(v, func(r rune) bool { return r < 0x20 || r > 0x7e }):
			// The kernel turns GPT names into 7-bit ASCII (efi.c,
			// utf16_le_to_7bit), so no other name can match.
			return bad("only printable ASCII: the kernel reads GPT names as 7-bit ASCII")
		}
		return Spec{Kind: PartLabel, Value: v}, nil
	case strings.HasPrefix(s, "UUID="):
		v := strings.ToLower(s[len("UUID="):])
		if !isGUID(v) && !isFATSerial(v) {
			return bad("want a file system UUID: 8-4-4-4-12 hex digits (ext4, btrfs, xfs) or XXXX-XXXX (vfat)")
		}
		return Spec{Kind: UUID, Value: v}, nil
	case strings.HasPrefix(s, "LABEL="):
		v := s[len("LABEL="):]
		switch {
		case v == "":
			return bad("empty label")
		case len(v) > labelMax:
			return bad("%d bytes; no file system label is longer than %d", len(v), labelMax)
		case strings.ContainsFunc(v, badRune):
			return bad("control characters cannot be in a label")
		}
		return Spec{Kind: Label, Value: v}, nil
	}
	if k, _, ok := strings.Cut(s, "="); ok && strings.ContainsFunc(k, func(r rune) bool { return r >= 'a' && r <= 'z' }) {
		return bad("write the tag in capitals, as the kernel does (PARTUUID=, LABEL=, …)")
	}
	return bad("want PARTUUID=, PARTLABEL=, UUID=, LABEL= or a /dev path")
}

// CheckLabel checks a LABEL= against the limit of file system fstype, when
// known: a longer label cannot have been written by its mkfs.
func CheckLabel(label, fstype string) error {
	limit := 0
	switch fstype {
	case "ext2", "ext3", "ext4":
		limit = 16
	case "vfat":
		limit = 11
	case "xfs":
		limit = 12
	}
	if limit > 0 && len(label) > limit {
		return fmt.Errorf("%w: LABEL=%s is %d bytes; %s labels have at most %d", ErrSpec, label, len(label), fstype, limit)
	}
	return nil
}

func badRune(r rune) bool { return r < 0x20 || r == 0x7f }

// isGUID reports whether s is 8-4-4-4-12 hex digits.
func isGUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < len(s); i++ {
		switch i {
		case 8, 13, 18, 23:
			if s[i] != '-' {
				return false
			}
		default:
			if !isHex(s[i]) {
				return false
			}
		}
	}
	return true
}

// isMBRPartUUID reports whether s is SSSSSSSS-PP: the kernel's PARTUUID
// of an MBR partition, the disk signature and the partition number, in hex.
func isMBRPartUUID(s string) bool {
	return len(s) == 11 && s[8] == '-' && allHex(s[:8]) && allHex(s[9:]) && s[9:] != "00"
}

// isFATSerial reports whether s is XXXX-XXXX, a FAT volume serial number.
func isFATSerial(s string) bool {
	return len(s) == 9 && s[4] == '-' && allHex(s[:4]) && allHex(s[5:])
}

func allHex(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isHex(s[i]) {
			return false
		}
	}
	return s != ""
}

func isHex(c byte) bool { return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' }
