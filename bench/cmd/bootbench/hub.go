package main

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/wgboot/wgboot/image"
)

// -hub N boots wgboot (and every -variant) with a hub profile of N peers,
// each with a /32 and a /128 (2N allowed IPs, the routes to them in the
// main table or, with table = "off", none), and reports the phases wgboot
// logs with their durations: the profile phase (reading, parsing and
// checking the profile) and the tunnels phase (the WireGuard SET requests
// and the routes) above all. Under -icount the durations, which PID 1
// measures with its own clock, count instructions. With -variant
// before=DIR (a build of an older commit, bench/scripts/initat.sh) it
// gives the before and after of a change in the same run.

// hubTables are the profiles' table settings: routes for every allowed IP,
// and none (what the tunnels phase costs without them).
var hubTables = []string{"main", "off"}

// hubProfile is the hub profile with n peers, its key in a key file (as
// newBenchJob wants it).
func hubProfile(n int, table string) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, `# bootbench -hub: %d peers, each with a /32 and a /128.
[board]
name = "default"
modules = ["wireguard"]

[[tunnel]]
name = "wg0"
private_key_file = "bench.key"
listen_port = 51820
mtu = 1420
address = ["10.0.0.1/8", "fd00::1/64"]
table = %q
`, n, table)
	for i := range n {
		var k [32]byte
		k[0], k[1], k[2] = byte(i), byte(i>>8), 1
		j := i + 2 // 10.0.0.1 is the tunnel's own address
		fmt.Fprintf(&b, "\n[[tunnel.peer]]\npublic_key = %q\nallowed_ips = [\"10.%d.%d.%d/32\", \"fd00::%x/128\"]\n",
			base64.StdEncoding.EncodeToString(k[:]), j>>16&255, j>>8&255, j&255, j)
	}
	b.WriteString(`
[handoff]
root = ""
on_failure = "halt"
deadline = "600s"
`)
	return b.Bytes()
}

// phaseRE matches wgboot's line for a phase that completed.
var phaseRE = regexp.MustCompile(`wgboot: phase (\S+): done in (\S+)$`)

// readyInRE matches wgboot's outcome line and its total.
var readyInRE = regexp.MustCompile(`wgboot: READY in (\S+) `)

// hubBoot is what one boot logged: each phase's duration, in order, and
// the whole bring-up.
type hubBoot struct {
	phases []string
	dur    map[string]time.Duration
	ready  time.Duration
}

func parseHubBoot(console string) (hubBoot, error) {
	h := hubBoot{dur: map[string]time.Duration{}}
	for _, l := range stamped(console) {
		if strings.HasPrefix(l.text, "wgboot: FAILED") {
			return h, fmt.Errorf("%s", l.text)
		}
		if m := phaseRE.FindStringSubmatch(l.text); m != nil {
			d, err := time.ParseDuration(m[2])
			if err != nil {
				return h, fmt.Errorf("%q: %w", l.text, err)
			}
			if _, ok := h.dur[m[1]]; !ok {
				h.phases = append(h.phases, m[1])
			}
			h.dur[m[1]] = d
		}
		if m := readyInRE.FindStringSubmatch(l.text); m != nil {
			d, err := time.ParseDuration(m[1])
			if err != nil {
				return h, fmt.Errorf("%q: %w", l.text, err)
			}
			h.ready = d
		}
	}
	if h.ready == 0 {
		return h, fmt.Errorf("no READY line on the console")
	}
	for _, p := range []string{"profile", "tunnels"} {
		if _, ok := h.dur[p]; !ok {
			return h, fmt.Errorf("no phase %s on the console", p)
		}
	}
	return h, nil
}

// hubRun is -hub: per arch, clock and table, one boot of each build
// (-icount boots agree run to run; under TCG the median of o.boots).
func hubRun(o options, n int) error {
	start := time.Now()
	type build struct{ name, dir string }
	builds := []build{{vWgboot, o.initDir}}
	for _, v := range o.variants {
		builds = append(builds, build{v.name, v.dir})
	}
	// results[arch][clock][table][build]
	type key struct {
		arch  string
		c     clock
		table string
		build string
	}
	res := map[key]hubBoot{}
	for _, arch := range o.arches {
		kernel := filepath.Join(o.kernels, arch, "vmlinuz")
		modules := filepath.Join(o.kernels, arch, "modules")
		dir := filepath.Join(o.work, arch, fmt.Sprintf("hub-%d", n))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
		xz, _ := image.XZFor(arch, modules)
		for _, table := range hubTables {
			src := filepath.Join(dir, "hub-"+table+".toml")
			if err := os.WriteFile(src, hubProfile(n, table), 0o644); err != nil {
				return err
			}
			job, err := newBenchJob(src, filepath.Join(dir, "job-"+table))
			if err != nil {
				return err
			}
			files, mods, err := job.profileFiles(filepath.Base(src))
			if err != nil {
				return err
			}
			for _, b := range builds {
				bin, err := os.ReadFile(filepath.Join(b.dir, arch, "init"))
				if err != nil {
					return fmt.Errorf("%s: %w", b.name, err)
				}
				initrd := filepath.Join(dir, slug(b.name)+"-"+table+".cpio.xz")
				if _, err := buildImage(image.Spec{Init: bin, ModulesDir: modules, Modules: mods, Files: files, Compress: "xz", XZ: xz}, initrd); err != nil {
					return err
				}
				for _, c := range o.clocks {
					boots := o.boots
					if c == clockICount {
						boots = o.icountBoots
					}
					var runs []hubBoot
					for i := range boots {
						if c == clockTCG {
							waitQuiet(o.quiet)
						}
						logPath := filepath.Join(dir, fmt.Sprintf("console-%s-%s-%s-%d.log", c, slug(b.name), table, i))
						console, err := boot(image.Config{Arch: arch, Kernel: kernel, Initrd: initrd, Append: []string{"wgboot.test=poweroff"}, MemoryMB: 1024, Icount: c == clockICount}, logPath)
						if err != nil {
							return fmt.Errorf("%s %s table=%s: %w", arch, b.name, table, err)
						}
						h, err := parseHubBoot(console)
						if err != nil {
							return fmt.Errorf("%s %s table=%s (%s): %w", arch, b.name, table, logPath, err)
						}
						logf("%s %s: %d peers, table = %q, %-10s profile %8.1f, tunnels %8.1f, READY %8.1f %s", arch, c, n, table, b.name, ms(h.dur["profile"]), ms(h.dur["tunnels"]), ms(h.ready), c.unit())
						runs = append(runs, h)
					}
					res[key{arch, c, table, b.name}] = medianHub(runs)
				}
			}
		}
	}

	var md strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&md, format, args...) }
	p("## %d peers (%d allowed IPs): the profile and tunnels phases\n\n", n, 2*n)
	p("Produced by `bootbench -hub %d%s` on %s in %v. One tunnel with %d peers, each with a /32 and a /128; `table = \"main\"` routes every allowed IP, `table = \"off\"` none. Durations as wgboot logs them (`phase …: done in`, its own clock)", n, variantArgs(o), time.Now().UTC().Format("2006-01-02 15:04 UTC"), time.Since(start).Round(time.Second), n)
	if slices.Contains(o.clocks, clockICount) {
		p("; under `-icount` they count instructions (instruction-ms)")
	}
	p(". READY is the whole bring-up, modules included.\n\n")
	for _, c := range o.clocks {
		p("%s, %s:\n\n| arch | table | phase |", c.title(), c.unit())
		for _, b := range builds {
			p(" %s |", b.name)
		}
		for _, b := range builds[1:] {
			p(" %s ÷ %s |", b.name, vWgboot)
		}
		p("\n|---|---|---|")
		for range len(builds)*2 - 1 {
			p("---:|")
		}
		p("\n")
		for _, arch := range o.arches {
			for _, table := range hubTables {
				for _, phase := range []string{"profile", "tunnels", "READY"} {
					get := func(b string) time.Duration {
						h := res[key{arch, c, table, b}]
						if phase == "READY" {
							return h.ready
						}
						return h.dur[phase]
					}
					p("| %s | %s | %s |", arch, table, phase)
					for _, b := range builds {
						p(" %s |", fms(get(b.name)))
					}
					for _, b := range builds[1:] {
						p(" %s |", ratio(get(b.name), get(vWgboot)))
					}
					p("\n")
				}
			}
		}
		p("\n")
	}
	fmt.Print(md.String())
	out := o.results
	if out == "" {
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(out, []byte(md.String()), 0o644); err != nil {
		return err
	}
	logf("wrote %s in %v", out, time.Since(start).Round(time.Second))
	return nil
}

// medianHub is the boot whose READY is the median.
func medianHub(runs []hubBoot) hubBoot {
	slices.SortFunc(runs, func(a, b hubBoot) int { return int(a.ready - b.ready) })
	return runs[len(runs)/2]
}

func variantArgs(o options) string {
	var s string
	for _, v := range o.variants {
		s += " -variant " + v.name + "=" + v.dir
	}
	return s
}
