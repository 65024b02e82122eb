package clockfile

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestParse(t *testing.T) {
	want := time.Date(2026, 12, 7, 6, 30, 5, 0, time.UTC)
	for _, in := range []string{
		"2026-12-07 06:30:05\n",
		"2026-12-07 06:30:05",
		"  2026-12-07 06:30:05  \r\nsecond line ignored\n",
		"2026-12-07T07:30:05+01:00\n",
	} {
		got, err := Parse([]byte(in))
		if err != nil || !got.Equal(want) {
			t.Errorf("Parse(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "\n2026-12-07 06:30:05", "2026-12-07", "yesterday", "2026-13-07 06:30:05"} {
		if got, err := Parse([]byte(in)); err == nil {
			t.Errorf("Parse(%q) = %v, want an error", in, got)
		}
	}
}

func TestFormatRead(t *testing.T) {
	local := time.Date(2026, 12, 7, 7, 30, 5, 999, time.FixedZone("CET", 3600))
	if got := string(Format(local)); got != "2026-12-07 06:30:05\n" {
		t.Errorf("Format(%v) = %q", local, got)
	}
	path := filepath.Join(t.TempDir(), "clock")
	if err := os.WriteFile(path, Format(local), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := Read(path)
	if err != nil || !got.Equal(local.Truncate(time.Second)) {
		t.Errorf("Read = %v, %v; want %v", got, err, local.Truncate(time.Second))
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte("2026-12-07 06:30:05\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		if tm, err := Parse(b); err == nil {
			if again, err := Parse(Format(tm)); err != nil || !again.Equal(tm.Truncate(time.Second)) {
				t.Errorf("Parse(Format(%v)) = %v, %v", tm, again, err)
			}
		}
	})
}
