package blkid_test

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wgboot/wgboot/image"
	"github.com/wgboot/wgboot/internal/blkid"
)

// testDisk writes a GPT disk of two partitions and returns its path and
// partitions.
func testDisk(t *testing.T) (string, []image.Partition) {
	t.Helper()
	parts := []image.Partition{
		{Name: "wgboot", UUID: "6b3e58a2-1a4c-4f1e-9c39-0c8a1f0e2d11", SizeMB: 2},
		{Name: "root", SizeMB: 3}, // random blkid.UUID
	}
	disk := filepath.Join(t.TempDir(), "disk.img")
	if err := image.WriteGPTDisk(disk, parts); err != nil {
		t.Fatal(err)
	}
	return disk, parts
}

func readDisk(t *testing.T, disk string) ([]blkid.Partition, error) {
	t.Helper()
	f, err := os.Open(disk)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	st, _ := f.Stat()
	return blkid.ReadGPT(f, 512, uint64(st.Size())/512)
}

func TestReadGPT(t *testing.T) {
	disk, parts := testDisk(t)
	got, err := readDisk(t, disk)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 {
		t.Fatalf("blkid.ReadGPT() = %d partitions, want 2: %+v", len(got), got)
	}
	for i, p := range got {
		if p.Number != i+1 || p.UUID != parts[i].UUID || p.Name != parts[i].Name || p.Type != image.LinuxFSType {
			t.Errorf("partition %d = %+v, want number %d, uuid %s, name %s", i, p, i+1, parts[i].UUID, parts[i].Name)
		}
	}
	if got[0].First != 2048 || got[1].First != got[0].Last+1 {
		t.Errorf("LBAs: %+v", got)
	}
}

// TestReadGPTSfdisk compares blkid.ReadGPT with util-linux's reading of the same
// disk: the writer and the reader of this repository could share a
// mistake.
func TestReadGPTSfdisk(t *testing.T) {
	needTool(t, "sfdisk")
	disk, _ := testDisk(t)
	out, err := exec.Command("sfdisk", "--json", disk).Output()
	if err != nil {
		t.Fatalf("sfdisk --json: %v", err)
	}
	var table struct {
		PartitionTable struct {
			Label      string
			Partitions []struct {
				Start, Size uint64
				Type, UUID  string
				Name        string
			}
		}
	}
	if err := json.Unmarshal(out, &table); err != nil {
		t.Fatal(err)
	}
	got, err := readDisk(t, disk)
	if err != nil {
		t.Fatal(err)
	}
	sp := table.PartitionTable.Partitions
	if table.PartitionTable.Label != "gpt" || len(sp) != len(got) {
		t.Fatalf("sfdisk sees %s with %d partitions, blkid.ReadGPT %d:\n%s", table.PartitionTable.Label, len(sp), len(got), out)
	}
	for i := range sp {
		if !strings.EqualFold(sp[i].UUID, got[i].UUID) || !strings.EqualFold(sp[i].Type, got[i].Type) ||
			sp[i].Name != got[i].Name || sp[i].Start != got[i].First || sp[i].Size != got[i].Last-got[i].First+1 {
			t.Errorf("partition %d: sfdisk %+v, blkid.ReadGPT %+v", i+1, sp[i], got[i])
		}
	}
}

// TestReadGPTBackup breaks the primary header: the backup at the last
// sector is used, as the kernel does. Breaking both is an error.
func TestReadGPTBackup(t *testing.T) {
	disk, parts := testDisk(t)
	data, err := os.ReadFile(disk)
	if err != nil {
		t.Fatal(err)
	}
	binary.LittleEndian.PutUint32(data[512+16:], 0) // the primary header's CRC
	if err := os.WriteFile(disk, data, 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := readDisk(t, disk)
	if err != nil || len(got) != 2 || got[0].UUID != parts[0].UUID {
		t.Fatalf("with the primary broken: blkid.ReadGPT() = %+v, %v", got, err)
	}
	last := len(data) - 512
	copy(data[last:], bytes.Repeat([]byte{0}, 8))
	if err := os.WriteFile(disk, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if got, err := readDisk(t, disk); !errors.Is(err, blkid.ErrNoGPT) {
		t.Errorf("with both broken: blkid.ReadGPT() = %+v, %v; want ErrNoGPT", got, err)
	}
}
