package blkid_test

import (
	"errors"
	"testing"

	"github.com/wgboot/wgboot/internal/blkid"
)

func TestParse(t *testing.T) {
	good := []struct {
		in   string
		want blkid.Spec
	}{
		{"/dev/vda2", blkid.Spec{blkid.Path, "/dev/vda2"}},
		{"/dev/mmcblk0p2", blkid.Spec{blkid.Path, "/dev/mmcblk0p2"}},
		{"PARTUUID=6B3E58A2-1A4C-4F1E-9C39-0C8A1F0E2D11", blkid.Spec{blkid.PartUUID, "6b3e58a2-1a4c-4f1e-9c39-0c8a1f0e2d11"}},
		{"PARTUUID=0a1b2c3d-02", blkid.Spec{blkid.PartUUID, "0a1b2c3d-02"}},
		{"PARTLABEL=wgboot root", blkid.Spec{blkid.PartLabel, "wgboot root"}},
		{"UUID=3e6be9de-8139-11d1-9106-a43f08d823a6", blkid.Spec{blkid.UUID, "3e6be9de-8139-11d1-9106-a43f08d823a6"}},
		{"UUID=4A2B-11C0", blkid.Spec{blkid.UUID, "4a2b-11c0"}},
		{"LABEL=wgboot", blkid.Spec{blkid.Label, "wgboot"}},
		{"LABEL=Ünïcode ok", blkid.Spec{blkid.Label, "Ünïcode ok"}},
	}
	for _, c := range good {
		got, err := blkid.Parse(c.in)
		if err != nil || got != c.want {
			t.Errorf("blkid.Parse(%q) = %+v, %v; want %+v", c.in, got, err, c.want)
		}
		if got.Kind != blkid.PartUUID && got.Kind != blkid.UUID && got.String() != c.in {
			t.Errorf("blkid.Parse(%q).String() = %q", c.in, got.String())
		}
	}
	bad := []string{
		"", "vda2", "/dev/", "/dev/vda2/", "/proc/cmdline", "/dev/../etc/passwd", "/dev/vd\na",
		"PARTUUID=", "PARTUUID=6b3e58a2-1a4c-4f1e-9c39-0c8a1f0e2d1", "PARTUUID=6b3e58a2-1a4c-4f1e-9c39-0c8a1f0e2d1g",
		"PARTUUID=6b3e58a21a4c4f1e9c390c8a1f0e2d1100", "PARTUUID=00000000-0000-0000-0000-000000000000",
		"PARTUUID=0a1b2c3d-00", "PARTUUID=0a1b2c3d-2", "PARTUUID=0a1b2c3d-02/PARTNROFF=1",
		"PARTLABEL=", "PARTLABEL=a-name-that-is-longer-than-thirty-six", "PARTLABEL=wgbööt",
		"UUID=", "UUID=4A2B11C0", "UUID=3e6be9de-8139-11d1-9106", "LABEL=", "LABEL=a\tb",
		"label=wgboot", "Partuuid=0a1b2c3d-02", "LABLE=wgboot",
	}
	for _, in := range bad {
		if got, err := blkid.Parse(in); !errors.Is(err, blkid.ErrSpec) {
			t.Errorf("blkid.Parse(%q) = %+v, %v; want an blkid.ErrSpec error", in, got, err)
		}
	}
}

func TestCheckLabel(t *testing.T) {
	for _, c := range []struct {
		label, fstype string
		ok            bool
	}{
		{"wgboot", "ext4", true},
		{"sixteen-bytes-ok", "ext4", true},
		{"seventeen-bytes-x", "ext4", false},
		{"ELEVEN-CHRS", "vfat", true},
		{"TWELVE-CHARS", "vfat", false},
		{"seventeen-bytes-x", "btrfs", true},
		{"seventeen-bytes-x", "", true},
	} {
		if err := blkid.CheckLabel(c.label, c.fstype); (err == nil) != c.ok {
			t.Errorf("blkid.CheckLabel(%q, %q) = %v, want ok=%v", c.label, c.fstype, err, c.ok)
		}
	}
}
