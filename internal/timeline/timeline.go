// Package timeline draws a wgboot boot as an SVG chart, like
// systemd-analyze plot: one bar per phase on the kernel's clock, from the
// kernel's start to the handoff, from the state file PID 1 leaves (package
// bootstate). With a console log or dmesg of the same boot (kernel-stamped
// lines), the time before init is split into the kernel, the initramfs
// unpacking and the program's start. It runs on a build host (wgboot
// timeline, the boot benchmark), never on a device.
package timeline

import (
	"bufio"
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/wgboot/wgboot/internal/bootstate"
)

// maxTime bounds every time the chart reads from its inputs, a state file
// and a console log that may be damaged or made up: clamped to [0,
// maxTime], sums of a few of them cannot overflow, and the axis keeps its
// dozen ticks. No boot lasts 1000 hours.
const maxTime = 1000 * time.Hour

func clamp(d time.Duration) time.Duration { return min(max(d, 0), maxTime) }

// SVG returns the chart of the boot that s describes. console, if not nil,
// is a console log or dmesg of the same boot. An empty title becomes the
// version, board and profile.
func SVG(s *bootstate.State, console []byte, title string) []byte {
	if title == "" {
		title = fmt.Sprintf("wgboot %s boot: board %s, profile %s", s.Version, s.Board, s.Profile)
	}
	var out bytes.Buffer
	bars, written := timelineBars(s, parseKernelMarks(console))
	renderTimeline(&out, title, s, bars, written)
	return out.Bytes()
}

// kernelMarks are the kernel's own stamps of a boot; zero when unknown.
type kernelMarks struct {
	unpackStart, unpackEnd, runInit time.Duration
	// phaseEnds are the stamps of init's "phase NAME: done in" (or
	// "failed after") lines, which tie the state file's times to the
	// kernel log's clock.
	phaseEnds map[string]time.Duration
}

// parseKernelMarks reads the kernel-stamped lines of a console log or dmesg
// ("[    1.234567] text").
func parseKernelMarks(log []byte) kernelMarks {
	var k kernelMarks
	sc := bufio.NewScanner(bytes.NewReader(log))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		l := strings.TrimSpace(sc.Text())
		if !strings.HasPrefix(l, "[") {
			continue
		}
		stamp, text, ok := strings.Cut(l[1:], "]")
		if !ok {
			continue
		}
		sec, err := strconv.ParseFloat(strings.TrimSpace(stamp), 64)
		if err != nil || !(sec >= 0 && sec <= maxTime.Seconds()) { // NaN too
			continue
		}
		at := time.Duration(sec * float64(time.Second))
		text = strings.TrimSpace(text)
		switch {
		case k.unpackStart == 0 && strings.HasPrefix(text, "Trying to unpack rootfs image as initramfs"):
			k.unpackStart = at
		case k.unpackEnd == 0 && strings.HasPrefix(text, "Freeing initrd memory"):
			k.unpackEnd = at
		case k.runInit == 0 && strings.HasPrefix(text, "Run /init as init process"):
			k.runInit = at
		default:
			rest, ok := strings.CutPrefix(text, "wgboot: phase ")
			if !ok {
				break
			}
			name, _, ok := strings.Cut(rest, " ")
			if !ok {
				break
			}
			if n, ok := strings.CutSuffix(name, ":"); ok {
				name = n
			}
			if k.phaseEnds == nil {
				k.phaseEnds = make(map[string]time.Duration)
			}
			if _, seen := k.phaseEnds[name]; !seen {
				k.phaseEnds[name] = at
			}
		}
	}
	return k
}

// A bar is one row of the chart, on the kernel's clock.
type bar struct {
	name       string
	start, dur time.Duration
	class      string // kernel, unpack, runtime, phase, failed
}

// timelineBars lays out the boot: what came before init (split when the
// kernel's marks are known), then init's phases. It returns the bars and
// when the state was written, on the same clock.
//
// The state file's times are CLOCK_BOOTTIME; the kernel log's stamps are
// its own clock (local_clock), which can run apart early in a boot (by
// hundreds of ms under QEMU's TCG). With a console log whose phase lines
// init logged, the chart uses the log's clock throughout: init's start is
// placed where the phase lines put it.
func timelineBars(s *bootstate.State, k kernelMarks) ([]bar, time.Duration) {
	start, written := clamp(s.StartUptimeNS), clamp(s.WrittenNS)
	if at, ok := anchor(s, k); ok {
		start, written = at, at+written-start
	}
	var bars []bar
	if k.runInit > 0 && k.runInit <= start {
		bars = append(bars, bar{name: "kernel", dur: k.runInit, class: "kernel"})
		if k.unpackEnd > k.unpackStart && k.unpackStart > 0 {
			bars = append(bars, bar{name: "initramfs unpack", start: k.unpackStart, dur: k.unpackEnd - k.unpackStart, class: "unpack"})
		}
		bars = append(bars, bar{name: "exec, Go runtime", start: k.runInit, dur: start - k.runInit, class: "runtime"})
	} else {
		bars = append(bars, bar{name: "kernel, Go runtime", dur: start, class: "kernel"})
	}
	for _, p := range s.Phases {
		c := "phase"
		if p.Err != "" {
			c = "phase failed"
		}
		bars = append(bars, bar{name: p.Name, start: start + clamp(p.Start), dur: clamp(p.Dur), class: c})
	}
	return bars, written
}

// anchor returns init's start on the kernel log's clock: the earliest that
// any phase line allows (a line is stamped just after its phase ended).
func anchor(s *bootstate.State, k kernelMarks) (time.Duration, bool) {
	best, ok := time.Duration(0), false
	for _, p := range s.Phases {
		at, found := k.phaseEnds[p.Name]
		if !found {
			continue
		}
		if start := at - clamp(p.Start) - clamp(p.Dur); !ok || start < best {
			best, ok = start, true
		}
	}
	return best, ok && best > 0
}

// Chart geometry, in SVG user units (pixels).
const (
	tlWidth  = 960
	tlLabelW = 150 // the bar names' column
	tlRight  = 80  // room right of the chart for duration labels
	tlRow    = 22
	tlBar    = 14
)

// renderTimeline writes the chart: the whole boot on one time axis, from
// the kernel's start to the handoff, and, when what happens after the
// kernel is too thin to read there, the same from the start of /init on a
// second axis.
func renderTimeline(w *bytes.Buffer, title string, s *bootstate.State, bars []bar, written time.Duration) {
	end := written
	for _, b := range bars {
		end = max(end, b.start+b.dur)
	}
	end = max(end, time.Millisecond)
	// The zoom starts where the kernel's bar ends.
	zoom := bars[0].start + bars[0].dur
	panels := [][2]time.Duration{{0, end}}
	if zoom > 0 && zoom < end && end-zoom < end*7/10 {
		panels = append(panels, [2]time.Duration{zoom, end})
	}
	panelH := 44 + tlRow*len(bars) + 30
	height := 28 + panelH*len(panels) + 24

	fmt.Fprintf(w, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="12">`+"\n", tlWidth, height, tlWidth, height)
	w.WriteString(`<style>.kernel{fill:#9e9e9e}.unpack{fill:#c7c7c7}.runtime{fill:#f0a830}.phase{fill:#4a86c8}.failed{fill:#d0342c}.grid{stroke:#e4e4e4}.handoff{stroke:#2e9a4a;stroke-width:2;stroke-dasharray:4 3}text.dur{fill:#444}text.sub{fill:#444;font-style:italic}</style>` + "\n")
	fmt.Fprintf(w, `<rect width="%d" height="%d" fill="#fff"/>`+"\n", tlWidth, height)
	fmt.Fprintf(w, `<text x="8" y="18" font-size="14" font-weight="bold">%s</text>`+"\n", xmlEscape(title))
	for i, pr := range panels {
		sub := "the whole boot, from the kernel's start"
		if i > 0 {
			sub = "zoomed in on init: from " + fmtDur(pr[0])
		}
		timelinePanel(w, 28+panelH*i, sub, bars, written, pr[0], pr[1], i == 0)
	}
	outcome := "ready"
	if !s.Ready {
		outcome = "failed: " + s.Failure
	}
	fmt.Fprintf(w, `<text x="8" y="%d" fill="#444">kernel start → handoff %s; %s; init peak RSS %d KiB</text>`+"\n", height-8, fmtDur(written), xmlEscape(outcome), s.PeakRSSKB)
	w.WriteString("</svg>\n")
}

// timelinePanel draws the bars on an axis from..to, top at y. Only the
// first panel's rects carry the bar's class alone; a zoom's are marked
// "zoom" too, so that each bar is counted once.
func timelinePanel(w *bytes.Buffer, y int, sub string, bars []bar, written, from, to time.Duration, first bool) {
	chartW := float64(tlWidth - tlLabelW - tlRight)
	x := func(d time.Duration) float64 {
		return tlLabelW + chartW*float64(min(max(d, from), to)-from)/float64(to-from)
	}
	fmt.Fprintf(w, `<text class="sub" x="8" y="%d">%s</text>`+"\n", y+10, xmlEscape(sub))
	top := y + 44
	bottom := top + tlRow*len(bars)
	// The inputs are clamped (maxTime), so that to-from cannot overflow;
	// the ticks are counted, not stepped through, so that none can wrap
	// around.
	step := tickStep(to - from)
	t0, ticks := (from+step-1)/step*step, time.Duration(0)
	if t0 <= to {
		ticks = (to-t0)/step + 1
	}
	for i := range ticks {
		t := t0 + i*step
		fmt.Fprintf(w, `<line class="grid" x1="%.1f" y1="%d" x2="%.1f" y2="%d"/>`, x(t), top-8, x(t), bottom)
		fmt.Fprintf(w, `<text x="%.1f" y="%d" text-anchor="middle" fill="#666">%s</text>`+"\n", x(t), top-12, axisLabel(t, step))
	}
	for i, b := range bars {
		by := top + tlRow*i
		fmt.Fprintf(w, `<text x="%d" y="%d" text-anchor="end">%s</text>`, tlLabelW-8, by+tlBar-2, xmlEscape(b.name))
		if b.start+b.dur <= from && from > 0 {
			w.WriteString("\n")
			continue
		}
		class := b.class
		if !first {
			class += " zoom"
		}
		bw := max(x(b.start+b.dur)-x(b.start), 1)
		fmt.Fprintf(w, `<rect class="%s" x="%.1f" y="%d" width="%.1f" height="%d"><title>%s: %s at %s</title></rect>`,
			class, x(b.start), by, bw, tlBar, xmlEscape(b.name), fmtDur(b.dur), fmtDur(b.start))
		lx, anchor := x(b.start)+bw+4, "start"
		if lx > tlWidth-tlRight+30 {
			lx, anchor = x(b.start)-4, "end"
		}
		fmt.Fprintf(w, `<text class="dur" x="%.1f" y="%d" text-anchor="%s">%s</text>`+"\n", lx, by+tlBar-2, anchor, fmtDur(b.dur))
	}
	if written > 0 {
		hx := x(written)
		fmt.Fprintf(w, `<line class="handoff" x1="%.1f" y1="%d" x2="%.1f" y2="%d"/>`, hx, top-8, hx, bottom+4)
		fmt.Fprintf(w, `<text x="%.1f" y="%d" text-anchor="end" fill="#2e9a4a">state written, handoff at %s</text>`+"\n", hx, bottom+18, fmtDur(written))
	}
}

// tickStep picks 1, 2 or 5 times a power of ten so that the axis has at
// most 12 ticks.
func tickStep(end time.Duration) time.Duration {
	step := time.Microsecond
	for {
		for _, m := range []time.Duration{1, 2, 5} {
			if end/(m*step) <= 12 {
				return m * step
			}
		}
		step *= 10
	}
}

// axisLabel prints a tick in ms, with as many decimals as the step needs.
func axisLabel(t, step time.Duration) string {
	prec := 0
	for s := step; s < time.Millisecond && prec < 3; s *= 10 {
		prec++
	}
	return strconv.FormatFloat(float64(t)/float64(time.Millisecond), 'f', prec, 64) + " ms"
}

// fmtDur prints a duration in ms with three significant digits or so.
func fmtDur(d time.Duration) string {
	v := float64(d) / float64(time.Millisecond)
	prec := 0
	switch {
	case v < 1:
		prec = 3
	case v < 10:
		prec = 2
	case v < 100:
		prec = 1
	}
	return strconv.FormatFloat(v, 'f', prec, 64) + " ms"
}

// xmlEscape makes s safe as SVG text or an attribute value.
func xmlEscape(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch r {
		case '&':
			b.WriteString("&amp;")
		case '<':
			b.WriteString("&lt;")
		case '>':
			b.WriteString("&gt;")
		case '"':
			b.WriteString("&quot;")
		case '\'':
			b.WriteString("&#39;")
		default:
			if r < 0x20 && r != '\t' && r != '\n' {
				continue // not allowed in XML 1.0
			}
			b.WriteRune(r)
		}
	}
	return b.String()
}
