package main

import (
	"encoding/json"
	"fmt"
	"os"
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

// peerResult is bench/wgpeers' report for one arch and clock.
type peerResult struct {
	arch  string
	clock clock
	text  string
	note  string
	table peerTableRows
}

type report struct {
	env      hostInfo
	clocks   []clock
	boots    map[clock]int
	quick    bool
	arches   []*archRun
	peers    []peerResult
	elapsed  time.Duration
	lockWait time.Duration // of elapsed, waiting for -lock
}

// Goals, on instruction time and both arches: wg-quick-style ÷ wgboot for
// (a) and (c), wgboot ÷ wg setconf at 10,000 peers (parsing included), and
// the default image's xz size.
const (
	goalA     = 4.0
	goalC     = 8.0
	goalPeers = 1.0
	goalPeerN = 10000
)

// imageBudget is the default image's budget, xz, by arch (MB = 10⁶ bytes).
var imageBudget = map[string]int64{"amd64": 1_200_000, "arm64": 1_050_000}

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

// med is the median of one figure over a variant's boots on clock c.
func (a *archRun) med(c clock, variant string, f func(marks) time.Duration) time.Duration {
	var ds []time.Duration
	for _, m := range a.runs[c][variant] {
		ds = append(ds, f(m))
	}
	return median(ds)
}

// spread is max − min of one figure over a variant's boots on clock c.
func (a *archRun) spread(c clock, variant string, f func(marks) time.Duration) time.Duration {
	var lo, hi time.Duration
	for i, m := range a.runs[c][variant] {
		d := f(m)
		if i == 0 || d < lo {
			lo = d
		}
		if i == 0 || d > hi {
			hi = d
		}
	}
	return hi - lo
}

func (a *archRun) medRSS(c clock, variant string) int {
	var ds []time.Duration
	for _, m := range a.runs[c][variant] {
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

func fratio(a, b time.Duration) float64 {
	if b <= 0 {
		return 0
	}
	return float64(a) / float64(b)
}

func mb(n int64) string { return fmt.Sprintf("%.3f MB", float64(n)/1e6) }

func kb(n int64) string { return fmt.Sprintf("%d KB", (n+500)/1000) }

func upTime(m marks) time.Duration { return m.up }

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
	{"kernel start → tunnel up", upTime},
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

func (r *report) has(c clock) bool { return slices.Contains(r.clocks, c) }

// peers returns the peer table of arch on clock c, if one was run.
func (r *report) peerRows(arch string, c clock) (peerTableRows, bool) {
	for _, p := range r.peers {
		if p.arch == arch && p.clock == c && len(p.table.n) > 0 {
			return p.table, true
		}
	}
	return peerTableRows{}, false
}

// peerCell is the goal's column ÷ wg setconf at the largest N measured,
// and the wgboot column's ratio beside it when the goal's is /init's.
func (r *report) peerCell(arch string, c clock) string {
	t, ok := r.peerRows(arch, c)
	if !ok {
		return "not run"
	}
	n := t.n[len(t.n)-1]
	col := t.goalCol()
	w, s := t.get(n, col), t.get(n, "wg setconf")
	cell := fmt.Sprintf("%s: %.1f vs %.1f, **%.2f×**", peersLabel(n), w, s, w/s)
	if col == colInit {
		cell = fmt.Sprintf("%s, as /init: %.1f vs %.1f, **%.3f×** (the wgboot column %.3f×)", peersLabel(n), w, s, w/s, t.get(n, colWgboot)/s)
	}
	return cell
}

func peersLabel(n int) string {
	if n >= 10000 {
		return fmt.Sprintf("%d,%03d peers", n/1000, n%1000)
	}
	return fmt.Sprintf("%d peers", n)
}

func (r *report) markdown() string {
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	title := "Boot benchmarks"
	if r.quick {
		title += " (quick: `make bench-quick`)"
	}
	p("# %s\n\n", title)
	cmd := "make bench"
	if r.quick {
		cmd = "make bench-quick"
	}
	took := r.elapsed.Round(time.Second).String()
	if r.lockWait > 0 {
		took += fmt.Sprintf(" (%v of it waiting for the QEMU lock)", r.lockWait.Round(time.Second))
	}
	p("Produced by `%s` (bench/cmd/bootbench) on %s in %s. Method and caveats: [docs/benchmarks.md](../docs/benchmarks.md).\n\n", cmd, r.env.date, took)
	p("- host: %s, %d cores\n- %s; 1 vCPU, 512 MB, guests booted one at a time\n", r.env.cpu, r.env.cores, r.env.qemu)
	var ks []string
	for _, a := range r.arches {
		ks = append(ks, a.arch+" "+r.env.kernels[a.arch])
	}
	p("- kernels: Debian cloud %s\n- %s\n", strings.Join(ks, ", "), r.env.goVersion)
	for _, c := range r.clocks {
		switch c {
		case clockICount:
			p("- **instruction time** (the headline): QEMU's `-icount shift=0,sleep=off` advances the guest clock 1 ns per instruction executed, so the kernel's stamps count instructions (1 instruction-ms = 10⁶ instructions); repeat boots agree, the host's load and QEMU translating code do not count. Medians of %d boots per variant and arch.\n", r.boots[c])
		case clockTCG:
			p("- **TCG wall time**: QEMU's TCG as it normally runs, the guest clock is host time, including QEMU translating code the first time it runs (which a board never pays). Medians of %d boots per variant and arch, the variants interleaved in rotating order.\n", r.boots[c])
		}
	}
	p("- times are the kernel's printk stamps (printk.devkmsg=on); ratios are against the baseline measured in the same run; MB = 10⁶ bytes\n\n")

	for i, c := range r.clocks {
		if i == 0 {
			p("## Headline: %s\n\n", c.title())
		} else {
			p("## %s\n\n", c.title())
		}
		p("wg-quick-style initramfs ÷ wgboot, same job (load wireguard; one tunnel, one peer, address, MTU, up, route), same guest, %s; peer scaling is wgboot ÷ `wg setconf` (parsing included), lower is better:\n\n", c.unit())
		p("| arch | (a) Run /init → up, excl. modules | (b) incl. modules | (c) modules loaded → up | Run /init → main | kernel start → up | peer scaling, wgboot ÷ wg setconf |\n|---|---:|---:|---:|---:|---:|---:|\n")
		for _, a := range r.arches {
			cell := func(f func(marks) time.Duration) string {
				s, w := a.med(c, vScript, f), a.med(c, vWgboot, f)
				return fmt.Sprintf("%s → %s, **%s**", fms(s), fms(w), ratio(s, w))
			}
			p("| %s | %s | %s | %s | %s | %s | %s |\n", a.arch, cell(marks.noMods), cell(marks.withMods), cell(marks.config), cell(marks.preMain), cell(upTime), r.peerCell(a.arch, c))
		}
		p("\n")
		if c == clockICount {
			r.goals(&b)
		}
	}
	r.budget(&b)

	for _, a := range r.arches {
		r.archSection(&b, a)
	}

	if r.arches != nil && r.arches[0].state != nil {
		p("## Boot timeline\n\n")
	}
	for _, a := range r.arches {
		if a.svg == "" {
			continue
		}
		rel, err := filepath.Rel("bench", a.svg)
		if err != nil || strings.HasPrefix(a.svg, "out") {
			rel = a.svg // a scratch file: not part of the committed report
		}
		p("%s, one boot of bench/profile/timeline.toml handing off to a root disk, %s (as `go run ./cmd/wgboot timeline -console console.log state.json > boot.svg` draws it): ", a.arch, a.timelineClock.title())
		if strings.HasPrefix(a.svg, "out") {
			p("`%s`\n\n", a.svg)
		} else {
			p("\n\n![%s boot timeline](%s)\n\n", a.arch, rel)
		}
		p("%s\n", stateTable(a.state, a.timelineClock))
	}

	for _, c := range r.clocks {
		p("## Peer scaling (bench/wgpeers), %s\n\n", c.title())
		n := 0
		for _, pr := range r.peers {
			if pr.clock != c {
				continue
			}
			n++
			if pr.note != "" {
				p("%s\n\n", pr.note)
			}
			if pr.text != "" {
				p("%s\n\n", pr.text)
			}
		}
		if n == 0 {
			p("Not run (-peers=skip).\n\n")
		}
	}
	return b.String()
}

// goals prints where each goal stands, on instruction time.
func (r *report) goals(b *strings.Builder) {
	p := func(format string, args ...any) { fmt.Fprintf(b, format, args...) }
	p("Goals, instruction time, both arches: (a) ≥ %.0f× and (c) ≥ %.0f× against the wg-quick-style initramfs; %s ≤ %.1f× `wg setconf` with parsing included; the default image within its budget (xz).\n\n", goalA, goalC, peersLabel(goalPeerN), goalPeers)
	p("| goal |")
	for _, a := range r.arches {
		p(" %s |", a.arch)
	}
	p("\n|---|")
	for range r.arches {
		p("---|")
	}
	p("\n| (a) ≥ %.0f× |", goalA)
	for _, a := range r.arches {
		g := fratio(a.med(clockICount, vScript, marks.noMods), a.med(clockICount, vWgboot, marks.noMods))
		p(" %.2f× %s (%s instruction-ms; %.0f× is %s) |", g, met(g >= goalA), fms(a.med(clockICount, vWgboot, marks.noMods)), goalA, fms(time.Duration(float64(a.med(clockICount, vScript, marks.noMods))/goalA)))
	}
	p("\n| (c) ≥ %.0f× |", goalC)
	for _, a := range r.arches {
		g := fratio(a.med(clockICount, vScript, marks.config), a.med(clockICount, vWgboot, marks.config))
		p(" %.2f× %s (%s instruction-ms; %.0f× is %s) |", g, met(g >= goalC), fms(a.med(clockICount, vWgboot, marks.config)), goalC, fms(time.Duration(float64(a.med(clockICount, vScript, marks.config))/goalC)))
	}
	p("\n| %s ≤ %.1f× wg setconf |", peersLabel(goalPeerN), goalPeers)
	for _, a := range r.arches {
		t, ok := r.peerRows(a.arch, clockICount)
		switch {
		case !ok:
			p(" not measured (-peers=skip) |")
		case !slices.Contains(t.n, goalPeerN):
			n := t.n[len(t.n)-1]
			p(" not measured (largest N %d: %.2f×) |", n, t.get(n, t.goalCol())/t.get(n, "wg setconf"))
		case t.goalCol() == colInit:
			s := t.get(goalPeerN, "wg setconf")
			g := t.get(goalPeerN, colInit) / s
			p(" %.3f× %s, as /init (the wgboot column %.3f×) |", g, met(g <= goalPeers), t.get(goalPeerN, colWgboot)/s)
		default:
			g := t.get(goalPeerN, colWgboot) / t.get(goalPeerN, "wg setconf")
			p(" %.2f× %s |", g, met(g <= goalPeers))
		}
	}
	p("\n| default image ≤ budget, xz |")
	for _, a := range r.arches {
		d := a.size("**wgboot, default").xz
		p(" %s ≤ %s: %s (%+d KB) |", mb(d), mb(imageBudget[a.arch]), met(d <= imageBudget[a.arch]), (d-imageBudget[a.arch])/1000)
	}
	p("\n\n")
}

// budget prints the default image against its budget and what it is made
// of, and /init by package.
func (r *report) budget(b *strings.Builder) {
	p := func(format string, args ...any) { fmt.Fprintf(b, format, args...) }
	p("## Image budget\n\nThe default image (`make image`: /init, the QEMU board's profile and keys, its modules), xz as the kernel wants it, against its budget; /init alone compressed the same way.\n\n")
	p("| arch | default image, xz | budget | over (+) / under (−) | /init | /init, xz | the rest (modules, profile, keys), xz |\n|---|---:|---:|---:|---:|---:|---:|\n")
	for _, a := range r.arches {
		d := a.size("**wgboot, default")
		p("| %s | %s | %s | %+d KB | %s | %s | %s |\n", a.arch, mb(d.xz), mb(imageBudget[a.arch]), (d.xz-imageBudget[a.arch])/1000, mb(d.bin), mb(a.initXZ), mb(d.xz-a.initXZ))
	}
	// The QEMU board's own drivers are in the default image; a board
	// whose kernel has its NIC and disk drivers built in ships the
	// wireguard closure only, as the bench profile's image does.
	p("\nWithout the QEMU board's own drivers (virtio_pci, virtio_net, virtio_blk and their dependencies), the same /init with the wireguard module closure and the bench profile:")
	for _, a := range r.arches {
		w := a.size("wgboot, bench profile").xz
		p(" %s %s (%+d KB against the budget);", a.arch, mb(w), (w-imageBudget[a.arch])/1000)
	}
	p(" what a board whose kernel has its NIC and disk drivers built in would flash.\n")
	p("\nxz as make image chooses for the kernel (image.XZFor), for every image in this report:")
	for _, a := range r.arches {
		p(" %s %s;", a.arch, xzWhat(a))
	}
	p(" LZMA2 preset 9e, CRC32.\n\n")
	for _, a := range r.arches {
		if len(a.pkgs) == 0 {
			p("/init by package, %s: not measured (-by-package=false; -quick).\n\n", a.arch)
			continue
		}
		p("### /init by package, %s\n\n%s\n", a.arch, pkgTable(a.pkgs, a.initXZ))
	}
}

func (r *report) archSection(b *strings.Builder, a *archRun) {
	p := func(format string, args ...any) { fmt.Fprintf(b, format, args...) }
	p("## %s guest\n\n", a.arch)
	for _, c := range r.clocks {
		minimal := len(a.runs[c][vSteps]) > 0
		if !minimal {
			p("### Bring-up, %s\n\nMedian of %d boots, %s. Ratios are wg-quick-style ÷ wgboot (the minimal Go PID 1 was not booted: -minimal=false, -quick).\n\n", c.title(), len(a.runs[c][vWgboot]), c.unit())
			p("| | wgboot | wg-quick-style | ratio |\n|---|---:|---:|---:|\n")
			for _, f := range figures {
				s, w := a.med(c, vScript, f.f), a.med(c, vWgboot, f.f)
				p("| %s | %s | %s | **%s** |\n", f.label, fms(w), fms(s), ratio(s, w))
			}
			p("| init peak RSS (VmHWM) at handoff, KiB | %d | %d (ash, PID 1) | |\n\n", a.medRSS(c, vWgboot), a.medRSS(c, vScript))
		} else {
			p("### Bring-up, %s\n\nMedian of %d boots, %s. Ratios are wg-quick-style ÷ wgboot, and wg-quick-style ÷ a minimal Go PID 1 doing the same requests with the code PID 1 runs (netsetup/bringup) and nothing else (bench/cmd/steps).\n\n", c.title(), len(a.runs[c][vWgboot]), c.unit())
			p("| | wgboot | wg-quick-style | ratio | minimal Go | ratio |\n|---|---:|---:|---:|---:|---:|\n")
			for _, f := range figures {
				s, w, g := a.med(c, vScript, f.f), a.med(c, vWgboot, f.f), a.med(c, vSteps, f.f)
				p("| %s | %s | %s | **%s** | %s | %s |\n", f.label, fms(w), fms(s), ratio(s, w), fms(g), ratio(s, g))
			}
			p("| init peak RSS (VmHWM) at handoff, KiB | %d | %d (ash, PID 1) | | | |\n\n", a.medRSS(c, vWgboot), a.medRSS(c, vScript))
		}
		if c == clockICount && len(a.runs[c][vWgboot]) > 1 {
			p("Spread over the boots (max − min), instruction-ms: wgboot (a) %s, (c) %s; wg-quick-style (a) %s, (c) %s.\n\n",
				fms(a.spread(c, vWgboot, marks.noMods)), fms(a.spread(c, vWgboot, marks.config)), fms(a.spread(c, vScript, marks.noMods)), fms(a.spread(c, vScript, marks.config)))
		}
		if c == clockTCG && len(a.busy) > 0 {
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

		p("Where wgboot's time goes (its READY line, median %s): ", c.unit())
		var parts []string
		for i, name := range phaseNames {
			var ds []time.Duration
			for _, m := range a.runs[c][vWgboot] {
				ds = append(ds, m.phases[i])
			}
			parts = append(parts, fmt.Sprintf("%s %s", name, fms(median(ds))))
		}
		if !minimal {
			p("%s.\n\n", strings.Join(parts, ", "))
			continue
		}
		p("%s. The bring-up step by step (minimal Go, median %s from modules loaded; in parentheses the same step for a second tunnel brought up after the first, when its code and the kernel's have run once): ", strings.Join(parts, ", "), c.unit())
		parts = parts[:0]
		for i, name := range stepNames {
			cold := fms(a.med(c, vSteps, func(m marks) time.Duration { return m.step(i) }))
			if i == 0 {
				parts = append(parts, fmt.Sprintf("%s %s (not repeated)", name, cold))
				continue
			}
			parts = append(parts, fmt.Sprintf("%s %s (%s)", name, cold, fms(a.med(c, vSteps, func(m marks) time.Duration { return m.warmStep(i) }))))
		}
		warm := a.med(c, vSteps, marks.warmConfig)
		p("%s. The second tunnel took %s %s from start to end: %s against the wg-quick-style (c).\n\n", strings.Join(parts, ", "), fms(warm), c.unit(), ratio(a.med(c, vScript, marks.config), warm))
		cold, warm, cons := a.med(c, vSteps, marks.profileCold), a.med(c, vSteps, marks.profileWarm), a.med(c, vSteps, marks.consoleCost)
		p("The minimal Go PID 1 reads the bench profile (board.Load) in %s %s cold and %s warm, after the tunnel is up (%s). A console line of %d characters took %s %s to print (%.2f µs per character); at 115200 baud on hardware it is 87 µs.\n\n",
			fms(cold), c.unit(), fms(warm), ratio(cold, warm), consoleLine+40, fms(cons), c.unit(), float64(cons)/float64(time.Microsecond)/float64(consoleLine+40))
	}

	r.variantTable(b, a)

	p("### Before main\n\nRun /init → the program's first statement (kernel-stamped marker), median of the boots above; the ratio is busybox ash ÷ the program.\n\n")
	p("| /init | size |")
	for _, c := range r.clocks {
		p(" %s, %s | ratio |", c.title(), c.unit())
	}
	p("\n|---|---:|")
	for range r.clocks {
		p("---:|---:|")
	}
	p("\n")
	row := func(label, variant string, size int64) {
		p("| %s | %s |", label, kb(size))
		for _, c := range r.clocks {
			s, v := a.med(c, vScript, marks.preMain), a.med(c, variant, marks.preMain)
			p(" %s | %s |", fms(v), ratio(s, v))
		}
		p("\n")
	}
	if a.variant(vProbe).name != "" {
		row("Go floor: runtime + syscall only (bench/cmd/probe)", vProbe, a.variant(vProbe).initSize)
		row("minimal Go with wgboot's packages (bench/cmd/steps)", vSteps, a.variant(vSteps).initSize)
	}
	row("wgboot", vWgboot, a.variant(vWgboot).initSize)
	for _, v := range a.variants {
		if v.name != vWgboot && v.name != vScript && v.name != vProbe && v.name != vSteps {
			row("variant "+v.name, v.name, v.initSize)
		}
	}
	row("busybox ash running the /init script (busybox alone)", vScript, int64(len(mustRead(".cache/bench/wgquick/"+a.arch+"/bin/busybox"))))
	p("\n")
	for _, c := range r.clocks {
		if len(a.trace[c]) == 0 {
			continue
		}
		var total time.Duration
		var allocs, bytes int
		for _, t := range a.trace[c] {
			total += t.clock
			allocs += t.allocs
			bytes += t.bytes
		}
		top := slices.Clone(a.trace[c])
		sort.SliceStable(top, func(i, j int) bool { return top[i].clock > top[j].clock })
		var names []string
		for _, t := range top[:min(6, len(top))] {
			names = append(names, fmt.Sprintf("%s %.2f", t.pkg, ms(t.clock)))
		}
		p("wgboot's package initialisers, %s (GODEBUG=inittrace=1, one more boot): %d packages, %.1f %s in all, %d allocations, %d bytes; the largest: %s.\n\n", c.title(), len(a.trace[c]), ms(total), c.unit(), allocs, bytes, strings.Join(names, ", "))
	}

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
	if ur.xz > 0 {
		p("u-root with only init and gosh is %s the complete default wgboot image compressed.", ratio(time.Duration(ur.xz), time.Duration(def.xz)))
	}
	for _, c := range r.clocks {
		unpackW, unpackS := a.med(c, vWgboot, marks.unpack), a.med(c, vScript, marks.unpack)
		if d := wq.xz - wb.xz; d > 0 {
			p(" Unpacking took %s %s more for the wg-quick-style image (%s): %.3f %s per compressed KB.", fms(unpackS-unpackW), c.unit(), c.title(), ms(unpackS-unpackW)/(float64(d)/1000), c.unit())
		}
	}
	p("\n\n")
}

func mustRead(path string) []byte {
	b, _ := os.ReadFile(path)
	return b
}

// stateTable renders the phases of a state file.
func stateTable(data []byte, c clock) string {
	var s bootstate.State
	if json.Unmarshal(data, &s) != nil {
		return ""
	}
	var b strings.Builder
	fmt.Fprintf(&b, "| phase (the state file's CLOCK_BOOTTIME; the picture uses the kernel log's clock) | starts at, %s | duration, %s |\n|---|---:|---:|\n", c.unit(), c.unit())
	fmt.Fprintf(&b, "| kernel, initramfs, Go runtime | 0.0 | %s |\n", fms(s.StartUptimeNS))
	for _, ph := range s.Phases {
		fmt.Fprintf(&b, "| %s | %s | %s |\n", ph.Name, fms(s.StartUptimeNS+ph.Start), fms(ph.Dur))
	}
	fmt.Fprintf(&b, "| state written, handoff | %s | |\n\ninit peak RSS %d KiB.\n", fms(s.WrittenNS), s.PeakRSSKB)
	return b.String()
}

// variantTable compares the experimental builds (-variant) with wgboot.
func (r *report) variantTable(b *strings.Builder, a *archRun) {
	var vs []bootVariant
	for _, v := range a.variants {
		if v.name != vWgboot && v.name != vScript && v.name != vProbe && v.name != vSteps {
			vs = append(vs, v)
		}
	}
	if len(vs) == 0 {
		return
	}
	p := func(format string, args ...any) { fmt.Fprintf(b, format, args...) }
	phase := func(name string) func(marks) time.Duration {
		i := slices.Index(phaseNames[:], name)
		return func(m marks) time.Duration { return m.phases[i] }
	}
	cols := []struct {
		label string
		f     func(marks) time.Duration
	}{{"(a)", marks.noMods}, {"(c)", marks.config}, {"Run /init → main", marks.preMain}, {"profile phase", phase("profile")}, {"tunnels phase", phase("tunnels")}}
	for _, c := range r.clocks {
		p("### Experimental builds (-variant), %s\n\nMedian %s; the ratio is wgboot ÷ the variant (above 1: the variant is faster).\n\n| /init | size | xz |", c.title(), c.unit())
		for _, col := range cols {
			p(" %s | ratio |", col.label)
		}
		p("\n|---|---:|---:|")
		for range cols {
			p("---:|---:|")
		}
		p("\n")
		row := func(label, name string, size int64) {
			xz, err := xzSize(filepath.Join(a.dir, "variant-bin-"+slug(name)), a.xz)
			if name == vWgboot {
				xz, err = a.initXZ, nil
			}
			xs := "–"
			if err == nil {
				xs = kb(xz)
			}
			p("| %s | %s | %s |", label, kb(size), xs)
			for _, col := range cols {
				w, v := a.med(c, vWgboot, col.f), a.med(c, name, col.f)
				p(" %s | %s |", fms(v), ratio(w, v))
			}
			p("\n")
		}
		row("wgboot", vWgboot, a.variant(vWgboot).initSize)
		for _, v := range vs {
			row("variant "+v.name, v.name, v.initSize)
		}
		p("\n")
	}
}

// xzWhat says which xz filters the arch's images have, and why.
func xzWhat(a *archRun) string {
	args := strings.Join(xzArgs(a.xz), " ")
	why := a.xzWhy
	// The configuration's directory is this machine's: keep its name.
	if i := strings.LastIndex(why, " in /"); i >= 0 {
		why = why[:i+len(" in ")] + filepath.Base(why[i+len(" in "):])
	}
	return fmt.Sprintf("`%s` (%s)", args, why)
}
