package main

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/wgboot/wgboot/image"
)

// A line is one console line the kernel stamped: printk's clock, which
// starts at 0 when the kernel starts.
type line struct {
	at   time.Duration
	text string
}

var stampRE = regexp.MustCompile(`^\[\s*(\d+)\.(\d{6})\] (.*)$`)

// stamped returns the console's kernel-stamped lines, in order.
func stamped(console string) []line {
	var out []line
	for _, l := range strings.Split(console, "\n") {
		m := stampRE.FindStringSubmatch(strings.TrimRight(l, "\r"))
		if m == nil {
			continue
		}
		sec, _ := strconv.ParseInt(m[1], 10, 64)
		usec, _ := strconv.ParseInt(m[2], 10, 64)
		out = append(out, line{at: time.Duration(sec)*time.Second + time.Duration(usec)*time.Microsecond, text: m[3]})
	}
	return out
}

// Kernel lines every boot has.
const (
	kRunInit     = "Run /init as init process"
	kUnpackStart = "Trying to unpack rootfs image as initramfs"
	kUnpackEnd   = "Freeing initrd memory"
)

// A markerSet names the lines that mark a variant's progress: each is the
// start of a stamped line's text. Empty markers are not expected.
type markerSet struct {
	main     string // the first statement of the program (PID 1)
	modStart string // module loading starts
	// modStartLate, when a build has it, is a later line that module
	// loading starts after: wgboot's keys phase (fleet) runs between crng
	// and modules, and must not count as module loading; older builds
	// (-variant) go from crng to modules.
	modStartLate string
	modDone      string         // every module is loaded
	up           string         // the tunnel is configured and up
	rss          *regexp.Regexp // peak RSS of init in KiB, first group
	fail         string         // the boot failed
	steps        string         // the prefix of per-step markers: prefix+stepNames[i]
}

// stepNames are the markers bench/cmd/steps writes after each step of the
// bring-up (netsetup/bringup's Trace), in order, after "modules done":
// sockets opened, link created, keys and peers set, the link configured
// (MTU, addresses, up, routes), policy rules.
var stepNames = [...]string{"sockets", "link", "setconf", "configure", "rules"}

// extraNames are bench/cmd/steps' other markers: the profile read cold
// (before the modules) and warm (after the tunnel), the bring-up of a
// second tunnel (warm: every step has run once), and a console line of
// consoleLine characters.
var extraNames = [...]string{"profile start", "profile done", "profile again start", "profile again done",
	"again start", "again link", "again setconf", "again configure", "again rules", "console start", "console done"}

// againFirst is the index in extraNames of the second tunnel's start; its
// steps follow, in stepNames' order from "link".
const againFirst = 4

// consoleLine is the length of the line bench/cmd/steps writes between its
// console markers (including the marker prefix).
const consoleLine = 1000 + len("steps: ")

var (
	wgbootMarkers = markerSet{
		main:         "wgboot: bench: main",      // init/markers_linux.go
		modStart:     "wgboot: phase crng: done", // the phase before modules in every build
		modStartLate: "wgboot: phase keys: done", // the phase before modules since fleet
		modDone:      "wgboot: phase modules: done",
		up:           "wgboot: tunnel wg0: up",
		rss:          regexp.MustCompile(`init peak RSS (\d+) KiB`),
		fail:         "wgboot: FAILED",
	}
	scriptMarkers = markerSet{
		main:     scriptMain,
		modStart: scriptModStart,
		modDone:  scriptModDone,
		up:       scriptUp,
		rss:      regexp.MustCompile(scriptRSS + ` VmHWM:\s+(\d+) kB`),
	}
	probeMarkers = markerSet{main: "probe: main"}
	stepsMarkers = markerSet{
		main:     "steps: main",
		modStart: "steps: modules start",
		modDone:  "steps: modules done",
		up:       "steps: rules",
		fail:     "steps: FAILED",
		steps:    "steps: ",
	}
)

// marks are one boot's kernel times.
type marks struct {
	unpackStart, unpackEnd time.Duration
	runInit                time.Duration
	main                   time.Duration
	modStart, modDone, up  time.Duration
	rssKB                  int
	steps                  [len(stepNames)]time.Duration  // when each step ended
	phases                 [len(phaseNames)]time.Duration // wgboot's READY line
	extras                 [len(extraNames)]time.Duration // bench/cmd/steps' extraNames
}

// phaseNames are wgboot's phases as its READY line lists them.
var phaseNames = [...]string{"mounts", "cmdline", "profile", "persist", "clock", "crng", "keys", "modules", "uplink", "resolve", "tunnels", "verify", "handshake"}

var readyRE = regexp.MustCompile(`wgboot: READY in \S+ \(([^)]*)\)`)

// readyPhases reads "READY in 210ms (mounts=1.2ms cmdline=…)".
func readyPhases(text string, dst *[len(phaseNames)]time.Duration) bool {
	m := readyRE.FindStringSubmatch(text)
	if m == nil {
		return false
	}
	for _, f := range strings.Fields(m[1]) {
		name, val, _ := strings.Cut(f, "=")
		d, err := time.ParseDuration(val)
		if err != nil {
			continue
		}
		for i, n := range phaseNames {
			if n == name {
				dst[i] = d
			}
		}
	}
	return true
}

// step is how long step i took: from the previous step's end (modules
// loaded, for the first).
func (m marks) step(i int) time.Duration {
	if i == 0 {
		return m.steps[0] - m.modDone
	}
	return m.steps[i] - m.steps[i-1]
}

// Figures of bench/cmd/steps' extra markers.
func (m marks) profileCold() time.Duration { return m.extras[1] - m.extras[0] }
func (m marks) profileWarm() time.Duration { return m.extras[3] - m.extras[2] }
func (m marks) consoleCost() time.Duration {
	return m.extras[len(extraNames)-1] - m.extras[len(extraNames)-2]
}

// warmStep is how long step i (of stepNames, from "link") took for the
// second tunnel; the sockets step is not repeated (0).
func (m marks) warmStep(i int) time.Duration {
	if i == 0 {
		return 0
	}
	return m.extras[againFirst+i] - m.extras[againFirst+i-1]
}

// warmConfig is the second tunnel's bring-up, start to end: (c) without
// the first time of anything, and without opening the sockets.
func (m marks) warmConfig() time.Duration {
	return m.extras[againFirst+len(stepNames)-1] - m.extras[againFirst]
}

// Derived figures.
func (m marks) unpack() time.Duration   { return m.unpackEnd - m.unpackStart }
func (m marks) preMain() time.Duration  { return m.main - m.runInit }
func (m marks) modules() time.Duration  { return m.modDone - m.modStart }
func (m marks) withMods() time.Duration { return m.up - m.runInit }
func (m marks) noMods() time.Duration   { return m.withMods() - m.modules() }
func (m marks) config() time.Duration   { return m.up - m.modDone }

// parseMarks finds the markers of set in a console.
func parseMarks(console string, set markerSet) (marks, error) {
	var m marks
	found := map[string]bool{}        // by marker, for the check below
	set1 := map[*time.Duration]bool{} // the first match wins
	find := func(l line, prefix string, dst *time.Duration) {
		if prefix != "" && !set1[dst] && strings.HasPrefix(l.text, prefix) {
			found[prefix], set1[dst] = true, true
			*dst = l.at
		}
	}
	for _, l := range stamped(console) {
		if set.fail != "" && strings.HasPrefix(l.text, set.fail) {
			return m, fmt.Errorf("boot failed: %s", l.text)
		}
		find(l, kUnpackStart, &m.unpackStart)
		find(l, kUnpackEnd, &m.unpackEnd)
		find(l, kRunInit, &m.runInit)
		find(l, set.main, &m.main)
		find(l, set.modStart, &m.modStart)
		if set.modStartLate != "" && m.modDone == 0 && strings.HasPrefix(l.text, set.modStartLate) {
			m.modStart = l.at
		}
		find(l, set.modDone, &m.modDone)
		find(l, set.up, &m.up)
		if set.steps != "" {
			for i, name := range stepNames {
				find(l, set.steps+name, &m.steps[i])
			}
			for i, name := range extraNames {
				find(l, set.steps+name, &m.extras[i])
			}
		}
		readyPhases(l.text, &m.phases)
		if set.rss != nil && m.rssKB == 0 {
			if sm := set.rss.FindStringSubmatch(l.text); sm != nil {
				m.rssKB, _ = strconv.Atoi(sm[1])
			}
		}
	}
	want := []string{kUnpackStart, kUnpackEnd, kRunInit, set.main, set.modStart, set.modDone, set.up}
	if set.steps != "" {
		for _, name := range stepNames {
			want = append(want, set.steps+name)
		}
		for _, name := range extraNames {
			want = append(want, set.steps+name)
		}
	}
	for _, want := range want {
		if want != "" && !found[want] {
			return m, fmt.Errorf("no %q on the console", want)
		}
	}
	if set.rss != nil && m.rssKB == 0 {
		return m, fmt.Errorf("no peak RSS (%s) on the console", set.rss)
	}
	return m, nil
}

// bootTimeout bounds one boot; a TCG boot takes a few seconds.
const bootTimeout = 3 * time.Minute

// bootTries bounds the boots of one measurement that die in the kernel
// before /init runs: on a loaded host, TCG's timer can miss the kernel's
// timer check ("IO-APIC + timer doesn't work"), which has nothing to do
// with the image booted.
const bootTries = 3

// boot boots c until the guest powers off and returns its console, again
// when the kernel panicked before running /init.
func boot(c image.Config, logPath string) (string, error) {
	for try := 1; ; try++ {
		console, err := boot1(c, logPath)
		early := strings.Contains(console, "Kernel panic") && !strings.Contains(console, kRunInit)
		if !early || try == bootTries {
			return console, err
		}
		logf("%s: the kernel panicked before /init (try %d of %d); booting again", logPath, try, bootTries)
	}
}

func boot1(c image.Config, logPath string) (console string, err error) {
	err = locked(func() error {
		console, err = boot1Unlocked(c, logPath)
		return err
	})
	return console, err
}

func boot1Unlocked(c image.Config, logPath string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), bootTimeout+30*time.Second)
	defer cancel()
	vm, err := image.Start(ctx, c, logPath)
	if err != nil {
		return "", err
	}
	err = vm.Wait(bootTimeout)
	console := vm.Console()
	if err != nil {
		return console, fmt.Errorf("%w; console tail:\n%s", err, vm.Tail(20))
	}
	return console, nil
}

// initTrace is what GODEBUG=inittrace=1 printed: each package's init.
type initTrace struct {
	pkg    string
	clock  time.Duration
	allocs int
	bytes  int
}

var initTraceRE = regexp.MustCompile(`^init (\S+) @[\d.]+ ms, ([\d.]+) ms clock, (\d+) bytes, (\d+) allocs`)

func parseInitTrace(console string) []initTrace {
	var out []initTrace
	for _, l := range strings.Split(console, "\n") {
		m := initTraceRE.FindStringSubmatch(strings.TrimSpace(l))
		if m == nil {
			continue
		}
		ms, _ := strconv.ParseFloat(m[2], 64)
		b, _ := strconv.Atoi(m[3])
		a, _ := strconv.Atoi(m[4])
		out = append(out, initTrace{pkg: m[1], clock: time.Duration(ms * float64(time.Millisecond)), bytes: b, allocs: a})
	}
	return out
}

// Lines the timeline boot's root init (bench/cmd/benchroot) puts around the
// state file.
const (
	stateBegin = "benchroot: state begin"
	stateEnd   = "benchroot: state end"
)

// stateFile cuts the state file out of the timeline boot's console.
func stateFile(console string) (string, error) {
	_, rest, ok := strings.Cut(console, stateBegin)
	if !ok {
		return "", fmt.Errorf("no %q on the console", stateBegin)
	}
	body, _, ok := strings.Cut(rest, stateEnd)
	if !ok {
		return "", fmt.Errorf("no %q on the console", stateEnd)
	}
	return strings.TrimSpace(body) + "\n", nil
}
