package main

import (
	"bytes"
	"debug/elf"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"

	"github.com/wgboot/wgboot/image"
)

// Where /init's bytes go, by package.
//
// A Go binary stripped with -s -w has the same sections as one that is
// not; the unstripped one has a symbol table that names and sizes every
// function and most data. Each sized symbol is given to its package (the
// import path its name starts with; a generic instantiation goes to the
// package of the generic code, an equality function or itab to its type's
// package). The rest is tables the runtime shares: the pclntab and
// function metadata (stack maps, line tables, names), type descriptors and
// string data, which the symbol table does not size one by one; they are
// shared out by each package's share of the machine code. The xz figures:
// each package's own bytes compressed alone (xz, raw format), the shared
// tables compressed alone and shared out the same way, then all of it
// scaled so that the sum is /init's real xz size (compressed together, the
// parts share a dictionary).

// pkgSize is one package's share of /init.
type pkgSize struct {
	pkg  string
	text int64 // its functions' machine code
	data int64 // its sized data (read-only and writable)
	raw  int64 // text + data + its share of the shared tables
	xz   int64 // its estimated share of /init's xz size
}

// symPkg is the package a symbol belongs to, "" for none.
func symPkg(name string) string {
	for _, pre := range []string{"type:.eq.", "type:.hash.", "go:itab."} {
		name = strings.TrimPrefix(name, pre)
	}
	// Type expressions: *T, []T, [N]T, map[K]V (the key's package).
	for {
		switch {
		case strings.HasPrefix(name, "*"):
			name = name[1:]
			continue
		case strings.HasPrefix(name, "map["):
			name = name[len("map["):]
			continue
		case strings.HasPrefix(name, "["):
			if i := strings.IndexByte(name, ']'); i > 0 {
				name = name[i+1:]
				continue
			}
		}
		break
	}
	// Type arguments and receivers come after the package's path.
	if i := strings.IndexAny(name, "[(,"); i >= 0 {
		name = name[:i]
	}
	slash := strings.LastIndexByte(name, '/')
	dot := strings.IndexByte(name[slash+1:], '.')
	if dot <= 0 || strings.HasPrefix(name, "go:") {
		return ""
	}
	return name[:slash+1+dot]
}

// xzRaw is the size of b compressed with xz's raw format (no container),
// with the filters image.Build uses.
func xzRaw(b []byte, x image.XZ) (int64, error) {
	if len(b) == 0 {
		return 0, nil
	}
	var out bytes.Buffer
	cmd := exec.Command("xz", append([]string{"--format=raw", "-T1", "-c"}, xzArgs(x)...)...)
	cmd.Stdin, cmd.Stdout = bytes.NewReader(b), &out
	if err := cmd.Run(); err != nil {
		return 0, fmt.Errorf("xz: %w", err)
	}
	return int64(out.Len()), nil
}

// byPackage shares out the unstripped binary at path; xzTotal is the
// stripped binary's xz size, which the estimates add up to.
func byPackage(path string, xzTotal int64, x image.XZ) ([]pkgSize, error) {
	f, err := elf.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	syms, err := f.Symbols()
	if err != nil {
		return nil, err
	}
	type part struct {
		pkgSize
		bytes []byte
	}
	parts := map[string]*part{}
	covered := map[*elf.Section][][2]uint64{} // [start, end) within the section
	var fileSize, textTotal int64
	for _, s := range f.Sections {
		if s.Type == elf.SHT_PROGBITS && s.Flags&elf.SHF_ALLOC != 0 {
			fileSize += int64(s.Size)
		}
	}
	for _, y := range syms {
		if y.Size == 0 || int(y.Section) >= len(f.Sections) || y.Section == elf.SHN_UNDEF {
			continue
		}
		s := f.Sections[y.Section]
		if s.Type != elf.SHT_PROGBITS || s.Flags&elf.SHF_ALLOC == 0 || y.Value < s.Addr || y.Value+y.Size > s.Addr+s.Size {
			continue
		}
		pkg := symPkg(y.Name)
		if pkg == "" {
			continue // shared (go:func.*, runtime.pclntab) or nameless
		}
		b := make([]byte, y.Size)
		if _, err := s.ReadAt(b, int64(y.Value-s.Addr)); err != nil {
			return nil, fmt.Errorf("%s: %w", y.Name, err)
		}
		p := parts[pkg]
		if p == nil {
			p = &part{pkgSize: pkgSize{pkg: pkg}}
			parts[pkg] = p
		}
		p.bytes = append(p.bytes, b...)
		if s.Flags&elf.SHF_EXECINSTR != 0 {
			p.text += int64(y.Size)
			textTotal += int64(y.Size)
		} else {
			p.data += int64(y.Size)
		}
		covered[s] = append(covered[s], [2]uint64{y.Value - s.Addr, y.Value - s.Addr + y.Size})
	}
	// The shared bytes: every allocated section's bytes no symbol above
	// covers.
	var shared []byte
	for _, s := range f.Sections {
		if s.Type != elf.SHT_PROGBITS || s.Flags&elf.SHF_ALLOC == 0 {
			continue
		}
		data, err := s.Data()
		if err != nil {
			return nil, err
		}
		cv := covered[s]
		slices.SortFunc(cv, func(a, b [2]uint64) int { return int(int64(a[0]) - int64(b[0])) })
		var at uint64
		for _, c := range cv {
			if c[0] > at {
				shared = append(shared, data[at:c[0]]...)
			}
			at = max(at, c[1])
		}
		shared = append(shared, data[at:]...)
	}
	sharedXZ, err := xzRaw(shared, x)
	if err != nil {
		return nil, err
	}
	var out []pkgSize
	sum := float64(sharedXZ)
	own := map[string]int64{}
	for pkg, p := range parts {
		x, err := xzRaw(p.bytes, x)
		if err != nil {
			return nil, err
		}
		own[pkg] = x
		sum += float64(x)
	}
	k := float64(xzTotal) / sum
	for pkg, p := range parts {
		share := float64(p.text) / float64(textTotal)
		p.raw = p.text + p.data + int64(share*float64(len(shared)))
		p.xz = int64(k * (float64(own[pkg]) + share*float64(sharedXZ)))
		out = append(out, p.pkgSize)
	}
	slices.SortFunc(out, func(a, b pkgSize) int {
		if a.xz != b.xz {
			return int(b.xz - a.xz)
		}
		return strings.Compare(a.pkg, b.pkg)
	})
	return out, nil
}

// pkgGroup is where a package is counted in the summary.
func pkgGroup(pkg string) string {
	switch {
	case pkg == "runtime" || strings.HasPrefix(pkg, "runtime/") || strings.HasPrefix(pkg, "internal/runtime/") || pkg == "internal/abi" || pkg == "internal/bytealg" || pkg == "internal/cpu" || pkg == "internal/goarch" || pkg == "internal/chacha8rand":
		return "the Go runtime"
	case strings.HasPrefix(pkg, "github.com/wgboot/wgboot/") || pkg == "main":
		return "wgboot's packages"
	case strings.HasPrefix(pkg, "github.com/BurntSushi/toml"):
		return "BurntSushi/toml"
	case strings.HasPrefix(pkg, "golang.org/x/"):
		return "golang.org/x"
	case !strings.Contains(strings.SplitN(pkg, "/", 2)[0], "."):
		return "the rest of the standard library"
	}
	return "other modules"
}

// pkgTable is the markdown table of /init by package: every package of 10
// KB xz or more, the rest folded into their groups, and the groups' totals.
func pkgTable(pkgs []pkgSize, xzTotal int64) string {
	var b strings.Builder
	var raw int64
	for _, p := range pkgs {
		raw += p.raw
	}
	fmt.Fprintf(&b, "| package | machine code | data | with its share of the shared tables | xz (estimate) | of /init's xz |\n|---|---:|---:|---:|---:|---:|\n")
	row := func(name string, p pkgSize) {
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %.1f %% |\n", name, kb(p.text), kb(p.data), kb(p.raw), kb(p.xz), 100*float64(p.xz)/float64(xzTotal))
	}
	groups := map[string]*pkgSize{}
	rest := map[string]*pkgSize{}
	restN := map[string]int{}
	var order []string
	for _, p := range pkgs {
		g := pkgGroup(p.pkg)
		if groups[g] == nil {
			groups[g], rest[g] = &pkgSize{pkg: g}, &pkgSize{}
			order = append(order, g)
		}
		for _, s := range []*pkgSize{groups[g]} {
			s.text, s.data, s.raw, s.xz = s.text+p.text, s.data+p.data, s.raw+p.raw, s.xz+p.xz
		}
		if p.xz >= 10_000 {
			row("`"+p.pkg+"`", p)
		} else {
			r := rest[g]
			r.text, r.data, r.raw, r.xz = r.text+p.text, r.data+p.data, r.raw+p.raw, r.xz+p.xz
			restN[g]++
		}
	}
	for _, g := range order {
		if restN[g] > 0 {
			row(fmt.Sprintf("%d more of %s, under 10 KB each", restN[g], g), *rest[g])
		}
	}
	slices.SortFunc(order, func(a, b string) int { return int(groups[b].xz - groups[a].xz) })
	for _, g := range order {
		row("**all of "+g+"**", *groups[g])
	}
	fmt.Fprintf(&b, "| **/init** | | | %s | %s | |\n", kb(raw), kb(xzTotal))
	return b.String()
}

// initSizes measures /init's xz size and, with byPkg, builds it unstripped
// (otherwise as make build does) to share that out by package.
func (a *archRun) initSizes(stripped string, byPkg bool) error {
	data, err := os.ReadFile(stripped)
	if err != nil {
		return err
	}
	if a.initXZ, err = xzBytes(data, a.xz); err != nil {
		return err
	}
	if !byPkg {
		return nil
	}
	out := filepath.Join(a.dir, "init-symbols")
	toolexec, err := image.InitToolexec(".")
	if err != nil {
		return err
	}
	args := append(append([]string{"build", "-trimpath", "-o", out}, image.InitBuildFlags()...), toolexec, "./init")
	cmd := exec.Command("go", args...)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+a.arch, "GOAMD64=v1", "GOARM64=v8.0")
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("build ./init with symbols: %w\n%s", err, b)
	}
	a.pkgs, err = byPackage(out, a.initXZ, a.xz)
	return err
}
