// Package clockfile reads and writes a saved clock: one line with a UTC
// time, "2026-12-07 06:30:00", the format of Debian's fake-hwclock, so that
// fake-hwclock (FILE=) or a one-line shell command can keep it.
//
// A board without a battery-backed clock starts in the past. Set no
// earlier than the saved time at boot, its clock never goes back past the
// last time it saved; a WireGuard responder that has accepted a handshake
// from the board drops every initiation whose timestamp is not later than
// that one's.
package clockfile

import (
	"bytes"
	"fmt"
	"os"
	"time"
)

// Layout is the file's time layout, in UTC: fake-hwclock's
// `date -u '+%Y-%m-%d %H:%M:%S'`.
const Layout = "2006-01-02 15:04:05"

// maxSize bounds what is read: the file is one short line.
const maxSize = 64

// Format returns the file's contents for t: the line and a newline.
func Format(t time.Time) []byte {
	return append(t.UTC().AppendFormat(nil, Layout), '\n')
}

// Parse reads the time a file's contents give: the first line, trimmed of
// spaces, in [Layout] or RFC 3339.
func Parse(data []byte) (time.Time, error) {
	line, _, _ := bytes.Cut(data, []byte{'\n'})
	s := string(bytes.TrimSpace(line))
	t, err := time.Parse(Layout, s)
	if err != nil {
		var err2 error
		if t, err2 = time.Parse(time.RFC3339, s); err2 != nil {
			return time.Time{}, fmt.Errorf("saved clock %q: want UTC %q", s, Layout)
		}
	}
	return t, nil
}

// Read reads and parses the file at path.
func Read(path string) (time.Time, error) {
	f, err := os.Open(path)
	if err != nil {
		return time.Time{}, err
	}
	defer f.Close()
	buf := make([]byte, maxSize)
	n, _ := f.Read(buf)
	t, err := Parse(buf[:n])
	if err != nil {
		return time.Time{}, fmt.Errorf("%s: %w", path, err)
	}
	return t, nil
}
