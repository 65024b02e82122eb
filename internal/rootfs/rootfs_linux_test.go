package rootfs

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"testing/fstest"
)

// tree makes a directory with files, a sub-directory, a symlink and a FIFO.
func tree(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.MkdirAll(filepath.Join(dir, "etc/wgboot/profiles"), 0o755))
	must(os.WriteFile(filepath.Join(dir, "etc/wgboot/profiles/a.toml"), []byte("[board]\nname = \"a\"\n"), 0o644))
	must(os.WriteFile(filepath.Join(dir, "etc/wgboot/profiles/a.key"), []byte("secret\n"), 0o600))
	must(os.WriteFile(filepath.Join(dir, "empty"), nil, 0o640))
	must(os.Symlink("etc/wgboot/profiles/a.toml", filepath.Join(dir, "link")))
	must(syscall.Mkfifo(filepath.Join(dir, "fifo"), 0o600))
	return dir
}

// TestFS runs the standard library's checks of an fs.FS on the tree
// (without the FIFO, which fstest would open and block on).
func TestFS(t *testing.T) {
	dir := tree(t)
	if err := os.Remove(filepath.Join(dir, "fifo")); err != nil {
		t.Fatal(err)
	}
	if err := fstest.TestFS(New(dir), "etc/wgboot/profiles/a.toml", "etc/wgboot/profiles/a.key", "empty", "link"); err != nil {
		t.Fatal(err)
	}
}

// TestLikeDirFS compares what board reads through the tree with what
// os.DirFS gives: contents, FileInfo, errors.
func TestLikeDirFS(t *testing.T) {
	dir := tree(t)
	ours, theirs := New(dir), os.DirFS(dir)
	for _, name := range []string{"etc/wgboot/profiles/a.toml", "etc/wgboot/profiles/a.key", "empty", "link", "fifo", "etc", "missing", "etc/../empty", "/empty", "empty/x"} {
		got, gerr := fs.Stat(ours, name)
		want, werr := fs.Stat(theirs, name)
		if !sameErr(gerr, werr) {
			t.Errorf("Stat(%q): error %v, os.DirFS %v", name, gerr, werr)
		}
		if gerr == nil && (got.Name() != want.Name() || got.Mode() != want.Mode() || got.Size() != want.Size() || !got.ModTime().Equal(want.ModTime()) || got.IsDir() != want.IsDir()) {
			t.Errorf("Stat(%q) = %v %v %d %v, os.DirFS %v %v %d %v", name, got.Name(), got.Mode(), got.Size(), got.ModTime(), want.Name(), want.Mode(), want.Size(), want.ModTime())
		}
		if name == "fifo" {
			continue // opening it would block, with either
		}
		gdata, gerr := readAll(ours, name)
		wdata, werr := readAll(theirs, name)
		if !sameErr(gerr, werr) || string(gdata) != string(wdata) {
			t.Errorf("ReadFile(%q) = %q, %v; os.DirFS %q, %v", name, gdata, gerr, wdata, werr)
		}
	}
}

// readAll reads name as board does: Open, then read to the end.
func readAll(fsys fs.FS, name string) ([]byte, error) {
	f, err := fsys.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(f)
}

// sameErr says two errors are both nil, or say the same for a caller:
// the same *fs.PathError operation, path and cause.
func sameErr(a, b error) bool {
	if a == nil || b == nil {
		return a == b
	}
	var pa, pb *fs.PathError
	if !errors.As(a, &pa) || !errors.As(b, &pb) {
		return a.Error() == b.Error()
	}
	return pa.Op == pb.Op && pa.Path == pb.Path && errors.Is(pa.Err, pb.Err) && errors.Is(a, fs.ErrNotExist) == errors.Is(b, fs.ErrNotExist)
}

// TestSub: fs.Sub of the tree is the tree again (fs.Stat is one stat
// call), and stays inside it.
func TestSub(t *testing.T) {
	dir := tree(t)
	sub, err := fs.Sub(New(dir), "etc/wgboot/profiles")
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := sub.(*FS); !ok {
		t.Fatalf("fs.Sub gave %T, not an FS", sub)
	}
	info, err := fs.Stat(sub, "a.key")
	if err != nil || info.Mode() != 0o600 || info.Size() != int64(len("secret\n")) {
		t.Fatalf("Stat(a.key) = %v, %v", info, err)
	}
	if _, err := fs.Stat(sub, "../../../empty"); !errors.Is(err, fs.ErrInvalid) {
		t.Errorf("Stat(../../../empty) in the sub-tree: %v, want fs.ErrInvalid", err)
	}
	if _, err := fs.Sub(New(dir), "../x"); !errors.Is(err, fs.ErrInvalid) {
		t.Errorf("Sub(../x): %v, want fs.ErrInvalid", err)
	}
}

// TestFile: a file's Read, Stat and Close, and what they say once it is
// closed.
func TestFile(t *testing.T) {
	dir := tree(t)
	f, err := New(dir).Open("etc/wgboot/profiles/a.key")
	if err != nil {
		t.Fatal(err)
	}
	info, err := f.Stat()
	if err != nil || info.Name() != "a.key" || !info.Mode().IsRegular() {
		t.Fatalf("Stat = %v, %v", info, err)
	}
	buf := make([]byte, 3)
	if n, err := f.Read(buf); n != 3 || err != nil || string(buf) != "sec" {
		t.Fatalf("Read = %d, %v (%q)", n, err, buf)
	}
	rest, err := io.ReadAll(f)
	if err != nil || string(rest) != "ret\n" {
		t.Fatalf("the rest = %q, %v", rest, err)
	}
	if n, err := f.Read(buf); n != 0 || err != io.EOF {
		t.Fatalf("Read at the end = %d, %v; want 0, io.EOF", n, err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Read(buf); !errors.Is(err, fs.ErrClosed) {
		t.Errorf("Read after Close: %v", err)
	}
	if _, err := f.Stat(); !errors.Is(err, fs.ErrClosed) {
		t.Errorf("Stat after Close: %v", err)
	}
	if err := f.Close(); !errors.Is(err, fs.ErrClosed) {
		t.Errorf("second Close: %v", err)
	}
}

// TestProcFile: a file whose size the kernel reports as 0 reads to its
// end, as sysfs and procfs files do at boot.
func TestProcFile(t *testing.T) {
	data, err := fs.ReadFile(New("/"), "proc/self/cmdline")
	if err != nil || len(data) == 0 {
		t.Fatalf("proc/self/cmdline: %q, %v", data, err)
	}
	if info, err := fs.Stat(New("/"), "proc/self/cmdline"); err != nil || info.Size() != 0 {
		t.Fatalf("its size: %v, %v", info, err)
	}
}

// TestReadFile: ReadFile gives what os.ReadFile gives, errors included:
// files the kernel says are empty, larger ones, none, a directory.
func TestReadFile(t *testing.T) {
	dir := tree(t)
	big := make([]byte, 5000)
	for i := range big {
		big[i] = byte('a' + i%26)
	}
	if err := os.WriteFile(filepath.Join(dir, "big"), big, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"/proc/self/cmdline", "/proc/self/status", filepath.Join(dir, "big"), filepath.Join(dir, "empty"),
		filepath.Join(dir, "link"), filepath.Join(dir, "missing"), dir} {
		got, gerr := ReadFile(name)
		want, werr := os.ReadFile(name)
		if name == "/proc/self/status" {
			// It changes between two reads (the process's memory):
			// compare its first line.
			g, _, _ := strings.Cut(string(got), "\n")
			w, _, _ := strings.Cut(string(want), "\n")
			got, want = []byte(g), []byte(w)
		}
		if !sameErr(gerr, werr) || string(got) != string(want) || (gerr != nil && gerr.Error() != werr.Error()) {
			t.Errorf("ReadFile(%s) = %d bytes, %v; os.ReadFile: %d bytes, %v", name, len(got), gerr, len(want), werr)
		}
	}
}
