package main

import (
	"bytes"
	"fmt"
	"go/parser"
	"go/printer"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

func TestRewrite(t *testing.T) {
	const d = directive
	for _, tc := range []struct{ name, in, want string }{
		{"lines",
			"package p\n\nfunc f() int {\n\tx := 1\n\treturn x\n}\n",
			d + "package p\n\n" + d + "func f() int {\n\t" + d + "x := 1\n\t" + d + "return x\n" + d + "}\n"},
		{"raw string spanning lines",
			"package p\n\nvar s = `a\n  b\n` +\n\t\"c\"\n",
			d + "package p\n\n" + d + "var s = `a\n  b\n` " + d + "+\n\t" + d + "\"c\"\n"},
		{"raw string holding a comment and a directive",
			"package p\n\nvar s = `\n// x\n/*line :1*/\n`\n",
			d + "package p\n\n" + d + "var s = `\n// x\n/*line :1*/\n`\n"},
		{"block comments",
			"package p\n\n/* a\nb */ var x = 1 + /* c\nd */ 2\n",
			d + "package p\n\n/* a\nb */ " + d + "var x = 1 + /* c\nd */ " + d + "2\n"},
		{"line comments",
			"package p // the package\n\n// f is f.\nfunc f() {} // done\n",
			d + "package p // the package\n\n// f is f.\n" + d + "func f() {} // done\n"},
		{"directives",
			"package p\n\nimport _ \"unsafe\"\n\n//go:linkname g runtime.g\n//go:noinline\n//go:nosplit\n//go:norace\nfunc g()\n",
			d + "package p\n\n" + d + "import _ \"unsafe\"\n\n//go:linkname g runtime.g\n//go:noinline\n//go:nosplit\n//go:norace\n" + d + "func g()\n"},
		{"build constraint",
			"//go:build linux && !rescue\n\n// Package p.\npackage p\n",
			"//go:build linux && !rescue\n\n// Package p.\n" + d + "package p\n"},
		{"all comments",
			"// nothing\n/* but\ncomments */\n",
			"// nothing\n/* but\ncomments */\n"},
		{"semicolons at the ends of lines",
			"package p\n\nfunc f(a []int) (int, error) {\n\tif len(a) == 0 {\n\t\treturn\n\t}\n\tg(\n\t\ta,\n\t)\n\treturn a[0], nil\n}\n",
			d + "package p\n\n" + d + "func f(a []int) (int, error) {\n\t" + d + "if len(a) == 0 {\n\t\t" + d + "return\n\t" + d + "}\n\t" + d +
				"g(\n\t\t" + d + "a,\n\t" + d + ")\n\t" + d + "return a[0], nil\n" + d + "}\n"},
		// go/scanner applies src's own line directives to the positions
		// it reports; the rewrite counts physical lines, or b (line 3,
		// reported as line 2 like a) would get no directive and keep
		// the position x.go:2.
		{"line directives already present",
			"package p\nvar a = 1 /*line x.go:1*/\nvar b = 2\n//line y.go:7\nvar c = 3\n/*line z.go:9*/var e = 4\n",
			d + "package p\n" + d + "var a = 1 /*line x.go:1*/\n" + d + "var b = 2\n//line y.go:7\n" + d + "var c = 3\n/*line z.go:9*/" + d + "var e = 4\n"},
		{"no newline at the end", "package p\nvar x = 1", d + "package p\n" + d + "var x = 1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := string(Rewrite([]byte(tc.in)))
			if got != tc.want {
				t.Fatalf("Rewrite(%q)\n got %q\nwant %q", tc.in, got, tc.want)
			}
			// The same program: the same syntax tree, printed without
			// comments (semicolon insertion did not change).
			if a, b := syntax(t, tc.in), syntax(t, got); a != b {
				t.Errorf("the rewrite changed the syntax tree:\n%s\n---\n%s", a, b)
			}
		})
	}
}

// syntax returns src's syntax tree printed, or "" for a file that is
// only comments.
func syntax(t *testing.T, src string) string {
	t.Helper()
	if !strings.Contains(src, "package") {
		return ""
	}
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "x.go", src, 0)
	if err != nil {
		t.Fatalf("parse %q: %v", src, err)
	}
	var b bytes.Buffer
	if err := printer.Fprint(&b, token.NewFileSet(), f); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func TestRewriteArgs(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "pkg", "a.go")
	if err := os.MkdirAll(filepath.Dir(src), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(src, []byte("package a\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tmp := filepath.Join(dir, "tmp")
	trim := "/work/b001=>;" + filepath.Dir(src) + "=>example.com/a"
	got, err := rewriteArgs(tmp, []string{"-o", "x.a", "-trimpath", trim, "-p", "a", src}, 6)
	if err != nil {
		t.Fatal(err)
	}
	copy := tmp + src
	wantTrim := tmp + "/work/b001=>;" + tmp + filepath.Dir(src) + "=>example.com/a;" + tmp + filepath.Dir(src) + "=>" + filepath.Dir(src) + ";" + trim
	if want := []string{"-o", "x.a", "-trimpath", wantTrim, "-p", "a", copy}; strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("rewriteArgs:\n got %q\nwant %q", got, want)
	}
	b, err := os.ReadFile(copy)
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != directive+"package a\n" {
		t.Errorf("copy holds %q", b)
	}
}

const program = `package main

import (
	_ "embed"
	"fmt"
	"os"
)

//go:embed greeting.txt
var greeting string

//go:noinline
func crash(n int) int {
	var a []int
	return a[n]
}

//go:noinline
func fault(p *int) int {
	return *p + 1
}

func main() {
	fmt.Print(greeting)
	if len(os.Args) > 1 {
		done := make(chan int)
		go func() {
			done <- fault(nil)
		}()
		<-done
	}
	fmt.Println(crash(3))
}
`

// TestBuild builds a program through nolines and without it, in turn,
// and checks what each traceback says: function names and PC offsets
// with nolines, file:line only without it (so the build cache never gave
// one build the other's objects); and that nolines -traceback puts the
// same file:line into the first one's traceback from the second binary.
func TestBuild(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the standard library through nolines")
	}
	dir := t.TempDir()
	tool := filepath.Join(dir, "nolines")
	if b, err := exec.Command("go", "build", "-o", tool, ".").CombinedOutput(); err != nil {
		t.Fatalf("build nolines: %v\n%s", err, b)
	}
	src := filepath.Join(dir, "prog")
	for name, data := range map[string]string{
		"go.mod":       "module example.com/prog\n\ngo 1.24\n",
		"main.go":      program,
		"greeting.txt": "hello from go:embed\n",
	} {
		if err := os.MkdirAll(src, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(src, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	build := func(out string, flags ...string) (string, error) {
		cmd := exec.Command("go", append(append([]string{"build", "-trimpath", "-ldflags=-s -w", "-o", out}, flags...), ".")...)
		cmd.Dir = src
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOFLAGS=")
		b, err := cmd.CombinedOutput()
		return string(b), err
	}
	// What each run's traceback must say: where the frames are with line
	// tables, and the functions it names.
	runs := []struct {
		args   []string
		frames []string // function, then its file:line
	}{
		{nil, []string{"main.crash", "example.com/prog/main.go:15", "main.main", "example.com/prog/main.go:32"}},
		// fault faults at its first instruction: its frame has no offset.
		{[]string{"fault"}, []string{"main.fault", "example.com/prog/main.go:20", "main.main.func1", "example.com/prog/main.go:28",
			"created by main.main in goroutine 1", "example.com/prog/main.go:27"}},
	}
	tracebacks := map[string]string{}
	for i, lines := range []bool{false, true, false} {
		bin := filepath.Join(dir, fmt.Sprintf("prog%d", i))
		var flags []string
		if !lines {
			flags = append(flags, "-toolexec="+tool)
		}
		if b, err := build(bin, flags...); err != nil {
			t.Fatalf("build %d: %v\n%s", i, err, b)
		}
		for _, r := range runs {
			var stdout, stderr bytes.Buffer
			cmd := exec.Command(bin, r.args...)
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			err := cmd.Run()
			if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 2 {
				t.Fatalf("run %d %q: %v, want exit status 2\n%s", i, r.args, err, stderr.Bytes())
			}
			if stdout.String() != "hello from go:embed\n" {
				t.Errorf("run %d %q: stdout %q", i, r.args, stdout.Bytes())
			}
			tb := stderr.String()
			tracebacks[fmt.Sprint(i, r.args)] = tb
			for j := 0; j < len(r.frames); j += 2 {
				want := r.frames[j] + "\n\t" + r.frames[j+1]
				if !lines {
					want = r.frames[j] + "\n\t??:1"
				}
				if !containsFrame(tb, want) {
					t.Errorf("build %d (lines %v) %q: no %q in the traceback:\n%s", i, lines, r.args, want, tb)
				}
			}
			if !lines && strings.Contains(tb, ".go:") {
				t.Errorf("build %d without lines: file:line in the traceback:\n%s", i, tb)
			}
		}
	}
	for _, r := range runs {
		var mapped bytes.Buffer
		cmd := exec.Command(tool, "-traceback", filepath.Join(dir, "prog1"))
		cmd.Stdin, cmd.Stdout, cmd.Stderr = strings.NewReader(tracebacks[fmt.Sprint(0, r.args)]), &mapped, os.Stderr
		if err := cmd.Run(); err != nil {
			t.Fatal(err)
		}
		if got, want := positions(mapped.String()), positions(tracebacks[fmt.Sprint(1, r.args)]); got != want {
			t.Errorf("nolines -traceback %q:\n%s\nwant the positions\n%s", r.args, mapped.String(), want)
		}
	}

	// A compile error names the original file and line.
	if err := os.WriteFile(filepath.Join(src, "bad.go"), []byte("package main\n\nfunc bad() int {\n\treturn \"x\"\n}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	b, err := build(filepath.Join(dir, "bad"), "-toolexec="+tool)
	if err == nil || !strings.Contains(b, "bad.go:4:9") || strings.Contains(b, "nolines:") {
		t.Errorf("build of a broken package: %v, want bad.go:4:9 from the compiler\n%s", err, b)
	}
}

// containsFrame reports whether tb has the frame want ("func\n\tpos"),
// with the function's arguments after its name and the PC offset, if
// any, after the position.
func containsFrame(tb, want string) bool {
	fn, pos, _ := strings.Cut(want, "\n")
	re := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(fn) + `(\([^()]*\))?\n` + regexp.QuoteMeta(pos) + `( \+0x[0-9a-f]+)?$`)
	return re.MatchString(tb)
}

// positions returns the frames' position lines of a traceback.
func positions(tb string) string {
	var b strings.Builder
	for _, l := range strings.Split(tb, "\n") {
		if strings.HasPrefix(l, "\t") {
			b.WriteString(l + "\n")
		}
	}
	return b.String()
}
