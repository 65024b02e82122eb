package persist

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

func TestWriteFile(t *testing.T) {
	old := syscall.Umask(0o077)
	defer syscall.Umask(old)
	dir := t.TempDir()
	p := filepath.Join(dir, "wg0.pub")
	for _, data := range []string{"first\n", "second\n"} {
		if err := WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatalf("WriteFile(%q) = %v", data, err)
		}
		got, err := os.ReadFile(p)
		if err != nil || string(got) != data {
			t.Errorf("after WriteFile(%q): %q, %v", data, got, err)
		}
	}
	st, err := os.Stat(p)
	if err != nil || st.Mode().Perm() != 0o644 {
		t.Errorf("mode = %v, %v; want 0644 whatever the umask", st.Mode(), err)
	}
	onlyFiles(t, dir, "wg0.pub")
}

// TestCreateFileNoReplace: a key file that exists is never replaced.
func TestCreateFileNoReplace(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "wg0.key")
	if err := CreateFile(p, []byte("key one\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(p)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("mode = %v, %v; want 0600", st.Mode(), err)
	}
	err = CreateFile(p, []byte("key two\n"), 0o600)
	if !errors.Is(err, fs.ErrExist) {
		t.Errorf("CreateFile over an existing file = %v, want fs.ErrExist", err)
	}
	if got, _ := os.ReadFile(p); string(got) != "key one\n" {
		t.Errorf("the file was replaced: %q", got)
	}
	// The check at rename time, for a file that appeared after the first
	// look.
	tmp := filepath.Join(dir, "tmp")
	os.WriteFile(tmp, []byte("x"), 0o600)
	if err := rename(tmp, p, true); !errors.Is(err, fs.ErrExist) {
		t.Errorf("rename(noReplace) over an existing file = %v, want fs.ErrExist", err)
	}
	os.Remove(tmp)
	onlyFiles(t, dir, "wg0.key")
}

// TestWriteFileError leaves no temporary file behind.
func TestWriteFileError(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "adir")
	if err := os.Mkdir(target, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(target, "f"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := WriteFile(target, []byte("x"), 0o644); err == nil {
		t.Fatal("WriteFile over a non-empty directory succeeded")
	}
	onlyFiles(t, dir, "adir")
	if err := WriteFile(filepath.Join(dir, "missing", "f"), []byte("x"), 0o644); err == nil {
		t.Error("WriteFile into a missing directory succeeded")
	}
}

func onlyFiles(t *testing.T, dir string, want ...string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range entries {
		got = append(got, e.Name())
	}
	if len(got) != len(want) {
		t.Errorf("%s holds %q, want %q", dir, got, want)
		return
	}
	for i := range got {
		if got[i] != want[i] {
			t.Errorf("%s holds %q, want %q", dir, got, want)
		}
	}
}
