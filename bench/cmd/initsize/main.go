// Command initsize shows where the bytes of /init go: it builds /init for
// one arch as make build does (image.InitBuildFlags, without line tables
// through image.InitToolexec) and prints a markdown table of its packages,
// with the bytes each has in .text, in .rodata (type descriptors and
// strings), in .gopclntab and in data, and an estimate of what each adds to
// the xz-compressed image. docs/size.md has its output and how to read it.
//
//	go run ./bench/cmd/initsize [-arch amd64] [-rows 40]
//
// Text and data come from /init's symbol table. Type descriptors and
// strings are one block there, so they are sized from the package objects
// and kept if the linker's dependency graph (-ldflags=-dumpdep) reaches
// them, then scaled to what .rodata holds; strings and other anonymous
// symbols go to the package of the first symbol that uses them.
// .gopclntab (function names, line and stack tables) is shared out in
// proportion to each package's text. The xz estimate applies each
// section's own compression ratio (each section compressed alone with the
// image's xz options) and scales the sum to /init's compressed size.
//
// It needs the go command, xz and a Linux host.
package main

import (
	"bufio"
	"bytes"
	"debug/elf"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/wgboot/wgboot/image"
)

func main() {
	arch := flag.String("arch", "amd64", "guest arch")
	rows := flag.Int("rows", 40, "packages to list; the rest are summed")
	flag.Parse()
	if err := run(*arch, *rows); err != nil {
		fmt.Fprintln(os.Stderr, "initsize:", err)
		os.Exit(1)
	}
}

func run(arch string, rows int) error {
	dir, err := os.MkdirTemp("", "initsize-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	env := append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+arch, "GOAMD64=v1", "GOARM64=v8.0")
	toolexec, err := image.InitToolexec(".")
	if err != nil {
		return err
	}
	flags := append(image.InitBuildFlags(), toolexec)
	gocmd := func(args ...string) ([]byte, error) {
		cmd := exec.Command("go", args...)
		cmd.Env = env
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			return nil, fmt.Errorf("go %s: %v\n%s", args[0], err, stderr.Bytes())
		}
		return append(out, stderr.Bytes()...), nil
	}
	sym, stripped := filepath.Join(dir, "init.sym"), filepath.Join(dir, "init")
	if _, err := gocmd(append(append([]string{"build", "-trimpath"}, flags...), "-ldflags=-w", "-o", sym, "./init")...); err != nil {
		return err
	}
	dep, err := gocmd(append(append([]string{"build", "-trimpath"}, flags...), "-ldflags=-s -w -dumpdep", "-o", stripped, "./init")...)
	if err != nil {
		return err
	}
	objs, err := gocmd(append(append([]string{"list", "-trimpath", "-export", "-f", "{{.Export}}", "-deps"}, flags...), "./init")...)
	if err != nil {
		return err
	}
	xz, _ := image.XZFor(arch, "")

	g := readDeps(dep)
	final := nm(sym)
	named := make(map[string]bool, len(final))
	for _, s := range final {
		named[s.name] = true
	}
	objSize := map[string]int{}
	for _, o := range strings.Fields(string(objs)) {
		for _, s := range nm(o) {
			if _, ok := objSize[s.name]; !ok && s.kind != "U" {
				objSize[s.name] = s.size
			}
		}
	}
	ef, err := elf.Open(sym)
	if err != nil {
		return err
	}
	defer ef.Close()
	section := func(addr uint64) string {
		for _, s := range ef.Sections {
			if s.Flags&elf.SHF_ALLOC != 0 && s.Type != elf.SHT_NOBITS && s.Addr <= addr && addr < s.Addr+s.Size {
				return s.Name
			}
		}
		return ""
	}
	size := map[string]float64{}
	for _, s := range ef.Sections {
		if s.Flags&elf.SHF_ALLOC != 0 && s.Type != elf.SHT_NOBITS {
			size[s.Name] = float64(s.Size)
		}
	}

	// bytes per package and kind: text, rodata (named), types, pclntab, data
	type counts struct{ text, ro, types, pcln, data float64 }
	pkgs := map[string]*counts{}
	at := func(p string) *counts {
		if pkgs[p] == nil {
			pkgs[p] = &counts{}
		}
		return pkgs[p]
	}
	var text, ro float64
	for _, s := range final {
		if s.size == 0 {
			continue
		}
		switch sec := section(s.addr); sec {
		case ".text":
			at(g.pkg(s.name)).text += float64(s.size)
			text += float64(s.size)
		case ".rodata", ".typelink", ".itablink":
			at(g.pkg(s.name)).ro += float64(s.size)
			ro += float64(s.size)
		case ".noptrdata", ".data", ".go.buildinfo", ".go.module", ".go.fipsinfo":
			at(g.pkg(s.name)).data += float64(s.size)
		}
	}
	var hidden float64
	for name := range g.parent {
		if named[name] || !strings.HasPrefix(name, "type:") && !strings.HasPrefix(name, "go:string.") {
			continue
		}
		if n := objSize[name]; n > 0 {
			at(g.pkg(name)).types += float64(n)
			hidden += float64(n)
		}
	}
	scale := (size[".rodata"] + size[".typelink"] + size[".itablink"] - ro) / hidden
	for _, c := range pkgs {
		c.types *= scale
		c.pcln = size[".gopclntab"] * c.text / text
	}

	// xz ratio of each section, compressed alone
	data, err := os.ReadFile(stripped)
	if err != nil {
		return err
	}
	sf, err := elf.NewFile(bytes.NewReader(data))
	if err != nil {
		return err
	}
	ratio := map[string]float64{}
	for _, name := range []string{".text", ".rodata", ".gopclntab", ".noptrdata", ".data"} {
		s := sf.Section(name)
		b, err := s.Data()
		if err != nil {
			return err
		}
		x := xz
		if name != ".text" {
			x.BCJ = ""
		}
		n, err := xzSize(x, b)
		if err != nil {
			return err
		}
		ratio[name] = float64(n) / float64(len(b))
		fmt.Fprintf(os.Stderr, "%s %s: %d bytes, %d xz\n", arch, name, len(b), n)
	}
	ratio[".data"] = (ratio[".data"] + ratio[".noptrdata"]) / 2
	total, err := xzSize(xz, data)
	if err != nil {
		return err
	}
	type row struct {
		pkg                       string
		text, ro, pcln, data, raw float64
		xz                        float64
	}
	var list []row
	var xzSum float64
	for p, c := range pkgs {
		r := row{pkg: p, text: c.text, ro: c.ro + c.types, pcln: c.pcln, data: c.data}
		r.raw = r.text + r.ro + r.pcln + r.data
		r.xz = r.text*ratio[".text"] + r.ro*ratio[".rodata"] + r.pcln*ratio[".gopclntab"] + r.data*ratio[".data"]
		xzSum += r.xz
		list = append(list, r)
	}
	k := float64(total) / xzSum
	sort.Slice(list, func(i, j int) bool { return list[i].xz > list[j].xz })
	fmt.Printf("/init for %s: %d bytes, %d xz (%s)\n\n", arch, len(data), total, strings.Join(xzArgs(xz), " "))
	fmt.Println("| package | text | rodata | pclntab | data | bytes | xz (est.) |")
	fmt.Println("|---|--:|--:|--:|--:|--:|--:|")
	var rest row
	var nrest int
	for i, r := range list {
		if i >= rows {
			rest.text, rest.ro, rest.pcln, rest.data, rest.raw, rest.xz = rest.text+r.text, rest.ro+r.ro, rest.pcln+r.pcln, rest.data+r.data, rest.raw+r.raw, rest.xz+r.xz
			nrest++
			continue
		}
		fmt.Printf("| %s | %.0f | %.0f | %.0f | %.0f | %.0f | %.0f |\n", r.pkg, r.text, r.ro, r.pcln, r.data, r.raw, r.xz*k)
	}
	if nrest > 0 {
		fmt.Printf("| %d more | %.0f | %.0f | %.0f | %.0f | %.0f | %.0f |\n", nrest, rest.text, rest.ro, rest.pcln, rest.data, rest.raw, rest.xz*k)
	}
	return nil
}

// deps is the linker's dependency graph: the first symbol found to use
// each symbol.
type deps struct{ parent map[string]string }

func readDeps(out []byte) deps {
	g := deps{parent: map[string]string{}}
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		a, b, ok := strings.Cut(sc.Text(), " -> ")
		if !ok || a == "" || strings.HasPrefix(a, "go:info.") || strings.HasPrefix(b, "go:info.") {
			continue
		}
		a, _, _ = strings.Cut(a, " <") // " <UsedInIface>"
		b, _, _ = strings.Cut(b, " <")
		if _, seen := g.parent[b]; !seen && a != b {
			g.parent[b] = a
		}
	}
	return g
}

// pkg is the package a symbol belongs to: the one its name says, or else
// that of the first symbol that uses it.
func (g deps) pkg(name string) string {
	for range 30 {
		if p := namePkg(name); p != "" {
			return p
		}
		up, ok := g.parent[name]
		if !ok {
			break
		}
		name = up
	}
	return "(unattributed)"
}

// namePkg is the package a symbol's name says, "" if it says none.
func namePkg(s string) string {
	for _, pre := range []string{"type:.eq.", "type:.hash.", "type:.namedata.", "type:.importpath.", "type:", "go:itab.", "go:"} {
		if rest, ok := strings.CutPrefix(s, pre); ok {
			if pre == "go:" && (strings.HasPrefix(rest, "string.") || strings.HasPrefix(rest, "func.") || strings.HasPrefix(rest, "cuinfo")) {
				return ""
			}
			if pre == "type:.namedata." {
				return "" // a name shared by the types that use it
			}
			s = rest
			break
		}
	}
	if strings.HasPrefix(s, "gclocals") || strings.HasPrefix(s, "runtime.gcbits") || strings.HasPrefix(s, "$f") || strings.HasPrefix(s, "$i") {
		return ""
	}
	for { // element types: *T, []T, [N]T, map[K]V, chan T
		t := strings.TrimLeft(s, "*")
		switch {
		case strings.HasPrefix(t, "[]"):
			t = t[2:]
		case strings.HasPrefix(t, "["):
			if i := strings.IndexByte(t, ']'); i > 0 {
				t = t[i+1:]
			}
		case strings.HasPrefix(t, "map["): // the value's package
			depth := 0
			for i := 3; i < len(t); i++ {
				if t[i] == '[' {
					depth++
				} else if t[i] == ']' {
					if depth--; depth == 0 {
						t = t[i+1:]
						break
					}
				}
			}
		case strings.HasPrefix(t, "chan "):
			t = t[5:]
		case strings.HasPrefix(t, "noalg."):
			t = t[6:]
		}
		if t == s {
			break
		}
		s = t
	}
	switch {
	case strings.HasPrefix(s, "struct {"), strings.HasPrefix(s, "func("), strings.HasPrefix(s, "interface {"):
		return "(anonymous types)"
	case strings.HasPrefix(s, "go.shape"):
		return "(generic shapes)"
	}
	head := s
	if i := strings.IndexAny(s, "[("); i >= 0 {
		head = s[:i]
	}
	slash := strings.LastIndexByte(head, '/')
	dot := strings.IndexByte(head[slash+1:], '.')
	if dot < 0 {
		if slash < 0 && head != "" && !strings.ContainsAny(head, ".·") {
			return "(assembly)" // e.g. aeshashbody, _rt0_amd64
		}
		return ""
	}
	return head[:slash+1+dot]
}

type symbol struct {
	addr uint64
	size int
	kind string
	name string
}

// nm lists a binary's or an object's symbols with go tool nm.
func nm(path string) []symbol {
	out, _ := exec.Command("go", "tool", "nm", "-size", path).Output()
	var syms []symbol
	for _, l := range strings.Split(string(out), "\n") {
		f := strings.Fields(l)
		if len(f) < 4 {
			continue
		}
		a, _ := strconv.ParseUint(f[0], 16, 64)
		n, _ := strconv.Atoi(f[1])
		syms = append(syms, symbol{a, n, f[2], strings.Join(f[3:], " ")})
	}
	return syms
}

func xzArgs(x image.XZ) []string {
	args := []string{"--check=crc32"}
	if x.BCJ != "" {
		args = append(args, "--"+x.BCJ)
	}
	opts := "--lzma2=preset=9e"
	if x.LZMA2 != "" {
		opts += "," + x.LZMA2
	}
	return append(args, opts)
}

// xzSize is the size of b compressed with xz(1) as images are.
func xzSize(x image.XZ, b []byte) (int, error) {
	cmd := exec.Command("xz", append(xzArgs(x), "-c")...)
	cmd.Stdin = bytes.NewReader(b)
	out, err := cmd.Output()
	if err != nil {
		return 0, fmt.Errorf("xz: %w", err)
	}
	return len(out), nil
}
