package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/u-root/u-root/pkg/cpio"

	"github.com/wgboot/wgboot/image"
	"github.com/wgboot/wgboot/internal/bootstate"
	"github.com/wgboot/wgboot/internal/timeline"
)

// Variants booted in every round.
const (
	vWgboot = "wgboot"
	vScript = "wg-quick-style"
	vProbe  = "Go floor"
	vSteps  = "Go minimal"
)

// A bootVariant is one kind of guest the rounds boot.
type bootVariant struct {
	name     string
	initrd   string
	append   []string
	set      markerSet
	initSize int64 // the /init binary (busybox for the script)
}

// A sizeRow is one image in the size table.
type sizeRow struct {
	name, what string
	bin        int64 // /init, or the programs it runs
	binWhat    string
	raw, xz    int64
}

// archRun is everything measured on one guest architecture.
type archRun struct {
	arch, kernel, modules, kver string
	dir                         string

	variants []bootVariant
	sizes    []sizeRow
	libBytes int64    // the wg-quick-style image's shared libraries, raw
	xz       image.XZ // how images are compressed: as make image does for this kernel
	xzWhy    string
	initXZ   int64 // /init alone, xz as image.Build compresses
	pkgs     []pkgSize
	runs     map[clock]map[string][]marks // by clock and variant
	busy     []float64                    // the host's busy share before each TCG boot
	trace    map[clock][]initTrace
	state    []byte // the timeline boot's state file
	svg      string
	// the timeline boot's clock
	timelineClock clock
}

func prepare(o options, arch string) (*archRun, error) {
	a := &archRun{
		arch:    arch,
		kernel:  filepath.Join(o.kernels, arch, "vmlinuz"),
		modules: filepath.Join(o.kernels, arch, "modules"),
		dir:     filepath.Join(o.work, arch),
		runs:    map[clock]map[string][]marks{},
		trace:   map[clock][]initTrace{},
	}
	v, err := os.ReadFile(filepath.Join(o.kernels, arch, ".version"))
	if err != nil {
		return nil, err
	}
	a.kver = strings.TrimSpace(string(v))
	if err := os.MkdirAll(a.dir, 0o755); err != nil {
		return nil, err
	}
	logf("%s: preparing images", arch)
	cmd := exec.Command("bench/scripts/debs.sh", arch)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("debs.sh: %w", err)
	}
	debRoot := filepath.Join(".cache", "bench", "wgquick", arch)

	initBin, err := os.ReadFile(filepath.Join(o.initDir, arch, "init"))
	if err != nil {
		return nil, fmt.Errorf("%w (run make build)", err)
	}
	// Every image, the baselines' too, is compressed as make image
	// compresses the default image for this kernel.
	a.xz, a.xzWhy = image.XZFor(arch, a.modules)
	if err := a.initSizes(filepath.Join(o.initDir, arch, "init"), o.byPackage); err != nil {
		return nil, err
	}
	job, err := newBenchJob("bench/profile/bench.toml", filepath.Join(a.dir, "job"))
	if err != nil {
		return nil, err
	}
	pfiles, mods, err := job.profileFiles("bench.toml")
	if err != nil {
		return nil, err
	}
	wgArgs := []string{"wgboot.test=poweroff", "wgbootbench=1"}

	// wgboot with the bench profile: the image booted.
	spec := image.Spec{Init: initBin, ModulesDir: a.modules, Modules: mods, Files: pfiles}
	raw, xz, initrd, err := a.imageSizes(spec, "wgboot-bench")
	if err != nil {
		return nil, err
	}
	a.sizes = append(a.sizes, sizeRow{name: "wgboot, bench profile", what: "/init, the bench profile, the wireguard module closure", bin: int64(len(initBin)), binWhat: "init", raw: raw, xz: xz})
	a.variants = append(a.variants, bootVariant{name: vWgboot, initrd: initrd, append: wgArgs, set: wgbootMarkers, initSize: int64(len(initBin))})

	// The wg-quick-style baseline: the same job, the same modules.
	sfiles, libBytes, err := job.scriptFiles(debRoot)
	if err != nil {
		return nil, err
	}
	a.libBytes = libBytes
	var progs int64
	for _, f := range sfiles {
		switch f.Path {
		case "/bin/busybox", "/bin/ip", "/usr/bin/wg":
			progs += int64(len(f.Data))
		}
	}
	spec = image.Spec{Init: []byte(job.initScript()), ModulesDir: a.modules, Modules: mods, Files: sfiles}
	raw, xz, initrd, err = a.imageSizes(spec, "wgquick-bench")
	if err != nil {
		return nil, err
	}
	a.sizes = append(a.sizes, sizeRow{name: "wg-quick-style, bench job", what: "busybox-static, ip, wg, their shared libraries, the same modules", bin: progs, binWhat: "busybox + ip + wg", raw: raw, xz: xz})
	a.variants = append(a.variants, bootVariant{name: vScript, initrd: initrd, set: scriptMarkers, initSize: progs})

	// The default image, as make image builds it.
	dfiles, dmods, err := image.Profiles([]string{filepath.Join("board", "profiles", "qemu-"+arch+".toml")})
	if err != nil {
		return nil, err
	}
	spec = image.Spec{Init: initBin, ModulesDir: a.modules, Modules: dmods, Files: dfiles}
	if raw, xz, _, err = a.imageSizes(spec, "wgboot-default"); err != nil {
		return nil, err
	}
	a.sizes = append([]sizeRow{{name: "**wgboot, default image** (`make image`)", what: "/init, qemu-" + arch + ".toml and keys, modules: " + strings.Join(dmods, ", ") + " and their dependencies", bin: int64(len(initBin)), binWhat: "init", raw: raw, xz: xz}}, a.sizes...)

	// The modules alone, for scale.
	spec = image.Spec{ModulesDir: a.modules, Modules: mods}
	if raw, xz, _, err = a.imageSizes(spec, "modules"); err != nil {
		return nil, err
	}
	a.sizes = append(a.sizes, sizeRow{name: "the wireguard module closure alone", what: "modules.dep and the .ko files both bench images carry", raw: raw, xz: xz})

	// u-root, core init and gosh; -quick leaves it out (building it
	// takes a minute or two on a fresh clone).
	if !o.quick {
		uraw, ubb, err := urootImage(arch, a.dir)
		if err != nil {
			return nil, fmt.Errorf("u-root: %w", err)
		}
		uxz, err := xzSize(uraw, a.xz)
		if err != nil {
			return nil, err
		}
		st, err := os.Stat(uraw)
		if err != nil {
			return nil, err
		}
		a.sizes = append(a.sizes, sizeRow{name: "u-root, core init + gosh", what: "u-root's busybox (init, gosh) and base files; no modules, no WireGuard", bin: ubb, binWhat: "bb", raw: st.Size(), xz: uxz})
	}

	// The Go floor and the minimal Go PID 1: what the ratios could be (not
	// in -quick).
	if o.minimal {
		// The Go floor: a PID 1 that only writes its marker.
		probe, err := guestBuild(arch, "./bench/cmd/probe", filepath.Join(a.dir, "probe"))
		if err != nil {
			return nil, err
		}
		spec = image.Spec{Init: probe}
		if _, _, initrd, err = a.imageSizes(spec, "probe"); err != nil {
			return nil, err
		}
		a.variants = append(a.variants, bootVariant{name: vProbe, initrd: initrd, set: probeMarkers, initSize: int64(len(probe))})

		// A minimal Go PID 1 doing the job step by step.
		steps, err := guestBuild(arch, "./bench/cmd/steps", filepath.Join(a.dir, "steps"))
		if err != nil {
			return nil, err
		}
		spec = image.Spec{Init: steps, ModulesDir: a.modules, Modules: mods, Files: pfiles}
		if _, _, initrd, err = a.imageSizes(spec, "steps"); err != nil {
			return nil, err
		}
		a.variants = append(a.variants, bootVariant{name: vSteps, initrd: initrd, set: stepsMarkers, initSize: int64(len(steps))})
	}

	// Experimental wgboot builds, same image otherwise.
	for _, v := range o.variants {
		bin, err := os.ReadFile(filepath.Join(v.dir, arch, "init"))
		if err != nil {
			return nil, fmt.Errorf("variant %s: %w", v.name, err)
		}
		if err := os.WriteFile(filepath.Join(a.dir, "variant-bin-"+slug(v.name)), bin, 0o755); err != nil {
			return nil, err
		}
		spec := image.Spec{Init: bin, ModulesDir: a.modules, Modules: mods, Files: pfiles}
		raw, xz, initrd, err := a.imageSizes(spec, "variant-"+v.name)
		if err != nil {
			return nil, err
		}
		a.sizes = append(a.sizes, sizeRow{name: "variant " + v.name + ", bench profile", what: "an experimental wgboot build (-variant)", bin: int64(len(bin)), binWhat: "init", raw: raw, xz: xz})
		spec = image.Spec{Init: bin, ModulesDir: a.modules, Modules: dmods, Files: dfiles}
		if raw, xz, _, err = a.imageSizes(spec, "variant-default-"+v.name); err != nil {
			return nil, err
		}
		a.sizes = append(a.sizes, sizeRow{name: "variant " + v.name + ", default image", what: "the default image with the variant's /init", bin: int64(len(bin)), binWhat: "init", raw: raw, xz: xz})
		a.variants = append(a.variants, bootVariant{name: v.name, initrd: initrd, append: wgArgs, set: wgbootMarkers, initSize: int64(len(bin))})
	}
	return a, nil
}

// bootAll boots every variant on every clock: under TCG o.boots times, in
// rounds whose order rotates so that drift on the host touches every
// variant alike, then wgboot once more with GODEBUG=inittrace=1; under
// -icount o.icountBoots times, which need neither the rotation nor a quiet
// host, but get it all the same.
func (a *archRun) bootAll(o options) error {
	for _, c := range o.clocks {
		boots := o.boots
		if c == clockICount {
			boots = o.icountBoots
		}
		if err := a.bootRounds(o, c, boots); err != nil {
			return fmt.Errorf("%s: %w", c, err)
		}
	}
	return nil
}

func (a *archRun) bootRounds(o options, c clock, boots int) error {
	a.runs[c] = map[string][]marks{}
	n := len(a.variants)
	for round := range boots {
		for k := range n {
			v := a.variants[(round+k)%n]
			logPath := filepath.Join(a.dir, fmt.Sprintf("console-%s-%s-%d.log", c, slug(v.name), round))
			busy := ""
			if c == clockTCG {
				a.busy = append(a.busy, waitQuiet(o.quiet))
				busy = fmt.Sprintf("; host %2.0f%% busy before", 100*a.busy[len(a.busy)-1])
			}
			console, err := boot(image.Config{Arch: a.arch, Kernel: a.kernel, Initrd: v.initrd, Append: v.append, Icount: c == clockICount}, logPath)
			if err != nil {
				return fmt.Errorf("boot %s: %w", v.name, err)
			}
			m, err := parseMarks(console, v.set)
			if err != nil {
				return fmt.Errorf("boot %s (%s): %w", v.name, logPath, err)
			}
			a.runs[c][v.name] = append(a.runs[c][v.name], m)
			if v.set.up != "" {
				logf("%s %s: round %d/%d %-16s Run /init → main %6.1f %s, → tunnel up %6.1f (modules %5.1f)%s", a.arch, c, round+1, boots, v.name, ms(m.preMain()), c.unit(), ms(m.withMods()), ms(m.modules()), busy)
			} else {
				logf("%s %s: round %d/%d %-16s Run /init → main %6.1f %s%s", a.arch, c, round+1, boots, v.name, ms(m.preMain()), c.unit(), busy)
			}
		}
	}
	if !o.inittrace {
		return nil
	}
	v := a.variants[0]
	logPath := filepath.Join(a.dir, "console-"+string(c)+"-inittrace.log")
	if c == clockTCG {
		waitQuiet(o.quiet)
	}
	console, err := boot(image.Config{Arch: a.arch, Kernel: a.kernel, Initrd: v.initrd, Append: append([]string{"GODEBUG=inittrace=1"}, v.append...), Icount: c == clockICount}, logPath)
	if err != nil {
		return fmt.Errorf("boot with inittrace: %w", err)
	}
	a.trace[c] = parseInitTrace(console)
	if len(a.trace[c]) == 0 {
		return fmt.Errorf("no inittrace lines in %s", logPath)
	}
	return nil
}

// timeline boots the timeline profile, which hands off to a root disk
// whose init prints the state file, and draws it as `wgboot timeline`
// does.
func (a *archRun) timeline(o options, first bool) error {
	initBin, err := os.ReadFile(filepath.Join(o.initDir, a.arch, "init"))
	if err != nil {
		return err
	}
	job, err := newBenchJob("bench/profile/timeline.toml", filepath.Join(a.dir, "timeline-job"))
	if err != nil {
		return err
	}
	files, mods, err := job.profileFiles("timeline.toml")
	if err != nil {
		return err
	}
	initrd := filepath.Join(a.dir, "timeline.cpio.xz")
	if _, err := buildImage(image.Spec{Init: initBin, ModulesDir: a.modules, Modules: mods, Files: files, Compress: "xz", XZ: a.xz}, initrd); err != nil {
		return err
	}
	root, err := guestBuild(a.arch, "./bench/cmd/benchroot", filepath.Join(a.dir, "benchroot"))
	if err != nil {
		return err
	}
	disk := filepath.Join(a.dir, "root.ext4")
	if err := image.RootDisk(root, disk, 16); err != nil {
		return err
	}
	logPath := filepath.Join(a.dir, "console-timeline.log")
	// On the headline clock: under -icount the picture is the same from
	// run to run.
	c := o.clocks[0]
	if c == clockTCG {
		waitQuiet(o.quiet)
	}
	a.timelineClock = c
	console, err := boot(image.Config{Arch: a.arch, Kernel: a.kernel, Initrd: initrd, Disks: []string{disk}, Append: []string{"wgbootbench=1"}, Icount: c == clockICount}, logPath)
	if err != nil {
		return err
	}
	state, err := stateFile(console)
	if err != nil {
		return fmt.Errorf("%s: %w", logPath, err)
	}
	a.state = []byte(state)
	statePath := filepath.Join(a.dir, "state.json")
	if err := os.WriteFile(statePath, a.state, 0o644); err != nil {
		return err
	}
	var st bootstate.State
	if err := json.Unmarshal(a.state, &st); err != nil {
		return fmt.Errorf("%s: %w", statePath, err)
	}
	log, err := os.ReadFile(logPath)
	if err != nil {
		return err
	}
	svg := timeline.SVG(&st, log, "wgboot boot timeline, "+a.arch+" guest ("+c.guest()+"), bench/profile/timeline.toml")
	a.svg = filepath.Join(a.dir, "boot-timeline.svg")
	if err := os.WriteFile(a.svg, svg, 0o644); err != nil {
		return err
	}
	if first && o.svg != "" {
		if err := os.WriteFile(o.svg, svg, 0o644); err != nil {
			return err
		}
		a.svg = o.svg
	}
	logf("%s: timeline %s (state file %s)", a.arch, a.svg, statePath)
	return nil
}

// urootImage builds u-root's initramfs with core init and gosh for arch,
// with the bench/uroot module (u-root pinned there), cached by that
// module's go.sum. It returns the cpio's path and the size of its bb.
func urootImage(arch, dir string) (string, int64, error) {
	sum, err := os.ReadFile("bench/uroot/go.sum")
	if err != nil {
		return "", 0, err
	}
	h := sha256.Sum256(sum)
	cacheDir := filepath.Join(".cache", "bench", "uroot")
	out, err := filepath.Abs(filepath.Join(cacheDir, fmt.Sprintf("uroot-%s-%s.cpio", arch, hex.EncodeToString(h[:6]))))
	if err != nil {
		return "", 0, err
	}
	if _, err := os.Stat(out); err != nil {
		logf("%s: building the u-root baseline (core init + gosh)", arch)
		if err := os.MkdirAll(cacheDir, 0o755); err != nil {
			return "", 0, err
		}
		// The u-root tool runs on the host; GOARCH is its target's.
		tool, err := filepath.Abs(filepath.Join(cacheDir, "u-root"))
		if err != nil {
			return "", 0, err
		}
		build := exec.Command("go", "build", "-o", tool, "github.com/u-root/u-root")
		build.Dir = "bench/uroot"
		build.Env = append(os.Environ(), "GOOS=", "GOARCH=", "CGO_ENABLED=0")
		if b, err := build.CombinedOutput(); err != nil {
			return "", 0, fmt.Errorf("build u-root: %w\n%s", err, b)
		}
		cmd := exec.Command(tool, "-o", out+".tmp", "-initcmd=init", "-defaultsh=gosh",
			"github.com/u-root/u-root/cmds/core/init", "github.com/u-root/u-root/cmds/core/gosh")
		cmd.Dir = "bench/uroot"
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+arch, "GOAMD64=v1", "GOARM64=v8.0")
		if b, err := cmd.CombinedOutput(); err != nil {
			return "", 0, fmt.Errorf("u-root: %w\n%s", err, b)
		}
		if err := os.Rename(out+".tmp", out); err != nil {
			return "", 0, err
		}
	}
	f, err := os.Open(out)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	rr, err := cpio.Newc.NewFileReader(f)
	if err != nil {
		return "", 0, err
	}
	for {
		rec, err := rr.ReadRecord()
		if err == io.EOF {
			return "", 0, fmt.Errorf("%s has no bbin/bb", out)
		}
		if err != nil {
			return "", 0, err
		}
		if rec.Name == "bbin/bb" {
			return out, int64(rec.FileSize), nil
		}
	}
}

func slug(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' {
			return r
		}
		if r >= 'A' && r <= 'Z' {
			return r + 'a' - 'A'
		}
		return '-'
	}, s)
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
