package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/wgboot/wgboot/internal/bootstate"
)

type hostInfo struct {
	date, cpu, qemu, goVersion string
	cores                      int
	kernels                    map[string]string
}

// peerResult is bench/wgpeers' report for one arch.
type peerResult struct {
	arch, text, note string
}

type report struct {
	env     hostInfo
	boots   int
	arches  []*archRun
	peers   []peerResult
	elapsed time.Duration
}

// median of ds; the mean of the middle two for an even count.
func median(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// med is the median of one figure over a variant's boots.
func (a *archRun) med(variant string, f func(marks) time.Duration) time.Duration {
	var ds []time.Duration
	for _, m := range a.runs[variant] {
		ds = append(ds, f(m))
	}
	return median(ds)
}

func (a *archRun) medRSS(variant string) int {
	var ds []time.Duration
	for _, m := range a.runs[variant] {
		ds = append(ds, time.Duration(m.rssKB))
	}
	return int(median(ds))
}

func (a *archRun) variant(name string) bootVariant {
	for _, v := range a.variants {
		if v.name == name {
			return v
		}
	}
	return bootVariant{}
}

func fms(d time.Duration) string { return fmt.Sprintf("%.1f", ms(d)) }

// ratio says how many times a is b.
func ratio(a, b time.Duration) string {
	if b <= 0 {
		return "–"
	}
	return fmt.Sprintf("%.2f×", float64(a)/float64(b))
}

func mb(n int64) string { return fmt.Sprintf("%.3f MB", float64(n)/1e6) }

func kb(n int64) string { return fmt.Sprintf("%d KB", (n+500)/1000) }

// figures of the bring-up table, in order: label, what it measures.
var figures = []struct {
	label string
	f     func(marks) time.Duration
}{
	{"(a) Run /init → tunnel up, excluding module loading", marks.noMods},
	{"(b) Run /init → tunnel up, including module loading", marks.withMods},
	{"(c) config only: modules loaded → tunnel up", marks.config},
	{"Run /init → first statement (program start)", marks.preMain},
	{"module loading (wireguard and its dependencies)", marks.modules},
	{"initramfs unpacking (kernel, before /init)", marks.unpack},
	{"kernel start → tunnel up", func(m marks) time.Duration { return m.up }},
}

func (r *report) markdown() string {
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	p("# Boot benchmarks\n\n")
	p("Produced by `make bench` (bench/cmd/bootbench) on %s in %v. Method and caveats: [docs/benchmarks.md](../docs/benchmarks.md).\n\n", r.env.date, r.elapsed.Round(time.Second))
	p("- host: %s, %d cores\n- %s; QEMU TCG (no KVM), 1 vCPU, 512 MB, guests booted one at a time\n", r.env.cpu, r.env.cores, r.env.qemu)
	var ks []string
	for _, a := range r.arches {
		ks = append(ks, a.arch+" "+r.env.kernels[a.arch])
	}
	p("- kernels: Debian cloud %s\n- %s\n", strings.Join(ks, ", "), r.env.goVersion)
	p("- every figure is the median of %d boots per variant and arch, the variants interleaved in rotating order; times are the kernel's printk stamps (printk.devkmsg=on); MB = 10⁶ bytes\n\n", r.boots)

	p("## Headline\n\nwg-quick-style initramfs ÷ wgboot, same job (load wireguard; one tunnel, one peer, address, MTU, up, route), same guest:\n\n")
	p("| arch | (a) Run /init → up, excl. modules | (b) incl. modules | (c) config only | kernel start → up | image, xz | init peak RSS |\n|---|---:|---:|---:|---:|---:|---:|\n")
	for _, a := range r.arches {
		cell := func(f func(marks) time.Duration) string {
			s, w := a.med(vScript, f), a.med(vWgboot, f)
			return fmt.Sprintf("%s → %s ms, **%s**", fms(s), fms(w), ratio(s, w))
		}
		wq, wb := a.size("wg-quick-style"), a.size("wgboot, bench")
		p("| %s | %s | %s | %s | %s | %s → %s, **%s** | %d KiB |\n", a.arch, cell(marks.noMods), cell(marks.withMods), cell(marks.config), cell(func(m marks) time.Duration { return m.up }),
			mb(wq.xz), mb(wb.xz), ratio(time.Duration(wq.xz), time.Duration(wb.xz)), a.medRSS(vWgboot))
	}
	p("\nGoals: (a) ≥ 3× and (c) ≥ 5× on both arches; the default image ≤ 1.0 MB xz on amd64.\n\n")
	for _, a := range r.arches {
		ga := float64(a.med(vScript, marks.noMods)) / float64(a.med(vWgboot, marks.noMods))
		gc := float64(a.med(vScript, marks.config)) / float64(a.med(vWgboot, marks.config))
		p("- %s: (a) %.2f× %s, (c) %.2f× %s", a.arch, ga, met(ga >= 3), gc, met(gc >= 5))
		if a.arch == "amd64" {
			d := a.size("**wgboot, default")
			p(", default image %s xz %s", mb(d.xz), met(d.xz <= 1_000_000))
		}
		p("\n")
	}
	p("\n")

	for _, a := range r.arches {
		r.archSection(&b, a)
	}

	p("## Boot timeline\n\n")
	for _, a := range r.arches {
		if a.svg == "" {
			continue
		}
		rel, err := filepath.Rel("bench", a.svg)
		if err != nil || strings.HasPrefix(a.svg, "out") {
			rel = a.svg // a scratch file: not part of the committed report
		}
		p("%s, one boot of bench/profile/timeline.toml handing off to a root disk (as `go run ./cmd/wgboot timeline -console console.log state.json > boot.svg` draws it): ", a.arch)
		if strings.HasPrefix(a.svg, "out") {
			p("`%s`\n\n", a.svg)
		} else {
			p("\n\n![%s boot timeline](%s)\n\n", a.arch, rel)
		}
		p("%s\n", stateTable(a.state))
	}

	p("## Peer scaling (bench/wgpeers)\n\n")
	if len(r.peers) == 0 {
		p("Not run (-peers=skip).\n\n")
	}
	for _, pr := range r.peers {
		if pr.note != "" {
			p("%s\n\n", pr.note)
		}
		if pr.text != "" {
			p("%s\n\n", pr.text)
		}
	}
	return b.String()
}

func met(ok bool) string {
	if ok {
		return "met"
	}
	return "**not met**"
}

func (a *archRun) size(prefix string) sizeRow {
	for _, s := range a.sizes {
		if strings.HasPrefix(s.name, prefix) {
			return s
		}
	}
	return sizeRow{}
}

func (r *report) archSection(b *strings.Builder, a *archRun) {
	p := func(format string, args ...any) { fmt.Fprintf(b, format, args...) }
	p("## %s guest\n\n### Bring-up\n\nMedian of %d boots, ms. Ratios are wg-quick-style ÷ wgboot, and wg-quick-style ÷ a minimal Go PID 1 doing the same requests with wgboot's packages and nothing else (bench/cmd/steps): the best a Go implementation can hope for.\n\n", a.arch, len(a.runs[vWgboot]))
	p("| | wgboot | wg-quick-style | ratio | minimal Go | ratio |\n|---|---:|---:|---:|---:|---:|\n")
	for _, f := range figures {
		s, w, g := a.med(vScript, f.f), a.med(vWgboot, f.f), a.med(vSteps, f.f)
		p("| %s | %s | %s | **%s** | %s | %s |\n", f.label, fms(w), fms(s), ratio(s, w), fms(g), ratio(s, g))
	}
	p("| init peak RSS (VmHWM) at handoff, KiB | %d | %d (ash, PID 1) | | | |\n\n", a.medRSS(vWgboot), a.medRSS(vScript))
	if len(a.busy) > 0 {
		bs := slices.Clone(a.busy)
		slices.Sort(bs)
		noisy := 0
		for _, x := range bs {
			if x >= busyLimit {
				noisy++
			}
		}
		p("Host CPUs busy (others' work) in the second before each boot: median %.0f%%, max %.0f%%; %d of %d boots started above %.0f%%.\n\n", 100*bs[len(bs)/2], 100*bs[len(bs)-1], noisy, len(bs), 100*busyLimit)
	}

	p("Where wgboot's time goes (its READY line, median ms): ")
	var parts []string
	for i, name := range phaseNames {
		var ds []time.Duration
		for _, m := range a.runs[vWgboot] {
			ds = append(ds, m.phases[i])
		}
		parts = append(parts, fmt.Sprintf("%s %s", name, fms(median(ds))))
	}
	p("%s. The kernel's share of the tunnel, request by request (minimal Go, median ms from modules loaded): ", strings.Join(parts, ", "))
	parts = parts[:0]
	for i, name := range stepNames {
		parts = append(parts, fmt.Sprintf("%s %s", name, fms(a.med(vSteps, func(m marks) time.Duration { return m.step(i) }))))
	}
	p("%s.\n\n", strings.Join(parts, ", "))
	cold, warm, cons := a.med(vSteps, marks.profileCold), a.med(vSteps, marks.profileWarm), a.med(vSteps, marks.consoleCost)
	p("Under TCG, code is slow the first time it runs (QEMU translates it): the minimal Go PID 1 reads the bench profile (board.Load) in %s ms cold and %s ms warm, after the tunnel is up (%s). Every line on the serial console is printed synchronously by its writer: %.1f µs per character here (a %d-character line took %s ms); at 115200 baud on hardware it is 87 µs.\n\n",
		fms(cold), fms(warm), ratio(cold, warm), float64(cons)/float64(time.Microsecond)/float64(consoleLine+40), consoleLine+40, fms(cons))

	p("### Before main\n\nRun /init → the program's first statement (kernel-stamped marker), median of %d boots.\n\n", len(a.runs[vProbe]))
	p("| /init | size | Run /init → main, ms |\n|---|---:|---:|\n")
	p("| Go floor: runtime + syscall only (bench/cmd/probe) | %s | %s |\n", kb(a.variant(vProbe).initSize), fms(a.med(vProbe, marks.preMain)))
	p("| minimal Go with wgboot's packages (bench/cmd/steps) | %s | %s |\n", kb(a.variant(vSteps).initSize), fms(a.med(vSteps, marks.preMain)))
	p("| wgboot | %s | %s (a %s, c %s, kernel start → up %s) |\n", kb(a.variant(vWgboot).initSize), fms(a.med(vWgboot, marks.preMain)), fms(a.med(vWgboot, marks.noMods)), fms(a.med(vWgboot, marks.config)), fms(a.med(vWgboot, func(m marks) time.Duration { return m.up })))
	for _, v := range a.variants {
		if v.name != vWgboot && v.name != vScript && v.name != vProbe && v.name != vSteps {
			p("| variant %s | %s | %s (a %s, c %s, kernel start → up %s) |\n", v.name, kb(v.initSize), fms(a.med(v.name, marks.preMain)), fms(a.med(v.name, marks.noMods)), fms(a.med(v.name, marks.config)), fms(a.med(v.name, func(m marks) time.Duration { return m.up })))
		}
	}
	p("| busybox ash running the /init script (busybox alone) | %s | %s |\n\n", kb(int64(len(mustRead(".cache/bench/wgquick/"+a.arch+"/bin/busybox")))), fms(a.med(vScript, marks.preMain)))
	var total time.Duration
	var allocs, bytes int
	for _, t := range a.trace {
		total += t.clock
		allocs += t.allocs
		bytes += t.bytes
	}
	top := slices.Clone(a.trace)
	sort.SliceStable(top, func(i, j int) bool { return top[i].clock > top[j].clock })
	var names []string
	for _, t := range top[:min(6, len(top))] {
		names = append(names, fmt.Sprintf("%s %.2f ms", t.pkg, ms(t.clock)))
	}
	p("wgboot's package initialisers (GODEBUG=inittrace=1, one more boot): %d packages, %.1f ms in all, %d allocations, %d bytes; the largest: %s.\n\n", len(a.trace), ms(total), allocs, bytes, strings.Join(names, ", "))

	p("### Size\n\n| image | contents | binaries | cpio | cpio.xz |\n|---|---|---:|---:|---:|\n")
	for _, s := range a.sizes {
		bin := ""
		if s.bin > 0 {
			bin = s.binWhat + " " + mb(s.bin)
		}
		p("| %s | %s | %s | %s | %s |\n", s.name, s.what, bin, mb(s.raw), mb(s.xz))
	}
	wq, wb, ur, def := a.size("wg-quick-style"), a.size("wgboot, bench"), a.size("u-root"), a.size("**wgboot, default")
	p("\nThe wg-quick-style image is %s the wgboot bench image raw and %s compressed; its shared libraries alone are %s raw. ", ratio(time.Duration(wq.raw), time.Duration(wb.raw)), ratio(time.Duration(wq.xz), time.Duration(wb.xz)), mb(a.libBytes))
	p("u-root with only init and gosh is %s the complete default wgboot image compressed. ", ratio(time.Duration(ur.xz), time.Duration(def.xz)))
	unpackW, unpackS := a.med(vWgboot, marks.unpack), a.med(vScript, marks.unpack)
	if d := wq.xz - wb.xz; d > 0 {
		p("Unpacking took %s ms more for the wg-quick-style image: %.2f ms per compressed KB.\n\n", fms(unpackS-unpackW), ms(unpackS-unpackW)/(float64(d)/1000))
	} else {
		p("\n\n")
	}
}

func mustRead(path string) []byte {
	b, _ := os.ReadFile(path)
	return b
}

// stateTable renders the phases of a state file.
func stateTable(data []byte) string {
	var s bootstate.State
	if json.Unmarshal(data, &s) != nil {
		return ""
	}
	var b strings.Builder
	fmt.Fprintf(&b, "| phase (the state file's CLOCK_BOOTTIME; the picture uses the kernel log's clock) | starts at, ms | duration, ms |\n|---|---:|---:|\n")
	fmt.Fprintf(&b, "| kernel, initramfs, Go runtime | 0.0 | %s |\n", fms(s.StartUptimeNS))
	for _, ph := range s.Phases {
		fmt.Fprintf(&b, "| %s | %s | %s |\n", ph.Name, fms(s.StartUptimeNS+ph.Start), fms(ph.Dur))
	}
	fmt.Fprintf(&b, "| state written, handoff | %s | |\n\ninit peak RSS %d KiB.\n", fms(s.WrittenNS), s.PeakRSSKB)
	return b.String()
}

// peerTable runs (or reuses) bench/wgpeers for arch and returns its table.
func peerTable(o options, arch string) (peerResult, error) {
	res := peerResult{arch: arch}
	if o.peers == "skip" {
		return res, nil
	}
	md := filepath.Join("out", "bench", "wgpeers-"+arch+".md")
	if o.peers == "run" {
		logf("%s: peer scaling: bench/wgpeers/run.sh %s (WGBENCH_ARGS=%s)", arch, arch, o.peersArgs)
		logPath := filepath.Join(o.work, "wgpeers-"+arch+".log")
		f, err := os.Create(logPath)
		if err != nil {
			return res, err
		}
		defer f.Close()
		start := time.Now()
		cmd := exec.Command("bench/wgpeers/run.sh", arch)
		cmd.Env = append(os.Environ(), "WGBENCH_ARGS="+o.peersArgs)
		cmd.Stdout, cmd.Stderr = f, f
		if err := cmd.Run(); err != nil {
			return res, fmt.Errorf("bench/wgpeers/run.sh %s: %w (log: %s)", arch, err, logPath)
		}
		logf("%s: peer scaling done in %v", arch, time.Since(start).Round(time.Second))
	}
	data, err := os.ReadFile(md)
	if err != nil {
		return res, fmt.Errorf("%w (run with -peers=run)", err)
	}
	if o.peers == "reuse" {
		if st, err := os.Stat(md); err == nil {
			res.note = fmt.Sprintf("Reused from %s, written %s (not this run).", md, st.ModTime().UTC().Format("2006-01-02 15:04 UTC"))
		}
	}
	// Keep the title (as a heading one level down) and the table; the raw
	// runs stay in the file.
	text, _, _ := strings.Cut(string(data), "\nRuns:")
	text = strings.TrimSpace(text)
	if strings.HasPrefix(text, "# ") {
		text = "###" + text[1:]
	}
	res.text = text
	return res, nil
}
