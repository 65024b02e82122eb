package wgkey

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

func TestReadPrivateKeyFile(t *testing.T) {
	k, err := GeneratePrivateKey()
	if err != nil {
		t.Fatal(err)
	}
	text := k.FileText()
	if len(text) != 45 || text[44] != '\n' {
		t.Fatalf("FileText() is %d bytes", len(text))
	}
	dir := t.TempDir()
	write := func(name string, data []byte, mode os.FileMode) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, mode); err != nil {
			t.Fatal(err)
		}
		os.Chmod(p, mode)
		return p
	}
	good := write("good.key", text, 0o600)
	got, mode, err := ReadPrivateKeyFile(good)
	if err != nil || !got.Equal(k) || mode != 0o600 {
		t.Errorf("ReadPrivateKeyFile(good) = %v, %v; want the key, 0600", mode, err)
	}
	spaced := write("spaced.key", []byte("  "+strings.TrimSpace(string(text))+"\r\n\n"), 0o644)
	if got, mode, err := ReadPrivateKeyFile(spaced); err != nil || !got.Equal(k) || mode != 0o644 {
		t.Errorf("ReadPrivateKeyFile(spaced) = %v, %v", mode, err)
	}
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	secret := strings.TrimSpace(string(text))
	for _, c := range []struct {
		name string
		path string
		want error
	}{
		{"missing", filepath.Join(dir, "none.key"), fs.ErrNotExist},
		{"empty", write("empty.key", nil, 0o600), ErrInvalid},
		{"truncated", write("short.key", text[:30], 0o600), ErrInvalid},
		{"two keys", write("two.key", append(append([]byte{}, text...), text...), 0o600), ErrInvalid},
		{"not base64", write("bad.key", []byte(strings.Repeat("!", 44)), 0o600), ErrInvalid},
		{"large", write("large.key", make([]byte, MaxFileSize+1), 0o600), ErrNotKeyFile},
		{"directory", dir, ErrNotKeyFile},
		{"fifo", fifo, ErrNotKeyFile},
	} {
		_, _, err := ReadPrivateKeyFile(c.path)
		if !errors.Is(err, c.want) {
			t.Errorf("%s: ReadPrivateKeyFile() = %v, want %v", c.name, err, c.want)
		}
		if err != nil && strings.Contains(err.Error(), secret[:10]) {
			t.Errorf("%s: the error shows key material: %v", c.name, err)
		}
	}
}

func TestReadPresharedKeyFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "a.psk")
	if err := os.WriteFile(p, []byte("d2dib290IFRFU1QgcHNrIGZvciB0aGUgdGVzdHMhISE=\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	k, mode, err := ReadPresharedKeyFile(p)
	if err != nil || k.IsZero() || mode != 0o600 {
		t.Errorf("ReadPresharedKeyFile() = %v, %v", mode, err)
	}
	os.WriteFile(p, []byte("short\n"), 0o600)
	if _, _, err := ReadPresharedKeyFile(p); !errors.Is(err, ErrInvalid) {
		t.Errorf("ReadPresharedKeyFile(malformed) = %v, want ErrInvalid", err)
	}
}
