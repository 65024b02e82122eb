package timeline

import (
	"bytes"
	"encoding/xml"
	"io"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/wgboot/wgboot/internal/bootstate"
)

func testState() *bootstate.State {
	return &bootstate.State{
		Version: "test", Board: "qemu-<amd64>", Profile: "/etc/wgboot/profiles/a&b.toml", Ready: true,
		PeakRSSKB:     4321,
		StartUptimeNS: 900 * time.Millisecond,
		WrittenNS:     1100 * time.Millisecond,
		Phases: []bootstate.Phase{
			{Name: "mounts", Start: 0, Dur: 2 * time.Millisecond},
			{Name: "profile", Start: 2 * time.Millisecond, Dur: 30 * time.Millisecond},
			{Name: "modules", Start: 32 * time.Millisecond, Dur: 100 * time.Millisecond},
			{Name: "tunnels", Start: 132 * time.Millisecond, Dur: 0, Err: "boom <&>"},
		},
	}
}

// svgRects parses an SVG and returns the class of every rect; it fails the
// test if the document is not well-formed XML.
func svgRects(t *testing.T, svg []byte) []string {
	t.Helper()
	d := xml.NewDecoder(bytes.NewReader(svg))
	var classes []string
	root := ""
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("not well-formed XML: %v\n%s", err, svg)
		}
		if se, ok := tok.(xml.StartElement); ok {
			if root == "" {
				root = se.Name.Local
			}
			if se.Name.Local == "rect" {
				c := ""
				for _, a := range se.Attr {
					if a.Name.Local == "class" {
						c = a.Value
					}
				}
				classes = append(classes, c)
			}
		}
	}
	if root != "svg" {
		t.Fatalf("root element %q, want svg", root)
	}
	return classes
}

// countPhaseRects counts the phase bars of the first panel (a zoom panel
// draws them again, marked "zoom").
func countPhaseRects(classes []string) int {
	n := 0
	for _, c := range classes {
		if f := strings.Fields(c); len(f) > 0 && f[0] == "phase" && !strings.Contains(c, "zoom") {
			n++
		}
	}
	return n
}

func TestTimelineOneRectPerPhase(t *testing.T) {
	s := testState()
	var out bytes.Buffer
	bars, written := timelineBars(s, kernelMarks{})
	renderTimeline(&out, "title <with> & \"quotes\"", s, bars, written)
	classes := svgRects(t, out.Bytes())
	if n := countPhaseRects(classes); n != len(s.Phases) {
		t.Errorf("%d phase rects, want %d: %v", n, len(s.Phases), classes)
	}
	for _, want := range []string{">mounts<", ">modules<", "100 ms", "handoff at 1100 ms", `class="phase failed"`, "init peak RSS 4321 KiB"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("SVG lacks %q", want)
		}
	}
}

func TestTimelineKernelMarks(t *testing.T) {
	log := []byte(`[    0.000000] Linux version 6.1.0
[    0.512000] Trying to unpack rootfs image as initramfs...
[    0.612500] Freeing initrd memory: 1520K
noise without a stamp
[    0.700000] Run /init as init process
[    0.950000] wgboot: something later
`)
	k := parseKernelMarks(log)
	if k.unpackStart != 512*time.Millisecond || k.unpackEnd != 612500*time.Microsecond || k.runInit != 700*time.Millisecond || len(k.phaseEnds) != 0 {
		t.Fatalf("parseKernelMarks = %+v", k)
	}
	s := testState()
	bars, _ := timelineBars(s, k)
	if len(bars) != 3+len(s.Phases) {
		t.Fatalf("%d bars, want kernel, unpack, runtime and %d phases: %+v", len(bars), len(s.Phases), bars)
	}
	if b := bars[2]; b.class != "runtime" || b.start != 700*time.Millisecond || b.dur != 200*time.Millisecond {
		t.Errorf("runtime bar %+v, want 700 ms + 200 ms", b)
	}
	if b := bars[4]; b.name != "profile" || b.start != 902*time.Millisecond {
		t.Errorf("second phase bar %+v, want profile at 902 ms", b)
	}
	// A console whose clock disagrees (Run /init after init started) is
	// not used to split the kernel's bar.
	if bars, _ := timelineBars(s, kernelMarks{runInit: 2 * time.Second}); bars[0].name != "kernel, Go runtime" || bars[0].dur != s.StartUptimeNS {
		t.Errorf("first bar %+v, want the whole time before init", bars[0])
	}
}

func TestTickStep(t *testing.T) {
	for _, c := range []struct{ end, want time.Duration }{
		{1100 * time.Millisecond, 100 * time.Millisecond},
		{3 * time.Second, 500 * time.Millisecond},
		{12 * time.Millisecond, time.Millisecond},
		{30 * time.Millisecond, 5 * time.Millisecond},
		{300 * time.Microsecond, 50 * time.Microsecond},
	} {
		if got := tickStep(c.end); got != c.want {
			t.Errorf("tickStep(%v) = %v, want %v", c.end, got, c.want)
		}
	}
	if got := axisLabel(150*time.Microsecond, 50*time.Microsecond); got != "0.15 ms" {
		t.Errorf("axisLabel = %q", got)
	}
}

func TestSVG(t *testing.T) {
	s := testState()
	svg := SVG(s, nil, "")
	if n := countPhaseRects(svgRects(t, svg)); n != 4 {
		t.Errorf("%d phase rects, want 4", n)
	}
	if want := "wgboot test boot: board qemu-&lt;amd64&gt;, profile /etc/wgboot/profiles/a&amp;b.toml"; !bytes.Contains(svg, []byte(want)) {
		t.Errorf("SVG lacks the default title %q", want)
	}
}

// TestTimelineAnchor checks that with a console log, the state file's
// phases are placed on the kernel log's clock, which under TCG can be far
// from CLOCK_BOOTTIME, and that the chart then zooms in on init.
func TestTimelineAnchor(t *testing.T) {
	s := testState() // init started at 900 ms BOOTTIME
	log := []byte(`[    1.400000] Run /init as init process
[    1.510100] wgboot: phase mounts: done in 2ms
[    1.540100] wgboot: phase profile: done in 30ms
[    1.640000] wgboot: phase modules: done in 100ms
[    1.640500] wgboot: phase tunnels failed after 0s: boom
`)
	k := parseKernelMarks(log)
	if len(k.phaseEnds) != 4 || k.phaseEnds["tunnels"] != 1640500*time.Microsecond {
		t.Fatalf("phase ends %v", k.phaseEnds)
	}
	bars, written := timelineBars(s, k)
	// modules ends at 132 ms after init's start: 1.640 s - 0.132 s = 1.508 s,
	// the earliest of the four.
	if b := bars[1]; b.class != "runtime" || b.start != 1400*time.Millisecond || b.dur != 108*time.Millisecond {
		t.Errorf("runtime bar %+v, want 1.4 s + 108 ms", b)
	}
	if want := 1508*time.Millisecond + 200*time.Millisecond; written != want {
		t.Errorf("written at %v, want %v", written, want)
	}
	var out bytes.Buffer
	renderTimeline(&out, "t", s, bars, written)
	classes := svgRects(t, out.Bytes())
	if n := countPhaseRects(classes); n != len(s.Phases) {
		t.Errorf("%d phase rects in the first panel, want %d", n, len(s.Phases))
	}
	zoomed := 0
	for _, c := range classes {
		if strings.Contains(c, "zoom") {
			zoomed++
		}
	}
	if zoomed != len(s.Phases)+1 { // the runtime bar and the phases
		t.Errorf("%d rects in the zoom panel, want %d: %v", zoomed, len(s.Phases)+1, classes)
	}
	if !strings.Contains(out.String(), "zoomed in on init: from 1400 ms") {
		t.Error("no zoom panel")
	}
}

// TestSVGHugeTimes: times near the limits of int64, from a damaged or
// made-up state file or console log, give a chart, not an endless tick
// loop (the axis step overflowed and wrapped around) or a panic.
func TestSVGHugeTimes(t *testing.T) {
	huge := []*bootstate.State{
		{Version: "a", WrittenNS: math.MaxInt64},
		{Version: "b", StartUptimeNS: math.MaxInt64 - 1, WrittenNS: math.MaxInt64,
			Phases: []bootstate.Phase{{Name: "mounts", Start: math.MaxInt64, Dur: math.MaxInt64}}},
		{Version: "c", StartUptimeNS: math.MinInt64, WrittenNS: math.MinInt64,
			Phases: []bootstate.Phase{{Name: "mounts", Start: math.MinInt64, Dur: -1}}},
		{Version: "d", StartUptimeNS: 900 * time.Millisecond, WrittenNS: math.MaxInt64 / 2,
			Phases: []bootstate.Phase{{Name: "mounts", Start: math.MaxInt64 / 2, Dur: math.MaxInt64 / 2}}},
	}
	consoles := [][]byte{nil, []byte(`[9223372036.854775807] Run /init as init process
[1e300] Trying to unpack rootfs image as initramfs
[NaN] Freeing initrd memory
[-5] wgboot: phase mounts: done in 2ms
[9223372036.854775807] wgboot: phase mounts: done in 2ms
`)}
	for _, s := range huge {
		for _, c := range consoles {
			done := make(chan []byte, 1)
			go func() { done <- SVG(s, c, "") }()
			select {
			case svg := <-done:
				svgRects(t, svg)
			case <-time.After(5 * time.Second):
				t.Fatalf("state %s, console %v: no chart after 5 s", s.Version, c != nil)
			}
		}
	}
}
