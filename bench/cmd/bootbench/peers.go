package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// peerTable runs (or reuses) bench/wgpeers for arch on clock c and returns
// its table.
func peerTable(o options, arch string, c clock) (peerResult, error) {
	res := peerResult{arch: arch, clock: c}
	if o.peers == "skip" {
		return res, nil
	}
	suffix := ""
	if c == clockICount {
		suffix = "-icount"
	}
	md := filepath.Join("out", "bench", "wgpeers-"+arch+suffix+".md")
	if o.quick {
		// Not over the full run's tables, which -peers=reuse reads.
		md = filepath.Join(o.work, "wgpeers-"+arch+suffix+".md")
	}
	if o.peers == "run" {
		logf("%s: peer scaling, %s: bench/wgpeers/run.sh %s (WGBENCH_ARGS=%s)", arch, c.title(), arch, o.peersArgs[c])
		logPath := filepath.Join(o.work, "wgpeers-"+arch+suffix+".log")
		f, err := os.Create(logPath)
		if err != nil {
			return res, err
		}
		defer f.Close()
		start := time.Now()
		cmd := exec.Command("bench/wgpeers/run.sh", arch)
		out, err := filepath.Abs(md)
		if err != nil {
			return res, err
		}
		// wgbench built as /init is (image/initflags.txt): the goal row
		// reads the "wgboot as /init" column.
		cmd.Env = append(os.Environ(), "WGBENCH_ARGS="+o.peersArgs[c], "WGBENCH_OUT="+out, "WGBENCH_INITFLAGS=1", "WGBENCH_ICOUNT=")
		if c == clockICount {
			cmd.Env[len(cmd.Env)-1] = "WGBENCH_ICOUNT=1"
		}
		cmd.Stdout, cmd.Stderr = f, f
		if err := locked(cmd.Run); err != nil {
			return res, fmt.Errorf("bench/wgpeers/run.sh %s: %w (log: %s)", arch, err, logPath)
		}
		logf("%s: peer scaling, %s, done in %v", arch, c.title(), time.Since(start).Round(time.Second))
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
	if res.table, err = parsePeerTable(text); err != nil {
		return res, fmt.Errorf("%s: %w", md, err)
	}
	return res, nil
}

// peerTableRows are the medians of wgpeers' table: ms by N and column.
type peerTableRows struct {
	cols []string // after N
	n    []int    // in the table's order
	ms   map[int][]float64
}

// The goal's column: what /init does with its profile (LoadDir, ReadKeys,
// Validate, DeviceConfig, Configure, the collector held off), which the
// device runs. Tables from before it had only the wgboot column (Parse,
// Configure), which the goal then takes.
const (
	colInit   = "wgboot as /init"
	colWgboot = "wgboot"
)

// goalCol is the column the 10,000-peer goal is read from: colInit when
// the table has it, else colWgboot.
func (t peerTableRows) goalCol() string {
	if slices.Contains(t.cols, colInit) {
		return colInit
	}
	return colWgboot
}

func (t peerTableRows) get(n int, col string) float64 {
	for i, c := range t.cols {
		if c == col {
			return t.ms[n][i]
		}
	}
	return 0
}

// parsePeerTable reads wgpeers' markdown table: a header "| N | tool |…",
// rows "| 100 | 35.9 (0.51×) | 71.0 |…" (ms, the ratio in parentheses
// ignored) and rows that are not peer counts (slope, linearity), skipped.
// It wants the columns the goal compares: wgboot and wg setconf.
func parsePeerTable(text string) (peerTableRows, error) {
	t := peerTableRows{ms: map[int][]float64{}}
	cells := func(l string) []string {
		f := strings.Split(strings.Trim(strings.TrimSpace(l), "|"), "|")
		for i := range f {
			f[i] = strings.TrimSpace(f[i])
		}
		return f
	}
	for _, l := range strings.Split(text, "\n") {
		if !strings.HasPrefix(l, "|") {
			continue
		}
		f := cells(l)
		switch {
		case f[0] == "N":
			t.cols = f[1:]
		case t.cols == nil:
		default:
			n, err := strconv.Atoi(f[0])
			if err != nil {
				continue // the separator, the slope, the linearity
			}
			if len(f) != len(t.cols)+1 {
				return t, fmt.Errorf("peer table: N=%d has %d cells, want %d", n, len(f)-1, len(t.cols))
			}
			row := make([]float64, len(t.cols))
			for i, c := range f[1:] {
				v, _, _ := strings.Cut(c, " ")
				if row[i], err = strconv.ParseFloat(v, 64); err != nil {
					return t, fmt.Errorf("peer table: N=%d, %s: %q", n, t.cols[i], c)
				}
			}
			t.n = append(t.n, n)
			t.ms[n] = row
		}
	}
	for _, want := range []string{"wgboot", "wg setconf"} {
		found := false
		for _, c := range t.cols {
			found = found || c == want
		}
		if !found {
			return t, fmt.Errorf("peer table has no %q column", want)
		}
	}
	if len(t.n) == 0 {
		return t, fmt.Errorf("peer table has no rows")
	}
	return t, nil
}
