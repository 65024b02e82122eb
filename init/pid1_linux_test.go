package main

import (
	"errors"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/wgboot/wgboot/board"
)

// TestSignalActions: every catchable signal has an action, and only those
// that busybox init gives a meaning act (once parked); the others, QUIT,
// ABRT, SEGV sent with kill among them, are logged.
func TestSignalActions(t *testing.T) {
	want := map[unix.Signal]sigAction{
		unix.SIGCHLD: sigReap, unix.SIGURG: sigQuiet, unix.SIGWINCH: sigQuiet,
		unix.SIGTERM: sigReboot, unix.SIGINT: sigReboot, unix.SIGUSR1: sigHalt, unix.SIGUSR2: sigPowerOff,
	}
	sigs := catchable()
	if len(sigs) != 31 {
		t.Errorf("%d catchable signals, want 29 standard ones and 2 real-time", len(sigs))
	}
	for _, s := range sigs {
		if s == unix.SIGKILL || s == unix.SIGSTOP {
			t.Errorf("%v is not catchable", s)
		}
		got := signalAction(s)
		if w, ok := want[s]; ok && got != w || !ok && got != sigLog {
			t.Errorf("signalAction(%v) = %d", s, got)
		}
	}
}

func TestCheckInitramfs(t *testing.T) {
	fsType := func(magic int64) func(string, *unix.Statfs_t) error {
		return func(_ string, st *unix.Statfs_t) error { st.Type = magic; return nil }
	}
	for _, ok := range []int64{unix.RAMFS_MAGIC, unix.TMPFS_MAGIC} {
		if err := checkInitramfs("/", fsType(ok)); err != nil {
			t.Errorf("type %#x: %v", ok, err)
		}
	}
	err := checkInitramfs("/", fsType(unix.EXT4_SUPER_MAGIC))
	if err == nil || !strings.Contains(err.Error(), "not an initramfs") {
		t.Errorf("ext4 root: %v, want a refusal", err)
	}
	broken := errors.New("statfs broken")
	if err := checkInitramfs("/", func(string, *unix.Statfs_t) error { return broken }); !errors.Is(err, broken) {
		t.Errorf("statfs error: %v", err)
	}
}

func TestKeyFilesOf(t *testing.T) {
	p, diags := board.Parse("etc/wgboot/profiles/r.toml", []byte(`
[board]
name = "r"
[[tunnel]]
name = "wg0"
private_key_file = "keys/r.key"
[[tunnel.peer]]
public_key = "xkSiuuwzFSr9eB4uyyHVhGU4hlPxfL8VN1fLD/W8J2c="
preshared_key_file = "/persist/../etc/r.psk"
[[tunnel]]
name = "wg1"
private_key_file = "../../wg1.key"
`))
	if err := diags.Err(); err != nil {
		t.Fatal(err)
	}
	got := strings.Join(keyFilesOf(p), " ")
	if want := "/etc/wgboot/profiles/keys/r.key /etc/r.psk /etc/wg1.key"; got != want {
		t.Errorf("keyFilesOf = %s, want %s", got, want)
	}
}
