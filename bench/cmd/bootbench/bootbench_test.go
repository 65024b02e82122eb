package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wgboot/wgboot/image"
	"github.com/wgboot/wgboot/internal/bootstate"
)

const wgbootConsole = `[    0.000000] Linux version 6.1.0-56-cloud-amd64
[    1.316014] Trying to unpack rootfs image as initramfs...
[    1.603289] Freeing initrd memory: 1460K
[    2.554175] Run /init as init process
[    2.675953] wgboot: bench: main
[    2.683338] wgboot: wgboot dev starting as PID 1
[    2.717728] wgboot: phase crng: done in 466µs
[    2.831226] wireguard: WireGuard 1.0.0 loaded.
[    2.836113] wgboot: phase modules: done in 118.27ms
[    2.880000] wgboot: tunnel wg0: up, index 2, public key x, 1 peer(s), listen port 51820
[    2.890000] wgboot: state written to /run/wgboot/state.json (init peak RSS 3484 KiB)
[    2.890100] wgboot: READY in 210ms (mounts=1ms cmdline=450µs tunnels=43.2ms)
`

// TestParseMarksKeysPhase: wgboot's keys phase, between crng and
// modules since fleet, is not module loading: it counts in (a).
func TestParseMarksKeysPhase(t *testing.T) {
	console := strings.Replace(wgbootConsole, "[    2.717728] wgboot: phase crng: done in 466µs\n",
		"[    2.717728] wgboot: phase crng: done in 466µs\n[    2.719348] wgboot: phase keys: done in 1.62ms\n", 1)
	m, err := parseMarks(console, wgbootMarkers)
	if err != nil {
		t.Fatal(err)
	}
	if want := 2719348 * time.Microsecond; m.modStart != want {
		t.Errorf("modStart %v, want the keys phase's end %v", m.modStart, want)
	}
	old, err := parseMarks(wgbootConsole, wgbootMarkers)
	if err != nil {
		t.Fatal(err)
	}
	if d := m.noMods() - old.noMods(); d != 1620*time.Microsecond {
		t.Errorf("(a) grew by %v with the keys phase, want 1.62ms", d)
	}
}

func TestParseMarks(t *testing.T) {
	m, err := parseMarks(wgbootConsole, wgbootMarkers)
	if err != nil {
		t.Fatal(err)
	}
	want := marks{
		unpackStart: 1316014 * time.Microsecond, unpackEnd: 1603289 * time.Microsecond,
		runInit: 2554175 * time.Microsecond, main: 2675953 * time.Microsecond,
		modStart: 2717728 * time.Microsecond, modDone: 2836113 * time.Microsecond,
		up: 2880 * time.Millisecond, rssKB: 3484,
	}
	want.phases[0], want.phases[1], want.phases[10] = time.Millisecond, 450*time.Microsecond, 43200*time.Microsecond
	if m != want {
		t.Fatalf("parseMarks =\n%+v, want\n%+v", m, want)
	}
	if got := m.withMods(); got != 325825*time.Microsecond {
		t.Errorf("(b) = %v", got)
	}
	if got := m.noMods(); got != 325825*time.Microsecond-118385*time.Microsecond {
		t.Errorf("(a) = %v", got)
	}
	if got := m.config(); got != 43887*time.Microsecond {
		t.Errorf("(c) = %v", got)
	}

	if _, err := parseMarks(strings.Replace(wgbootConsole, "tunnel wg0: up", "tunnel wg0: down", 1), wgbootMarkers); err == nil {
		t.Error("a console without the tunnel marker parsed")
	}
	failed := wgbootConsole + "[    2.900000] wgboot: FAILED in 300ms: tunnels: boom\n"
	if _, err := parseMarks(failed, wgbootMarkers); err == nil || !strings.Contains(err.Error(), "FAILED") {
		t.Errorf("failed boot: err = %v", err)
	}
}

func TestMedian(t *testing.T) {
	for _, c := range []struct {
		in   []time.Duration
		want time.Duration
	}{
		{nil, 0},
		{[]time.Duration{5}, 5},
		{[]time.Duration{9, 1, 5}, 5},
		{[]time.Duration{4, 1, 3, 2}, 2}, // (2+3)/2 in integer nanoseconds
	} {
		if got := median(c.in); got != c.want {
			t.Errorf("median(%v) = %v, want %v", c.in, got, c.want)
		}
	}
}

func TestBenchJobScript(t *testing.T) {
	j, err := newBenchJob(filepath.Join("..", "..", "profile", "bench.toml"), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	script := j.initScript()
	for _, want := range []string{
		"#!/bin/sh\n",
		"modprobe wireguard\n",
		"/sbin/ip link add wg0 type wireguard\n",
		"/usr/bin/wg setconf wg0 /etc/wireguard/wg0.conf\n",
		"/sbin/ip address add 10.77.0.2/24 dev wg0\n",
		"/sbin/ip link set dev wg0 mtu 1420 up\n",
		"/sbin/ip route replace 10.77.0.0/24 dev wg0 table 254\n",
		"'<6>" + scriptUp + "' >/dev/kmsg\n",
		"poweroff -f\n",
	} {
		if !strings.Contains(script, want) {
			t.Errorf("script lacks %q:\n%s", want, script)
		}
	}
	conf := j.wgConf(j.profile.Tunnels[0])
	for _, want := range []string{"PrivateKey = " + j.privKey, "ListenPort = 51820", "PresharedKey = " + j.psk, "Endpoint = 192.168.50.1:51820", "AllowedIPs = 10.77.0.0/24"} {
		if !strings.Contains(conf, want) {
			t.Errorf("wg config lacks %q:\n%s", want, conf)
		}
	}
	// The script's markers are found like wgboot's.
	console := "[ 1.000000] Trying to unpack rootfs image as initramfs...\n[ 1.100000] Freeing initrd memory: 2000K\n[ 2.000000] Run /init as init process\n"
	for i, l := range strings.Split(script, "\n") {
		if _, msg, ok := strings.Cut(l, "'<6>"); ok {
			msg, _, _ = strings.Cut(msg, "'")
			console += "[ 2." + strings.Repeat("0", 5) + string(rune('1'+i%9)) + "] " + msg + "\n"
		}
	}
	console += "[ 2.900000] " + scriptRSS + " VmHWM:\t    1668 kB\n"
	if _, err := parseMarks(console, scriptMarkers); err != nil {
		t.Errorf("script markers: %v\n%s", err, console)
	}
	files, err := os.ReadDir(j.dir)
	if err != nil || len(files) != 3 {
		t.Errorf("job dir: %v %v, want the profile and two key files", files, err)
	}
}

func TestStateFile(t *testing.T) {
	console := "[ 3.0] benchroot: main\nbenchroot: state begin\n{\n  \"ready\": true\n}\nbenchroot: state end\n[ 3.1] reboot: Power down\n"
	got, err := stateFile(console)
	if err != nil || got != "{\n  \"ready\": true\n}\n" {
		t.Errorf("stateFile = %q, %v", got, err)
	}
	if _, err := stateFile("nothing"); err == nil {
		t.Error("stateFile of a console without a state file")
	}
}

func TestParseInitTrace(t *testing.T) {
	tr := parseInitTrace("init runtime @3.3 ms, 0.43 ms clock, 0 bytes, 0 allocs\n[ 1.0] kernel\ninit main @52 ms, 4.4 ms clock, 448 bytes, 8 allocs\n")
	if len(tr) != 2 || tr[1].pkg != "main" || tr[1].clock != 4400*time.Microsecond || tr[1].allocs != 8 || tr[1].bytes != 448 {
		t.Errorf("parseInitTrace = %+v", tr)
	}
}

func TestParseSteps(t *testing.T) {
	console := "[    1.000000] Trying to unpack rootfs image as initramfs...\n[    1.100000] Freeing initrd memory: 2000K\n[    2.000000] Run /init as init process\n" +
		"[    2.100000] steps: main\n[    2.110000] steps: modules start\n[    2.200000] steps: modules done\n"
	for i, name := range stepNames {
		console += fmt.Sprintf("[%5d.%06d] steps: %s\n", 2, 210000+10000*i, name)
	}
	for i, name := range extraNames {
		console += fmt.Sprintf("[%5d.%06d] steps: %s\n", 2, 300000+1000*i*i, name)
	}
	m, err := parseMarks(console, stepsMarkers)
	if err != nil {
		t.Fatalf("%v\n%s", err, console)
	}
	for i := range stepNames {
		if got := m.step(i); got != 10*time.Millisecond {
			t.Errorf("step %s = %v, want 10ms", stepNames[i], got)
		}
	}
	// extras[i] at i² ms: "again start" is the 5th (16 ms), the console
	// markers the last two (81 and 100 ms).
	if m.profileCold() != time.Millisecond || m.profileWarm() != 5*time.Millisecond || m.consoleCost() != 19*time.Millisecond {
		t.Errorf("profile cold %v, warm %v, console %v; want 1ms, 5ms, 19ms", m.profileCold(), m.profileWarm(), m.consoleCost())
	}
	for i, want := range []time.Duration{0, 9, 11, 13, 15} { // (k+1)² − k² ms from k = 4
		if got := m.warmStep(i); got != want*time.Millisecond {
			t.Errorf("warm step %s = %v, want %v ms", stepNames[i], got, want)
		}
	}
	if got := m.warmConfig(); got != 48*time.Millisecond { // 64 − 16
		t.Errorf("warm config = %v, want 48ms", got)
	}
	if m.up != m.steps[len(stepNames)-1] {
		t.Errorf("up %v, want the last step's %v", m.up, m.steps[len(stepNames)-1])
	}
}

func TestStateTable(t *testing.T) {
	data := bootstate.Encode(&bootstate.State{Version: "v", PeakRSSKB: 3484, StartUptimeNS: 900 * time.Millisecond, WrittenNS: 1100 * time.Millisecond,
		Phases: []bootstate.Phase{{Name: "modules", Start: 32 * time.Millisecond, Dur: 100 * time.Millisecond}}})
	got := stateTable(data, clockTCG)
	for _, want := range []string{"| kernel, initramfs, Go runtime | 0.0 | 900.0 |", "starts at, ms", "| modules | 932.0 | 100.0 |", "| state written, handoff | 1100.0 | |", "init peak RSS 3484 KiB."} {
		if !strings.Contains(got, want) {
			t.Errorf("stateTable lacks %q:\n%s", want, got)
		}
	}
}

func TestParseClocks(t *testing.T) {
	got, err := parseClocks("icount,tcg")
	if err != nil || len(got) != 2 || got[0] != clockICount || got[1] != clockTCG {
		t.Errorf("parseClocks(icount,tcg) = %v, %v", got, err)
	}
	for _, bad := range []string{"", "kvm", "icount,icount", "tcg,"} {
		if _, err := parseClocks(bad); err == nil {
			t.Errorf("parseClocks(%q) accepted", bad)
		}
	}
}

// An -icount console: the kernel's stamps are instruction counts, parsed
// like any other.
const icountConsole = `[    0.000000] Linux version 6.1.0-57-cloud-arm64
[    0.012345] Trying to unpack rootfs image as initramfs...
[    0.350000] Freeing initrd memory: 1196K
[    1.100000] Run /init as init process
[    1.102000] wgboot: bench: main
[    1.106000] wgboot: phase crng: done in 10µs
[    1.168400] wgboot: phase modules: done in 62.4ms
[    1.171700] wgboot: tunnel wg0: up, index 2, public key x, 1 peer(s), listen port 51820
[    1.175000] wgboot: state written to /run/wgboot/state.json (init peak RSS 2740 KiB)
[    1.175100] wgboot: READY in 73ms (mounts=0.4ms profile=2.1ms tunnels=3.1ms)
`

const peerMD = `### wgpeers, amd64 guest (QEMU -icount shift=0,sleep=off, 1 vCPU: instruction time, 1 ms = 10⁶ instructions)

Median of 3 runs, ms (ratio to ` + "`wg setconf`" + `); fresh link per run, parsing included.

| N | wgboot | wgboot w/o profile parse | wg setconf | wgctrl-go | wgboot 4KiB msgs |
|---:|---:|---:|---:|---:|---:|
| 1 | 1.0 (0.34×) | 0.9 (0.32×) | 2.9 | 1.0 (0.35×) | 0.9 (0.32×) |
| 100 | 38.7 (0.96×) | 37.5 (0.93×) | 40.2 | 49.4 (1.23×) | 39.2 (0.98×) |
| 10000 | 3100.0 (1.05×) | 2900.0 (0.98×) | 2950.0 | 15000.0 (5.08×) | 4000.0 (1.36×) |
| slope, µs/peer | 381.3 | 369.1 | 376.8 | 488.7 | 387.1 |
| t(max N)/t(N/10)/10 | - | - | - | - | - |`

func TestParsePeerTable(t *testing.T) {
	tb, err := parsePeerTable(peerMD)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(tb.n) != "[1 100 10000]" || len(tb.cols) != 5 {
		t.Fatalf("rows %v, columns %q", tb.n, tb.cols)
	}
	if tb.get(10000, "wgboot") != 3100 || tb.get(10000, "wg setconf") != 2950 || tb.get(100, "wgctrl-go") != 49.4 {
		t.Errorf("cells: %v", tb.ms)
	}
	if _, err := parsePeerTable(strings.Replace(peerMD, "| wg setconf |", "| wg |", 1)); err == nil {
		t.Error("a table without wg setconf parsed")
	}
	if _, err := parsePeerTable(strings.Replace(peerMD, "| 100 | 38.7 (0.96×) |", "| 100 |", 1)); err == nil {
		t.Error("a short row parsed")
	}
	if _, err := parsePeerTable(strings.Replace(peerMD, "38.7 (0.96×)", "fast", 1)); err == nil {
		t.Error("a cell that is not a number parsed")
	}
}

// testRun is an arch measured on both clocks: wgboot and the script from
// fixed figures, every boot alike.
func testRun(arch string, icountA, icountC, scriptA, scriptC time.Duration) *archRun {
	a := &archRun{arch: arch, runs: map[clock]map[string][]marks{}, trace: map[clock][]initTrace{}}
	mk := func(noMods, config time.Duration) marks {
		m := marks{runInit: time.Second, main: time.Second + 2*time.Millisecond}
		m.modStart = m.main + time.Millisecond
		m.modDone = m.modStart + 60*time.Millisecond
		m.up = m.modDone + config
		// noMods = up − runInit − modules: put the rest before modStart.
		extra := noMods - (m.up - m.runInit - (m.modDone - m.modStart))
		m.modStart, m.modDone, m.up = m.modStart+extra, m.modDone+extra, m.up+extra
		return m
	}
	for _, c := range []clock{clockICount, clockTCG} {
		k := time.Duration(1)
		if c == clockTCG {
			k = 20
		}
		a.runs[c] = map[string][]marks{
			vWgboot: {mk(k*icountA, k*icountC), mk(k*icountA, k*icountC)},
			vScript: {mk(k*scriptA, k*scriptC), mk(k*scriptA, k*scriptC)},
		}
	}
	a.sizes = []sizeRow{{name: "**wgboot, default image**", bin: 3_000_000, xz: 1_150_000}}
	a.initXZ = 930_000
	return a
}

func TestReportGoals(t *testing.T) {
	ms := time.Millisecond
	amd := testRun("amd64", 5*ms, 2*ms, 27*ms, 22*ms)  // (a) 5.4×, (c) 11×: met
	arm := testRun("arm64", 10*ms, 4*ms, 21*ms, 17*ms) // (a) 2.1×, (c) 4.25×: not met
	pt, err := parsePeerTable(peerMD)
	if err != nil {
		t.Fatal(err)
	}
	r := &report{clocks: []clock{clockICount, clockTCG}, boots: map[clock]int{clockICount: 2, clockTCG: 2}, arches: []*archRun{amd, arm},
		peers: []peerResult{{arch: "amd64", clock: clockICount, table: pt}}}
	var b strings.Builder
	r.goals(&b)
	got := b.String()
	for _, want := range []string{
		"| goal | amd64 | arm64 |",
		"| (a) ≥ 4× | 5.40× met (5.0 instruction-ms; 4× is 6.8) | 2.10× **not met** (10.0 instruction-ms; 4× is 5.2) |",
		"| (c) ≥ 8× | 11.00× met (2.0 instruction-ms; 8× is 2.8) | 4.25× **not met** (4.0 instruction-ms; 8× is 2.1) |",
		"| 10,000 peers ≤ 1.0× wg setconf | 1.05× **not met** | not measured (-peers=skip) |",
		"| default image ≤ budget, xz | 1.150 MB ≤ 1.200 MB: met (-50 KB) | 1.150 MB ≤ 1.050 MB: **not met** (+100 KB) |",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("goals lack\n%s\nin\n%s", want, got)
		}
	}
	// The headline: instruction time first, with its goals, then TCG.
	md := r.markdown()
	ih, th := strings.Index(md, "## Headline: instruction time"), strings.Index(md, "## TCG wall time")
	if ih < 0 || th < ih || !strings.Contains(md[ih:th], "Goals, instruction time") {
		t.Errorf("headline order: instruction time at %d, TCG at %d", ih, th)
	}
	for _, want := range []string{
		"| amd64 | 27.0 → 5.0, **5.40×** |",
		"| amd64 | 540.0 → 100.0, **5.40×** |", // TCG: the same ratio from its own figures
		"10,000 peers: 3100.0 vs 2950.0, **1.05×**",
		"| amd64 | 1.150 MB | 1.200 MB | -50 KB | 3.000 MB | 0.930 MB | 0.220 MB |",
		"### Bring-up, instruction time\n\nMedian of 2 boots, instruction-ms.",
		// Without the minimal Go's boots (-minimal=false, -quick): no
		// column or paragraph of it.
		"| | wgboot | wg-quick-style | ratio |\n|---|---:|---:|---:|\n",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("report lacks %q", want)
		}
	}
	for _, unwanted := range []string{"| minimal Go |", "step by step", "Go floor:"} {
		if strings.Contains(md, unwanted) {
			t.Errorf("report without the minimal Go's boots has %q", unwanted)
		}
	}
}

func TestParseMarksIcount(t *testing.T) {
	m, err := parseMarks(icountConsole, wgbootMarkers)
	if err != nil {
		t.Fatal(err)
	}
	if m.noMods() != 9300*time.Microsecond || m.config() != 3300*time.Microsecond || m.preMain() != 2*time.Millisecond {
		t.Errorf("(a) %v, (c) %v, main %v; want 9.3ms, 3.3ms, 2ms", m.noMods(), m.config(), m.preMain())
	}
}

func TestSymPkg(t *testing.T) {
	for name, want := range map[string]string{
		"runtime.mallocgc": "runtime",
		"github.com/wgboot/wgboot/netsetup/wg.(*setBuilder).next":                         "github.com/wgboot/wgboot/netsetup/wg",
		"sync/atomic..dict.Pointer[internal/sync.entry[*internal/abi.Type,interface {}]]": "sync/atomic",
		"slices.SortFunc[go.shape.[]net/netip.Prefix,go.shape.struct {}]":                 "slices",
		"type:.eq.[8]internal/cpu.option":                                                 "internal/cpu",
		"type:.eq.github.com/BurntSushi/toml.Key":                                         "github.com/BurntSushi/toml",
		"go:itab.*os.File,io.Writer":                                                      "os",
		"go:itab.internal/reflectlite.rtype,internal/reflectlite.Type":                    "internal/reflectlite",
		"main.(*boot).selectProfile":                                                      "main",
		"main.main.func1":                                                                 "main",
		"go:func.*":                                                                       "",
		"runtime.pclntab":                                                                 "runtime", // sized symbols of the runtime's own
		"shifts":                                                                          "",
	} {
		if got := symPkg(name); got != want {
			t.Errorf("symPkg(%q) = %q, want %q", name, got, want)
		}
	}
}

func TestPkgTable(t *testing.T) {
	pkgs := []pkgSize{
		{pkg: "runtime", text: 400_000, raw: 900_000, xz: 300_000},
		{pkg: "github.com/wgboot/wgboot/board", text: 100_000, raw: 220_000, xz: 70_000},
		{pkg: "errors", text: 3_000, raw: 7_000, xz: 3_000},
		{pkg: "sort", text: 4_000, raw: 9_000, xz: 4_000},
	}
	got := pkgTable(pkgs, 377_000)
	for _, want := range []string{
		"| `runtime` | 400 KB | 0 KB | 900 KB | 300 KB | 79.6 % |",
		"| 2 more of the rest of the standard library, under 10 KB each | 7 KB | 0 KB | 16 KB | 7 KB | 1.9 % |",
		"| **all of wgboot's packages** | 100 KB | 0 KB | 220 KB | 70 KB | 18.6 % |",
		"| **/init** | | | 1136 KB | 377 KB | |",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("pkgTable lacks %q:\n%s", want, got)
		}
	}
}

// The sizes the report gives for /init and its packages are compressed with
// the image's filters.
func TestXZArgs(t *testing.T) {
	for _, c := range []struct {
		x    image.XZ
		want string
	}{
		{image.XZ{}, "--lzma2=preset=9e"},
		{image.XZ{BCJ: "x86"}, "--x86 --lzma2=preset=9e"},
		{image.XZ{LZMA2: "lc=2,lp=2,pb=2"}, "--lzma2=preset=9e,lc=2,lp=2,pb=2"},
	} {
		if got := strings.Join(xzArgs(c.x), " "); got != c.want {
			t.Errorf("xzArgs(%+v) = %q, want %q", c.x, got, c.want)
		}
	}
	a := &archRun{xz: image.XZ{BCJ: "x86"}, xzWhy: "--x86: CONFIG_XZ_DEC_X86=y in /somewhere/boot/config-6.1.0-57-cloud-amd64"}
	if got, want := xzWhat(a), "`--x86 --lzma2=preset=9e` (--x86: CONFIG_XZ_DEC_X86=y in config-6.1.0-57-cloud-amd64)"; got != want {
		t.Errorf("xzWhat = %q, want %q", got, want)
	}
}

// TestReportGoalsInit: with the "wgboot as /init" column in the table,
// the 10,000-peer goal is read from it (what the device runs), with the
// wgboot column's ratio beside it; the headline's cell too.
func TestReportGoalsInit(t *testing.T) {
	md := strings.Replace(peerMD, "| wgboot 4KiB msgs |\n|---:|---:|---:|---:|---:|---:|", "| wgboot as /init |\n|---:|---:|---:|---:|---:|---:|", 1)
	md = strings.Replace(md, "4000.0 (1.36×)", "2936.0 (0.99×)", 1)
	pt, err := parsePeerTable(md)
	if err != nil {
		t.Fatal(err)
	}
	ms := time.Millisecond
	r := &report{clocks: []clock{clockICount}, boots: map[clock]int{clockICount: 2}, arches: []*archRun{testRun("amd64", 5*ms, 2*ms, 27*ms, 22*ms)},
		peers: []peerResult{{arch: "amd64", clock: clockICount, table: pt}}}
	var b strings.Builder
	r.goals(&b)
	if want := "| 10,000 peers ≤ 1.0× wg setconf | 0.995× met, as /init (the wgboot column 1.051×) |"; !strings.Contains(b.String(), want) {
		t.Errorf("goals lack\n%s\nin\n%s", want, b.String())
	}
	if want := "10,000 peers, as /init: 2936.0 vs 2950.0, **0.995×** (the wgboot column 1.051×)"; !strings.Contains(r.markdown(), want) {
		t.Errorf("report lacks %q", want)
	}
}
