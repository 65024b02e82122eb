package randseed

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

// The layout checks of TestLayout at compile time, so that `GOARCH=arm64
// go vet` (make vet) fails on arm64 too: RNDADDENTROPY's request number
// declares the two ints before the buffer.
var (
	_ = [1]struct{}{}[unsafe.Offsetof(randPoolInfo{}.Buf)-(unix.RNDADDENTROPY>>16&(1<<14-1))]
	_ = [1]struct{}{}[(unix.RNDADDENTROPY>>16&(1<<14-1))-unsafe.Offsetof(randPoolInfo{}.Buf)]
)

// TestLayout pins randPoolInfo to struct rand_pool_info
// (include/uapi/linux/random.h) and to the size RNDADDENTROPY declares
// (_IOW('R', 0x03, int [2])).
func TestLayout(t *testing.T) {
	var r randPoolInfo
	for _, c := range []struct {
		name      string
		got, want uintptr
	}{
		{"offsetof(entropy_count)", unsafe.Offsetof(r.EntropyCount), 0},
		{"offsetof(buf_size)", unsafe.Offsetof(r.BufSize), 4},
		{"offsetof(buf)", unsafe.Offsetof(r.Buf), 8},
		{"_IOC_SIZE(RNDADDENTROPY)", uintptr(unix.RNDADDENTROPY >> 16 & (1<<14 - 1)), 8},
	} {
		if c.got != c.want {
			t.Errorf("%s = %d, want %d", c.name, c.got, c.want)
		}
	}
}

// fakeKernel records the credits and serves getrandom from a counter, or
// reports the CRNG not ready.
type fakeKernel struct {
	credited  [][]byte
	creditErr error
	ready     bool
	next      byte
}

func (k *fakeKernel) seed(path string, write func(string, []byte, fs.FileMode) error) Seed {
	return Seed{Path: path, Write: write,
		credit: func(b []byte) error {
			if k.creditErr != nil {
				return k.creditErr
			}
			k.credited = append(k.credited, bytes.Clone(b))
			return nil
		},
		fill: func(b []byte) error {
			if !k.ready {
				return ErrNotReady
			}
			for i := range b {
				k.next++
				b[i] = k.next
			}
			return nil
		},
	}
}

func writeFile(path string, data []byte, perm fs.FileMode) error {
	return os.WriteFile(path, data, perm)
}

func TestUse(t *testing.T) {
	old := bytes.Repeat([]byte{0xAA}, Size)
	errWrite := errors.New("read-only file system")
	errPerm := os.NewSyscallError("ioctl RNDADDENTROPY", unix.EPERM)
	for _, c := range []struct {
		name      string
		file      []byte // nil: no seed file
		ready     bool
		creditErr error
		writeErr  error
		want      Result
		wantErr   error
		wantFile  string // "old", "new" or "none"
	}{
		{name: "first boot", ready: true, want: Result{}, wantFile: "none"},
		{name: "seed credited and replaced", file: old, ready: true, want: Result{Credited: 256, Renewed: true}, wantFile: "new"},
		{name: "long file: first 512 bytes", file: bytes.Repeat([]byte{0xAA}, 600), ready: true, want: Result{Credited: 4096, Renewed: true}, wantFile: "new"},
		{name: "short seed, CRNG not ready: removed", file: old[:8], want: Result{Credited: 64}, wantFile: "none"},
		{name: "credit refused: kept for the next boot", file: old, ready: true, creditErr: errPerm, wantErr: unix.EPERM, wantFile: "old"},
		{name: "no new seed written: the used one removed", file: old, ready: true, writeErr: errWrite, want: Result{Credited: 256}, wantErr: errWrite, wantFile: "none"},
	} {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "random-seed")
			if c.file != nil {
				if err := os.WriteFile(path, c.file, 0o600); err != nil {
					t.Fatal(err)
				}
			}
			k := &fakeKernel{ready: c.ready, creditErr: c.creditErr}
			write := writeFile
			if c.writeErr != nil {
				write = func(string, []byte, fs.FileMode) error { return c.writeErr }
			}
			got, err := k.seed(path, write).Use()
			if got != c.want || !errors.Is(err, c.wantErr) || (err != nil) != (c.wantErr != nil) {
				t.Errorf("Use() = %+v, %v; want %+v, %v", got, err, c.want, c.wantErr)
			}
			if c.want.Credited > 0 {
				if len(k.credited) != 1 || len(k.credited[0])*8 != c.want.Credited || k.credited[0][0] != 0xAA {
					t.Errorf("credited %d seeds: %x", len(k.credited), k.credited)
				}
			}
			data, err := os.ReadFile(path)
			switch c.wantFile {
			case "none":
				if !errors.Is(err, fs.ErrNotExist) {
					t.Errorf("seed file %x (%v), want none", data, err)
				}
			case "old":
				if !bytes.Equal(data, c.file) {
					t.Errorf("seed file %x (%v), want the old seed", data, err)
				}
			case "new":
				if len(data) != Size || bytes.Contains(data, []byte{0xAA}) {
					t.Errorf("seed file %x (%v), want %d fresh bytes", data, err, Size)
				}
				if st, err := os.Stat(path); err != nil || st.Mode().Perm() != 0o600 {
					t.Errorf("seed file mode %v, %v; want 0600", st.Mode(), err)
				}
			}
		})
	}
}

// TestRenew: a first boot writes a seed once the CRNG is ready, and none
// before.
func TestRenew(t *testing.T) {
	path := filepath.Join(t.TempDir(), "random-seed")
	k := &fakeKernel{}
	s := k.seed(path, writeFile)
	if err := s.Renew(); !errors.Is(err, ErrNotReady) {
		t.Errorf("Renew() before the CRNG is ready = %v, want ErrNotReady", err)
	}
	if _, err := os.Stat(path); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a seed was written before the CRNG was ready: %v", err)
	}
	k.ready = true
	if err := s.Renew(); err != nil {
		t.Fatalf("Renew() = %v", err)
	}
	if data, err := os.ReadFile(path); err != nil || len(data) != Size {
		t.Errorf("seed %x, %v; want %d bytes", data, err, Size)
	}
}
