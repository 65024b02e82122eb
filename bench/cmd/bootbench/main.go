// Command bootbench is `make bench`: wgboot against the alternatives,
// measured side by side in the same run, under QEMU (TCG) on both arches.
//
//   - bring-up: kernel-stamped times from "Run /init as init process" to
//     the tunnel up, wgboot against a wg-quick-style initramfs doing the
//     same job (busybox sh, iproute2's ip, wg(8) and their libraries), the
//     boots interleaved; plus what runs before main (a bare Go PID 1, wgboot
//     with GODEBUG=inittrace=1);
//   - size: /init, the images raw and xz, against the wg-quick-style image
//     and a u-root initramfs (core init + gosh);
//   - memory: init's peak RSS at handoff;
//   - peer scaling: bench/wgpeers, run as it is;
//   - the boot timeline: one boot handing off to a root disk whose init
//     prints the state file, drawn as `wgboot timeline` draws it (package
//     internal/timeline).
//
// It prints markdown tables and writes them to bench/RESULTS.md. See
// docs/benchmarks.md for the method.
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
	arches    []string
	boots     int
	kernels   string
	initDir   string // out: out/<arch>/init from make build
	work      string
	results   string
	svg       string
	peers     string // run, reuse or skip
	peersArgs string
	variants  variantFlags
	quiet     time.Duration // how long to wait for an idle host before a boot
	timeline  bool
}

func main() {
	var o options
	arches := flag.String("arches", "amd64,arm64", "guest architectures")
	flag.IntVar(&o.boots, "boots", 7, "boots per variant and arch (medians reported; at least 5 for the report)")
	flag.StringVar(&o.kernels, "kernels", ".cache/kernels", "kernels and modules from `make kernels`")
	flag.StringVar(&o.initDir, "init-dir", "out", "where `make build` put <arch>/init")
	flag.StringVar(&o.work, "work", "out/bench/boot", "scratch directory: images, consoles")
	flag.StringVar(&o.results, "results", "bench/RESULTS.md", "the report to write; empty: none")
	flag.StringVar(&o.svg, "svg", "docs/boot-timeline.svg", "where the first arch's boot timeline goes; empty: none")
	flag.StringVar(&o.peers, "peers", "run", "peer scaling (bench/wgpeers): run, reuse (the last tables in out/bench) or skip")
	flag.StringVar(&o.peersArgs, "peers-args", "-runs=5", "WGBENCH_ARGS for bench/wgpeers/run.sh")
	flag.DurationVar(&o.quiet, "quiet", 30*time.Second, "before each boot, wait up to this long for the host's CPUs to be mostly idle")
	flag.DurationVar(&quietBudget, "quiet-budget", 5*time.Minute, "the run's total wait for an idle host")
	flag.BoolVar(&o.timeline, "timeline", true, "boot once more to draw the boot timeline")
	flag.Var(&o.variants, "variant", "NAME=DIR: also boot DIR/<arch>/init as wgboot (an experimental build); repeatable")
	flag.Parse()
	o.arches = strings.Split(*arches, ",")
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

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "bootbench: "+format+"\n", args...)
}

func run(o options) error {
	start := time.Now()
	env, err := hostEnv(o)
	if err != nil {
		return err
	}
	rep := &report{env: env, boots: o.boots}
	for _, arch := range o.arches {
		a, err := prepare(o, arch)
		if err != nil {
			return fmt.Errorf("%s: %w", arch, err)
		}
		if err := a.bootAll(o); err != nil {
			return fmt.Errorf("%s: %w", arch, err)
		}
		if o.timeline {
			if err := a.timeline(o, arch == o.arches[0]); err != nil {
				return fmt.Errorf("%s: timeline: %w", arch, err)
			}
		}
		rep.arches = append(rep.arches, a)
	}
	for _, arch := range o.arches {
		t, err := peerTable(o, arch)
		if err != nil {
			return fmt.Errorf("%s: peer scaling: %w", arch, err)
		}
		rep.peers = append(rep.peers, t)
	}
	rep.elapsed = time.Since(start)
	md := rep.markdown()
	fmt.Print(md)
	if o.results != "" {
		if err := os.WriteFile(o.results, []byte(md), 0o644); err != nil {
			return err
		}
		logf("wrote %s in %v", o.results, rep.elapsed.Round(time.Second))
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
