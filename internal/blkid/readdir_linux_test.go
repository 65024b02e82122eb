package blkid

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// TestReadDirAsOSReadDir: readDir, which keeps os.ReadDir's generic sort
// out of /init, lists as os.ReadDir does and fails as it does.
func TestReadDirAsOSReadDir(t *testing.T) {
	dir := t.TempDir()
	for _, n := range []string{"vdb", "vda1", "sda", "vda", "loop0", "nvme0n1p1"} {
		if err := os.WriteFile(filepath.Join(dir, n), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, d := range []string{dir, filepath.Join(dir, "missing"), filepath.Join(dir, "vda")} {
		want, wantErr := os.ReadDir(d)
		got, gotErr := readDir(d)
		if fmt.Sprint(gotErr) != fmt.Sprint(wantErr) {
			t.Errorf("%s: error %v, want %v", d, gotErr, wantErr)
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%s: %v, want %v", d, got, want)
		}
	}
}
