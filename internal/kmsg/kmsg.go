// Package kmsg is init's logger: one line per record to /dev/kmsg, so that
// the kernel stamps each line and the console shows it, with a fallback to
// the console itself while /dev is not mounted yet.
package kmsg

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/sys/unix"

	"github.com/wgboot/wgboot/internal/krule"
)

// Syslog levels used by init.
const (
	Err     = krule.LogErr
	Warning = krule.LogWarning
	Info    = krule.LogInfo
	Debug   = krule.LogDebug
)

// recordMax keeps each write under the kernel's per-record limit
// (devkmsg_write rejects records over PRINTKRB_RECORD_MAX = 1024 with EINVAL).
const recordMax = 976

// burst is how many records go through one open of /dev/kmsg. The kernel
// rate-limits each open file (printk.devkmsg=ratelimit, the default: each
// open gets its own limit of DEFAULT_RATELIMIT_BURST = 10 records per 5 s,
// kernel/printk/printk.c devkmsg_open) and drops the rest silently, which
// would hide most of a boot's log, so the logger opens the device anew
// after each burst. All 10: a reopen costs the boot 45-75 instruction-µs
// (docs/benchmarks.md), and the limit is counted per open file, exactly.
const burst = 10

// Logger writes records "<level>prefix: message" to /dev/kmsg. It is safe
// for concurrent use. The zero value is not usable; call New.
type Logger struct {
	mu       sync.Mutex
	prefix   string
	path     string
	f        *rawFile
	n        int // records written through f
	opens    int // how many times the device was opened
	fallback io.Writer
	debug    bool
	quiet    bool

	printk  string // the kernel's log levels, console level first
	console string // where Outcomef writes what the console would hide
}

// New returns a logger that writes to the console (fallback) until Open
// succeeds.
func New(prefix string, fallback io.Writer) *Logger {
	return &Logger{prefix: prefix, fallback: fallback, path: "/dev/kmsg",
		printk: "/proc/sys/kernel/printk", console: "/dev/console"}
}

// Open starts writing to /dev/kmsg. Before it succeeds, records go to the
// fallback writer.
func (l *Logger) Open() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.reopen()
}

func (l *Logger) reopen() error {
	if l.f != nil {
		l.f.Close()
		l.f = nil
	}
	f, err := openRaw(l.path)
	if err != nil {
		return err
	}
	l.f, l.n = f, 0
	l.opens++
	return nil
}

// rawFile is /dev/kmsg as a plain descriptor. An os.File would register it
// with the runtime's poller (the device is pollable) and take it out again
// at each reopen: system calls and runtime work for nothing, since a write
// to /dev/kmsg never blocks.
type rawFile struct{ fd int }

func openRaw(path string) (*rawFile, error) {
	fd, err := unix.Open(path, unix.O_WRONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: path, Err: err}
	}
	return &rawFile{fd: fd}, nil
}

// Write writes b as one record: /dev/kmsg takes a write whole or fails
// it, and never blocks (so no EINTR either).
func (f *rawFile) Write(b []byte) (int, error) {
	return unix.Write(f.fd, b)
}

func (f *rawFile) Close() error { return unix.Close(f.fd) }

// SetDebug turns debug records on or off.
func (l *Logger) SetDebug(on bool) { l.mu.Lock(); l.debug = on; l.mu.Unlock() }

// SetQuiet stops Outcomef from writing to the console itself
// (wgboot.quiet): the kernel's console level alone decides.
func (l *Logger) SetQuiet(on bool) { l.mu.Lock(); l.quiet = on; l.mu.Unlock() }

// Outcomef logs a record that a person at the serial console must see —
// the boot's outcome, the failure policy taken, the handoff — like Logf,
// and when the kernel's console level hides records of that level (the
// kernel's "quiet" or "loglevel=" on its command line), writes the line to
// the console as well, without a level. With SetQuiet(true) it is Logf.
func (l *Logger) Outcomef(level int, format string, args ...any) {
	l.Logf(level, format, args...)
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.quiet || l.f == nil || level < l.consoleLevel() {
		// Shown already: by the console's level, or written to the
		// console by the fallback.
		return
	}
	c, err := os.OpenFile(l.console, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		return
	}
	defer c.Close()
	for _, line := range strings.Split(strings.TrimRight(fmt.Sprintf(format, args...), "\n"), "\n") {
		io.WriteString(c, l.prefix+": "+line+"\n")
	}
}

// consoleLevel is the kernel's console log level: records of a lower
// level are printed on the console. 0 (nothing shown as such) when
// unknown, so that a line is rather shown twice than not at all.
func (l *Logger) consoleLevel() int {
	data, err := os.ReadFile(l.printk)
	if err != nil {
		return 0
	}
	f := strings.Fields(string(data))
	if len(f) == 0 {
		return 0
	}
	n, err := strconv.Atoi(f[0])
	if err != nil {
		return 0
	}
	return n
}

// Logf writes one record per line of the formatted message.
func (l *Logger) Logf(level int, format string, args ...any) {
	// A debug line that is not shown is not formatted either: the phase
	// runner logs one per phase. The formatting stays outside the lock,
	// where a value's String method may log.
	l.mu.Lock()
	skip := level >= Debug && !l.debug
	l.mu.Unlock()
	if skip {
		return
	}
	msg := strings.TrimRight(fmt.Sprintf(format, args...), "\n")
	l.mu.Lock()
	defer l.mu.Unlock()
	for {
		line, rest, more := strings.Cut(msg, "\n")
		l.write(l.record(level, line))
		if !more {
			return
		}
		msg = rest
	}
}

// record is line as a /dev/kmsg record, "<level>prefix: line\n", built in
// one buffer: every line of the boot goes through here.
func (l *Logger) record(level int, line string) []byte {
	rec := make([]byte, 0, len(l.prefix)+len(line)+8)
	rec = append(rec, '<')
	rec = strconv.AppendInt(rec, int64(level), 10)
	rec = append(rec, '>')
	rec = append(rec, l.prefix...)
	rec = append(rec, ": "...)
	rec = append(rec, line...)
	if len(rec) > recordMax {
		rec = append(rec[:recordMax], "…"...)
	}
	// The newline ends the record: without it the kernel holds the line
	// back as unfinished until the next one, so a board's last message
	// would reach neither the console nor dmesg.
	return append(rec, '\n')
}

func (l *Logger) write(rec []byte) {
	if l.f != nil && l.n >= burst {
		if err := l.reopen(); err != nil {
			l.f = nil
		}
	}
	if l.f != nil {
		if _, err := l.f.Write(rec); err == nil {
			l.n++
			return
		}
	}
	// The console shows no level prefix.
	l.fallback.Write(rec[bytes.IndexByte(rec, '>')+1:])
}

// Infof logs at level Info.
func (l *Logger) Infof(format string, args ...any) { l.Logf(Info, format, args...) }

// Warnf logs at level Warning.
func (l *Logger) Warnf(format string, args ...any) { l.Logf(Warning, format, args...) }

// Errorf logs at level Err.
func (l *Logger) Errorf(format string, args ...any) { l.Logf(Err, format, args...) }

// Debugf logs at level Debug, only when debug is on.
func (l *Logger) Debugf(format string, args ...any) { l.Logf(Debug, format, args...) }
