package kmsg

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLoggerRecords(t *testing.T) {
	var console bytes.Buffer
	l := New("wgboot", &console)
	l.path = filepath.Join(t.TempDir(), "kmsg")
	l.Infof("before /dev is mounted")
	if got := console.String(); got != "wgboot: before /dev is mounted\n" {
		t.Errorf("console before Open = %q", got)
	}
	if err := os.WriteFile(l.path, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := l.Open(); err != nil {
		t.Fatal(err)
	}
	l.Errorf("two\nlines")
	l.Debugf("hidden")
	l.SetDebug(true)
	l.Debugf("shown")
	l.Warnf("%s", strings.Repeat("x", 2000))
	data, err := os.ReadFile(l.path)
	if err != nil {
		t.Fatal(err)
	}
	recs := strings.SplitAfter(string(data), "\n")
	want := []string{"<3>wgboot: two\n", "<3>wgboot: lines\n", "<7>wgboot: shown\n"}
	for i, w := range want {
		if i >= len(recs) || recs[i] != w {
			t.Fatalf("records = %q, want %q first", recs, want)
		}
	}
	long := recs[3]
	if len(long) > 1024 || !strings.HasPrefix(long, "<4>wgboot: xxx") || !strings.HasSuffix(long, "…\n") {
		t.Errorf("long record not cut to the kernel's limit: %d bytes, ends %q", len(long), long[len(long)-8:])
	}
	if console.Len() != len("wgboot: before /dev is mounted\n") {
		t.Errorf("records went to the console after Open: %q", console.String())
	}
}

// TestLoggerReopens checks that the logger opens the device anew after a
// burst, so that the kernel's per-open rate limit cannot drop boot lines.
func TestLoggerReopens(t *testing.T) {
	l := New("wgboot", &bytes.Buffer{})
	l.path = filepath.Join(t.TempDir(), "kmsg")
	os.WriteFile(l.path, nil, 0o600)
	if err := l.Open(); err != nil {
		t.Fatal(err)
	}
	first := l.f
	for range burst + 1 {
		l.Infof("line")
	}
	if l.f == first {
		t.Errorf("still on the first open file after %d records", burst+1)
	}
}

// TestLoggerBurst: each open file carries as many records as the kernel's
// per-open rate limit lets through (DEFAULT_RATELIMIT_BURST, 10), never
// more, and no fewer: a reopen costs the boot instruction time.
func TestLoggerBurst(t *testing.T) {
	const kernelLimit = 10
	l := New("wgboot", &bytes.Buffer{})
	l.path = filepath.Join(t.TempDir(), "kmsg")
	os.WriteFile(l.path, nil, 0o600)
	if err := l.Open(); err != nil {
		t.Fatal(err)
	}
	for i := range 25 {
		l.Infof("line %d", i)
		if l.n > kernelLimit {
			t.Fatalf("record %d is the %dth through one open file; the kernel drops those past %d", i, l.n, kernelLimit)
		}
	}
	if l.opens != 3 {
		t.Errorf("opened the device %d times for 25 records, want 3 (10 records each)", l.opens)
	}
	// Each open starts at the file's beginning, as /dev/kmsg has none:
	// the last open's records are the file's first lines.
	data, _ := os.ReadFile(l.path)
	if !strings.HasPrefix(string(data), "<6>wgboot: line 20\n") || !strings.Contains(string(data), "<6>wgboot: line 24\n") {
		t.Errorf("the last open file holds\n%s\nwant records 20 to 24 first", data)
	}
}

// TestOutcomeUnderQuiet: with the kernel's quiet (console level 4), an
// outcome line at info level reaches the console once, written there by
// the logger; without quiet, or with SetQuiet, only through the kernel.
func TestOutcomeUnderQuiet(t *testing.T) {
	for _, tc := range []struct {
		name    string
		printk  string
		level   int
		quiet   bool
		console string
	}{
		{"quiet hides info", "4\t4\t1\t7\n", Info, false, "wgboot: READY in 1s\n"},
		{"quiet shows err", "4\t4\t1\t7\n", Err, false, ""},
		{"default console level", "7\t4\t1\t7\n", Info, false, ""},
		{"wgboot.quiet", "4\t4\t1\t7\n", Info, true, ""},
		{"printk unreadable", "", Info, false, "wgboot: READY in 1s\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			l := New("wgboot", &bytes.Buffer{})
			l.path, l.console, l.printk = filepath.Join(dir, "kmsg"), filepath.Join(dir, "console"), filepath.Join(dir, "printk")
			os.WriteFile(l.path, nil, 0o600)
			os.WriteFile(l.console, nil, 0o600)
			if tc.printk != "" {
				os.WriteFile(l.printk, []byte(tc.printk), 0o600)
			}
			if err := l.Open(); err != nil {
				t.Fatal(err)
			}
			l.SetQuiet(tc.quiet)
			l.Outcomef(tc.level, "READY in %v", "1s")
			got, _ := os.ReadFile(l.console)
			if string(got) != tc.console {
				t.Errorf("console = %q, want %q", got, tc.console)
			}
			rec, _ := os.ReadFile(l.path)
			if !strings.Contains(string(rec), "wgboot: READY in 1s\n") {
				t.Errorf("kmsg = %q, want the record there too", rec)
			}
		})
	}
}

// counted counts how often it is formatted.
type counted struct{ n *int }

func (c counted) String() string { *c.n++; return "value" }

// TestHiddenDebugNotFormatted: a debug line that is not shown costs no
// formatting (the phase runner logs one per phase); once shown, it is.
func TestHiddenDebugNotFormatted(t *testing.T) {
	var console bytes.Buffer
	l := New("wgboot", &console)
	n := 0
	l.Debugf("phase %s: start", counted{&n})
	if n != 0 || console.Len() != 0 {
		t.Errorf("hidden debug line formatted %d times, printed %q", n, console.String())
	}
	l.SetDebug(true)
	l.Debugf("phase %s: start", counted{&n})
	if n != 1 || console.String() != "wgboot: phase value: start\n" {
		t.Errorf("shown debug line formatted %d times, printed %q", n, console.String())
	}
}
