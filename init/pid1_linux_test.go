package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"
	"unsafe"

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

// TestBootSignalsKeepPID1: with only bootSignals notified, as during the
// boot, no catchable signal sent with kill ends the process; the ones
// notified reach the channel and the others are dropped; once parked,
// every signal reaches it. In a child process (this test binary again),
// since a signal left to a Go runtime default that exits ends the process
// that receives it. Signals whose handler is SIG_DFL (the runtime leaves
// 32–34 there, and SIGCONT, SIGTSTP, SIGTTIN and SIGTTOU unless notified)
// are not sent: their default stops or ends an ordinary process, but the
// kernel does not deliver a SIG_DFL signal to PID 1.
func TestBootSignalsKeepPID1(t *testing.T) {
	if os.Getenv("WGBOOT_TEST_BOOTSIGNALS") == "1" {
		if err := bootSignalsChild(); err != nil {
			fmt.Println("child:", err)
			os.Exit(3)
		}
		fmt.Println("child: survived every signal")
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestBootSignalsKeepPID1$")
	cmd.Env = append(os.Environ(), "WGBOOT_TEST_BOOTSIGNALS=1")
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "child: survived every signal") {
		t.Fatalf("child: %v\n%s", err, out)
	}
}

func bootSignalsChild() error {
	c := make(chan os.Signal, 64)
	notifyBoot(c)
	notified := map[unix.Signal]bool{}
	for _, s := range bootSignals {
		notified[s] = true
	}
	var want, sent []os.Signal
	for _, s := range catchable() {
		if dfl, err := isDefault(s); err != nil || dfl {
			if err != nil {
				return err
			}
			if notified[s] {
				return fmt.Errorf("%v is notified but its handler is SIG_DFL", s)
			}
			continue
		}
		if err := unix.Kill(os.Getpid(), s); err != nil {
			return err
		}
		sent = append(sent, s)
		if notified[s] {
			want = append(want, s)
		}
	}
	got, err := receive(c, len(want))
	if err != nil {
		return err
	}
	if !sameSignals(got, want) {
		return fmt.Errorf("during the boot: got %v, want %v (sent %v)", got, want, sent)
	}
	// Once parked, every signal is logged: the ones the boot left to the
	// runtime reach the channel too.
	b := &boot{parked: make(chan struct{}), sigs: c}
	b.park()
	later := []os.Signal{unix.SIGALRM, unix.SIGPWR, unix.SIGWINCH, unix.Signal(64)}
	for _, s := range later {
		if err := unix.Kill(os.Getpid(), s.(unix.Signal)); err != nil {
			return err
		}
	}
	got, err = receive(c, len(later))
	if err != nil {
		return err
	}
	// SIGURG, the runtime's preemption signal, may come in between.
	got = slices.DeleteFunc(got, func(s os.Signal) bool { return s == unix.SIGURG })
	if !sameSignals(got, later) {
		return fmt.Errorf("parked: got %v, want %v", got, later)
	}
	return nil
}

// isDefault reports whether s's handler is SIG_DFL: the first word of the
// kernel's struct sigaction, on every architecture.
func isDefault(s unix.Signal) (bool, error) {
	var old [4]uint64
	_, _, errno := unix.RawSyscall6(unix.SYS_RT_SIGACTION, uintptr(s), 0, uintptr(unsafe.Pointer(&old[0])), 8, 0, 0)
	if errno != 0 {
		return false, fmt.Errorf("rt_sigaction(%v): %w", s, errno)
	}
	return old[0] == 0, nil
}

// receive reads signals from c until it has n, and for 100 ms more to
// catch any extra one.
func receive(c chan os.Signal, n int) ([]os.Signal, error) {
	var got []os.Signal
	deadline := time.After(5 * time.Second)
	var extra <-chan time.Time
	for {
		if len(got) >= n && extra == nil {
			extra = time.After(100 * time.Millisecond)
		}
		select {
		case s := <-c:
			got = append(got, s)
		case <-extra:
			return got, nil
		case <-deadline:
			return got, fmt.Errorf("got %d signals %v, want %d", len(got), got, n)
		}
	}
}

func sameSignals(a, b []os.Signal) bool {
	key := func(l []os.Signal) []int {
		var out []int
		for _, s := range l {
			out = append(out, int(s.(unix.Signal)))
		}
		slices.Sort(out)
		return slices.Compact(out)
	}
	return slices.Equal(key(a), key(b))
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
