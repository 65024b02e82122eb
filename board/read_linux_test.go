package board

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestLoadBounded: wgboot.profile= may name any file. Devices, FIFOs and
// oversized files are refused without hanging or filling memory, for Load
// and for LoadDir alike.
func TestLoadBounded(t *testing.T) {
	dir := t.TempDir()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.WriteFile(filepath.Join(dir, "good.toml"), []byte("[board]\nname = \"good\"\n"), 0o644))
	must(os.Symlink("/dev/zero", filepath.Join(dir, "zero.toml")))
	must(unix.Mkfifo(filepath.Join(dir, "fifo.toml"), 0o600))
	big, err := os.Create(filepath.Join(dir, "big.toml"))
	must(err)
	must(big.Truncate(maxProfileFile + 1)) // sparse: costs no disk
	must(big.Close())
	fsys := os.DirFS(dir)
	root := os.DirFS("/")

	tests := []struct {
		fsys fs.FS
		name string
		want string // in the read error
	}{
		{fsys, "zero.toml", "not a regular file"},
		{fsys, "fifo.toml", "not a regular file"},
		{fsys, "big.toml", "larger than 8 MiB"},
		{root, "dev/zero", "not a regular file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ds := withTimeout(t, func() Diagnostics { _, ds := Load(tt.fsys, tt.name); return ds })
			if len(ds) != 1 || !errors.Is(ds[0], ErrRead) || !strings.Contains(ds[0].Msg, tt.want) {
				t.Errorf("Load(%s) = %v, want one ErrRead containing %q", tt.name, ds, tt.want)
			}
		})
	}
	// /proc/kmsg is a regular file of size 0 whose read blocks: it reads
	// as empty (and fails the lint) instead.
	if _, err := os.Stat("/proc/kmsg"); err == nil {
		ds := withTimeout(t, func() Diagnostics { _, ds := Load(root, "proc/kmsg"); return ds })
		if !ds.HasErrors() {
			t.Errorf("Load(/proc/kmsg) = %v, want errors", ds)
		}
	}

	ps, ds := LoadDir(fsys, ".")
	if len(ps) != 1 || ps[0].Board.Name != "good" {
		t.Errorf("LoadDir() = %d profiles, want only good.toml", len(ps))
	}
	if len(ds) != 3 {
		t.Errorf("LoadDir() diagnostics = %v, want 3 read errors", ds)
	}
	for _, d := range ds {
		if !errors.Is(d, ErrRead) {
			t.Errorf("LoadDir(): %v, want ErrRead", d)
		}
	}
}

// withTimeout runs f and fails the test if it does not return within 10 s:
// an unbounded read of a FIFO or /proc/kmsg never would.
func withTimeout(t *testing.T, f func() Diagnostics) Diagnostics {
	t.Helper()
	done := make(chan Diagnostics, 1)
	go func() { done <- f() }()
	select {
	case ds := <-done:
		return ds
	case <-time.After(10 * time.Second):
		t.Fatal("read did not return within 10 s")
		return nil
	}
}
