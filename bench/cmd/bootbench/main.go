// Command bootbench is `make bench`: wgboot against the alternatives,
// measured side by side in the same run, under QEMU (TCG) on both arches,
// on two clocks:
//
//   - instruction time, the headline: QEMU's -icount shift=0,sleep=off
//     makes the guest clock advance 1 ns per instruction executed, so that
//     the kernel's stamps count instructions: deterministic, independent of
//     the host's load, and free of what TCG spends translating code the
//     first time it runs, which a board never pays;
//   - TCG wall time: the guest clock is host time, as QEMU normally runs.
//
// What it measures on each:
//
//   - bring-up: kernel-stamped times from "Run /init as init process" to
//     the tunnel up, wgboot against a wg-quick-style initramfs doing the
//     same job (busybox sh, iproute2's ip, wg(8) and their libraries), the
//     boots interleaved; plus what runs before main (a bare Go PID 1, wgboot
//     with GODEBUG=inittrace=1);
//   - size: /init, the images raw and xz, against the wg-quick-style image
//     and a u-root initramfs (core init + gosh); the default image against
//     its budget, and /init by package;
//   - memory: init's peak RSS at handoff;
//   - peer scaling: bench/wgpeers, run as it is;
//   - the boot timeline: one boot handing off to a root disk whose init
//     prints the state file, drawn as `wgboot timeline` draws it (package
//     internal/timeline).
//
// It prints markdown tables and writes them to bench/RESULTS.md. See
// docs/benchmarks.md for the method. -quick is its smaller sibling for CI:
// instruction time only, one boot per variant, peers at 1 and 100.
package main

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/wgboot/wgboot/image"
)

type options struct {
	arches      []string
	clocks      []clock
	boots       int // per variant, arch and clock: TCG
	icountBoots int // the same under -icount, which is deterministic
	quick       bool
	kernels     string
	initDir     string // out: out/<arch>/init from make build
	work        string
	results     string
	svg         string
	peers       string // run, reuse or skip
	peersArgs   map[clock]string
	variants    variantFlags
	quiet       time.Duration // how long to wait for an idle host before a boot
	timeline    bool
	inittrace   bool
	byPackage   bool
	minimal     bool // boot the Go floor and the minimal Go PID 1
}

func main() {
	var o options
	arches := flag.String("arches", "amd64,arm64", "guest architectures")
	clocks := flag.String("clocks", "icount,tcg", "the guest clocks to measure on: icount (instruction time) and tcg (host time)")
	flag.IntVar(&o.boots, "boots", 5, "TCG boots per variant and arch (medians reported)")
	flag.IntVar(&o.icountBoots, "icount-boots", 3, "-icount boots per variant and arch (medians reported; they agree within about 0.5 ms)")
	flag.BoolVar(&o.quick, "quick", false, "CI's smaller sibling: instruction time only, 1 boot per variant, peers at 1 and 100; no timeline, inittrace, u-root, /init by package, Go floor or minimal Go; writes out/bench/RESULTS-quick.md")
	flag.StringVar(&o.kernels, "kernels", ".cache/kernels", "kernels and modules from `make kernels`")
	flag.StringVar(&o.initDir, "init-dir", "out", "where `make build` put <arch>/init")
	flag.StringVar(&o.work, "work", "out/bench/boot", "scratch directory: images, consoles")
	flag.StringVar(&o.results, "results", "bench/RESULTS.md", "the report to write; empty: none")
	flag.StringVar(&o.svg, "svg", "docs/boot-timeline.svg", "where the first arch's boot timeline goes; empty: none")
	flag.StringVar(&o.peers, "peers", "run", "peer scaling (bench/wgpeers): run, reuse (the last tables in out/bench) or skip")
	tcgPeers := flag.String("peers-args", "-runs=3", "WGBENCH_ARGS for bench/wgpeers/run.sh under TCG")
	icountPeers := flag.String("icount-peers-args", "-runs=3", "WGBENCH_ARGS for bench/wgpeers/run.sh under -icount")
	flag.DurationVar(&o.quiet, "quiet", 30*time.Second, "before each boot, wait up to this long for the host's CPUs to be mostly idle")
	flag.DurationVar(&quietBudget, "quiet-budget", 5*time.Minute, "the run's total wait for an idle host")
	flag.BoolVar(&o.timeline, "timeline", true, "boot once more to draw the boot timeline")
	flag.BoolVar(&o.inittrace, "inittrace", true, "boot wgboot once more per clock with GODEBUG=inittrace=1")
	flag.BoolVar(&o.minimal, "minimal", true, "boot the Go floor (bench/cmd/probe) and the minimal Go PID 1 (bench/cmd/steps) too")
	flag.BoolVar(&o.byPackage, "by-package", true, "share out /init's size by package (a build with symbols)")
	flag.StringVar(&lockPath, "lock", "", "hold an exclusive flock on `file` while each guest runs (as flock(1) does), not for the whole run")
	hub := flag.Int("hub", 0, "instead of the benchmark: boot wgboot and every -variant with a hub profile of `N` peers (2N allowed IPs), routes on and off, and report the profile and tunnels phases; writes out/bench/hub-N.md")
	hubTablesFlag := flag.String("hub-tables", strings.Join(hubTables, ","), "-hub: the profiles' table settings to boot")
	flag.Var(&o.variants, "variant", "NAME=DIR: also boot DIR/<arch>/init as wgboot (an experimental build); repeatable")
	flag.Parse()
	set := map[string]bool{}
	flag.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if o.quick {
		// What is not given explicitly shrinks to what CI can afford.
		quick := map[string]func(){
			"clocks":            func() { *clocks = "icount" },
			"icount-boots":      func() { o.icountBoots = 1 },
			"icount-peers-args": func() { *icountPeers = "-runs=1 -n=1,100" },
			"peers-args":        func() { *tcgPeers = "-runs=1 -n=1,100" },
			"timeline":          func() { o.timeline = false },
			"inittrace":         func() { o.inittrace = false },
			"by-package":        func() { o.byPackage = false },
			"minimal":           func() { o.minimal = false },
			"results":           func() { o.results = "out/bench/RESULTS-quick.md" },
			"work":              func() { o.work = "out/bench/quick" },
			"svg":               func() { o.svg = "" },
			"quiet":             func() { o.quiet = 0 },
		}
		for name, f := range quick {
			if !set[name] {
				f()
			}
		}
	}
	if *hub > 0 {
		// One -icount boot per build is the measurement (they agree run to
		// run); the rest of the benchmark does not run.
		if !set["clocks"] {
			*clocks = "icount"
		}
		if !set["icount-boots"] {
			o.icountBoots = 1
		}
		if !set["results"] {
			o.results = fmt.Sprintf("out/bench/hub-%d.md", *hub)
		}
	}
	o.arches = strings.Split(*arches, ",")
	var err error
	if o.clocks, err = parseClocks(*clocks); err != nil {
		fmt.Fprintln(os.Stderr, "bootbench: -clocks:", err)
		os.Exit(2)
	}
	o.peersArgs = map[clock]string{clockICount: *icountPeers, clockTCG: *tcgPeers}
	if *hub > 0 {
		hubTables = strings.Split(*hubTablesFlag, ",")
		if err := hubRun(o, *hub); err != nil {
			fmt.Fprintln(os.Stderr, "bootbench:", err)
			os.Exit(1)
		}
		return
	}
	if err := run(o); err != nil {
		fmt.Fprintln(os.Stderr, "bootbench:", err)
		os.Exit(1)
	}
}

// variantFlags are extra wgboot builds to boot next to the real one.
type variantFlags []variant

type variant struct{ name, dir string }

func (v *variantFlags) String() string { return "" }

func (v *variantFlags) Set(s string) error {
	name, dir, ok := strings.Cut(s, "=")
	if !ok || name == "" || dir == "" {
		return fmt.Errorf("want NAME=DIR, got %q", s)
	}
	*v = append(*v, variant{name, dir})
	return nil
}

// started is when the run started, for the log's elapsed times.
var started = time.Now()

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "bootbench: %5.0fs "+format+"\n", append([]any{time.Since(started).Seconds()}, args...)...)
}

func run(o options) error {
	start := time.Now()
	env, err := hostEnv(o)
	if err != nil {
		return err
	}
	rep := &report{env: env, clocks: o.clocks, boots: map[clock]int{clockICount: o.icountBoots, clockTCG: o.boots}, quick: o.quick}
	for _, arch := range o.arches {
		a, err := prepare(o, arch)
		if err != nil {
			return fmt.Errorf("%s: %w", arch, err)
		}
		if err := locked(func() error { return a.bootAll(o) }); err != nil {
			return fmt.Errorf("%s: %w", arch, err)
		}
		if o.timeline {
			if err := a.timeline(o, arch == o.arches[0]); err != nil {
				return fmt.Errorf("%s: timeline: %w", arch, err)
			}
		}
		rep.arches = append(rep.arches, a)
	}
	for _, c := range o.clocks {
		for _, arch := range o.arches {
			t, err := peerTable(o, arch, c)
			if err != nil {
				return fmt.Errorf("%s: peer scaling (%s): %w", arch, c, err)
			}
			rep.peers = append(rep.peers, t)
		}
	}
	rep.elapsed, rep.lockWait = time.Since(start), lockWait
	md := rep.markdown()
	fmt.Print(md)
	if o.results != "" {
		if err := os.MkdirAll(filepath.Dir(o.results), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(o.results, []byte(md), 0o644); err != nil {
			return err
		}
		logf("wrote %s in %v (%v waiting for the lock)", o.results, rep.elapsed.Round(time.Second), lockWait.Round(time.Second))
	}
	return nil
}

// hostEnv describes the machine and the inputs, for the report's header.
func hostEnv(o options) (hostInfo, error) {
	h := hostInfo{date: time.Now().UTC().Format("2006-01-02 15:04 UTC"), kernels: map[string]string{}}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "model name" {
				h.cpu = strings.TrimSpace(v)
				h.cores++
			}
		}
	}
	for _, arch := range o.arches {
		a, ok := image.Arches[arch]
		if !ok {
			return h, fmt.Errorf("unknown arch %q", arch)
		}
		v, err := os.ReadFile(filepath.Join(o.kernels, arch, ".version"))
		if err != nil {
			return h, fmt.Errorf("no %s kernel in %s: run make kernels", arch, o.kernels)
		}
		h.kernels[arch] = strings.TrimSpace(string(v))
		if h.qemu == "" {
			out, err := exec.Command(a.QEMU, "--version").Output()
			if err != nil {
				return h, fmt.Errorf("%s: %w", a.QEMU, err)
			}
			h.qemu, _, _ = strings.Cut(string(out), "\n")
		}
	}
	out, err := exec.Command("go", "version").Output()
	if err != nil {
		return h, err
	}
	h.goVersion = strings.TrimSpace(string(out))
	return h, nil
}
