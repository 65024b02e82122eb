package image

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

const (
	testKey   = "d2dib290IFRFU1Qga2V5OiB0ZXN0ZGF0YSAjIyMjIyM=\n"
	hostTaint = "BUILD HOST FILE, NOT FOR ANY IMAGE"
)

// profileWithKey is a profile whose tunnel names keyFile (a TOML literal
// string: backslashes are backslashes).
func profileWithKey(keyFile string) string {
	return `[board]
name = "default"
modules = ["wireguard"]

[[tunnel]]
name = "wg0"
private_key_file = '` + keyFile + `'
address = ["10.77.0.9/24"]

[handoff]
root = ""
`
}

// profileDir makes host/secret (a build-host file a profile must not
// reach) and host/firmware/profiles/, the profile's directory, with a key
// in it, and returns the host and profile directories.
func profileDir(t *testing.T) (host, dir string) {
	t.Helper()
	host = t.TempDir()
	dir = filepath.Join(host, "firmware", "profiles")
	if err := os.MkdirAll(filepath.Join(dir, "keys"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(host, "secret"), []byte(hostTaint+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "keys", "wg0.key"), []byte(testKey), 0o600); err != nil {
		t.Fatal(err)
	}
	return host, dir
}

// profilesWithin runs Profiles with a deadline: a key file that blocks
// (a FIFO, a device) must fail the build, not hang it.
func profilesWithin(t *testing.T, p string) ([]File, error) {
	t.Helper()
	type result struct {
		files []File
		err   error
	}
	done := make(chan result, 1)
	go func() {
		files, _, err := Profiles([]string{p})
		done <- result{files, err}
	}()
	select {
	case r := <-done:
		return r.files, r.err
	case <-time.After(10 * time.Second):
		t.Fatalf("Profiles(%s) still running after 10s", p)
		return nil, nil
	}
}

// TestProfilesKeyFiles: key files named by a relative path are read by the
// boot's rules — inside the profile's directory, by name and by symlink,
// regular files of at most 4 KiB — so that no profile copies another file
// of the build host into an image (issue 15.11).
func TestProfilesKeyFiles(t *testing.T) {
	tests := []struct {
		name    string
		keyFile string
		setup   func(t *testing.T, host, dir string)
		want    string // "" loads the key; else a part of the error
	}{
		{name: "relative", keyFile: "keys/wg0.key"},
		{name: "relative with dots inside", keyFile: "./keys/../keys/wg0.key"},
		{name: "symlink inside the directory", keyFile: "wg0.key", setup: func(t *testing.T, host, dir string) {
			symlink(t, "keys/wg0.key", filepath.Join(dir, "wg0.key"))
		}},
		{name: "dot-dot", keyFile: "../../secret", want: "not a usable path"},
		{name: "dot-dot after a directory", keyFile: "keys/../../../secret", want: "not a usable path"},
		{name: "dot-slash-dot-dot", keyFile: "./../../secret", want: "not a usable path"},
		{name: "the directory itself", keyFile: "./", want: "not a usable path"},
		{name: "dot-dot alone", keyFile: "..", want: "not a usable path"},
		{name: "backslashes are a name", keyFile: `..\..\secret`, want: "no such file"},
		{name: "a home directory is a name", keyFile: "~/secret", want: "no such file"},
		{name: "relative symlink out", keyFile: "wg0.key", want: "escapes", setup: func(t *testing.T, host, dir string) {
			symlink(t, "../../secret", filepath.Join(dir, "wg0.key"))
		}},
		{name: "absolute symlink out", keyFile: "wg0.key", want: "escapes", setup: func(t *testing.T, host, dir string) {
			symlink(t, filepath.Join(host, "secret"), filepath.Join(dir, "wg0.key"))
		}},
		{name: "symlinked directory out", keyFile: "up/secret", want: "escapes", setup: func(t *testing.T, host, dir string) {
			symlink(t, host, filepath.Join(dir, "up"))
		}},
		{name: "symlink to /dev/zero", keyFile: "wg0.key", want: "escapes", setup: func(t *testing.T, host, dir string) {
			symlink(t, "/dev/zero", filepath.Join(dir, "wg0.key"))
		}},
		{name: "device node like /dev/zero", keyFile: "zero.key", want: "not a regular file", setup: func(t *testing.T, host, dir string) {
			if err := syscall.Mknod(filepath.Join(dir, "zero.key"), syscall.S_IFCHR|0o600, 1<<8|5); err != nil {
				t.Skipf("mknod: %v (needs root)", err)
			}
		}},
		{name: "FIFO", keyFile: "fifo.key", want: "not a regular file", setup: func(t *testing.T, host, dir string) {
			if err := syscall.Mkfifo(filepath.Join(dir, "fifo.key"), 0o600); err != nil {
				t.Fatal(err)
			}
		}},
		{name: "too large", keyFile: "big.key", want: "larger than 4096 bytes", setup: func(t *testing.T, host, dir string) {
			if err := os.WriteFile(filepath.Join(dir, "big.key"), bytes.Repeat([]byte("A"), 4097), 0o600); err != nil {
				t.Fatal(err)
			}
		}},
		{name: "a directory", keyFile: "keys", want: "not a regular file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			host, dir := profileDir(t)
			if tt.setup != nil {
				tt.setup(t, host, dir)
			}
			p := filepath.Join(dir, "board.toml")
			if err := os.WriteFile(p, []byte(profileWithKey(tt.keyFile)), 0o644); err != nil {
				t.Fatal(err)
			}
			files, err := profilesWithin(t, p)
			for _, f := range files {
				if bytes.Contains(f.Data, []byte(hostTaint)) {
					t.Errorf("the build host's file is in the image as %s", f.Path)
				}
			}
			if tt.want != "" {
				if err == nil || !strings.Contains(err.Error(), tt.want) {
					t.Fatalf("Profiles() error = %v, want one saying %q", err, tt.want)
				}
				if !strings.Contains(err.Error(), p) || !strings.Contains(err.Error(), tt.keyFile) {
					t.Errorf("error %q does not name the profile and the key file", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Profiles() = %v", err)
			}
			var key *File
			for i := range files {
				if files[i].Mode == 0o600 {
					key = &files[i]
				}
			}
			if key == nil || string(key.Data) != testKey {
				t.Fatalf("Profiles() files %v: no key file with the key", files)
			}
		})
	}
}

// TestProfilesAbsoluteKeyNotRead: a key named by an absolute path is the
// image's, not the build host's: nothing is read for it, even /dev/zero.
func TestProfilesAbsoluteKeyNotRead(t *testing.T) {
	for _, k := range []string{"/dev/zero", "//etc/wgboot/wg0.key"} {
		_, dir := profileDir(t)
		p := filepath.Join(dir, "board.toml")
		if err := os.WriteFile(p, []byte(profileWithKey(k)), 0o644); err != nil {
			t.Fatal(err)
		}
		files, err := profilesWithin(t, p)
		if err != nil {
			t.Fatalf("Profiles(private_key_file = %q) = %v", k, err)
		}
		if len(files) != 1 {
			t.Errorf("Profiles(private_key_file = %q) gave %d files, want the profile alone", k, len(files))
		}
	}
}

func symlink(t *testing.T, target, name string) {
	t.Helper()
	if err := os.Symlink(target, name); err != nil {
		t.Fatal(err)
	}
}

// TestProfilesPersistModules: a vfat config partition brings the modules
// that mounting it needs into the image; the key file on the partition is
// not looked for on the build host.
func TestProfilesPersistModules(t *testing.T) {
	_, dir := profileDir(t)
	p := filepath.Join(dir, "fleet.toml")
	prof := strings.Replace(profileWithKey("/persist/wg0.key"), "[[tunnel]]", "[persist]\ndevice = \"LABEL=WGBOOT\"\nfstype = \"vfat\"\n\n[[tunnel]]", 1)
	prof = strings.Replace(prof, "private_key_file = '/persist/wg0.key'", "private_key_file = '/persist/wg0.key'\ngenerate_key = true", 1)
	if err := os.WriteFile(p, []byte(prof), 0o644); err != nil {
		t.Fatal(err)
	}
	files, modules, err := Profiles([]string{p})
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 1 {
		t.Errorf("Profiles gave %d files, want the profile alone", len(files))
	}
	want := []string{"wireguard", "vfat", "nls_cp437", "nls_ascii"}
	if strings.Join(modules, " ") != strings.Join(want, " ") {
		t.Errorf("Profiles modules = %q, want %q", modules, want)
	}
}

// TestProfilesEarlyWatchdog: the image says which watchdog PID 1 opens
// right after the early mounts when all its profiles name the same one,
// and says nothing when one of them names none.
func TestProfilesEarlyWatchdog(t *testing.T) {
	_, dir := profileDir(t)
	write := func(name, board string) string {
		p := filepath.Join(dir, name)
		prof := strings.Replace(profileWithKey("/persist/wg0.key"), "[board]\nname = \"default\"\nmodules = [\"wireguard\"]\n", board, 1)
		if err := os.WriteFile(p, []byte(prof), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	dog := "[board]\nname = \"%s\"\nmodules = [\"softdog\", \"virtio_net\"]\nwatchdog = \"/dev/watchdog0\"\nwatchdog_timeout = \"10s\"\n"
	a := write("a.toml", strings.Replace(dog, "%s", "a", 1))
	b := write("b.toml", strings.Replace(strings.Replace(dog, "%s", "b", 1), `"softdog", `, "", 1))
	none := write("c.toml", "[board]\nname = \"c\"\n")
	early := func(paths ...string) string {
		t.Helper()
		files, _, err := Profiles(paths)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range files {
			if f.Path == "/etc/wgboot/watchdog" {
				return string(f.Data)
			}
		}
		return ""
	}
	if got := early(a); !strings.Contains(got, "device /dev/watchdog0\ntimeout 10\nhandoff keep\nmodules softdog virtio_net\n") {
		t.Errorf("one profile: early watchdog file %q", got)
	}
	if got := early(a, b); !strings.Contains(got, "modules virtio_net\n") {
		t.Errorf("two profiles: early watchdog file %q, want the modules both load", got)
	}
	if got := early(a, none); got != "" {
		t.Errorf("a profile without a watchdog: early watchdog file %q, want none", got)
	}
}
