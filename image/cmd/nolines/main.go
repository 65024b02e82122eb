// Command nolines is a go build -toolexec wrapper that builds a program
// without Go's per-function line tables. /init is built with it (make
// build, image.InitToolexec): the tables serve only the file:line of
// tracebacks and runtime.Caller, and were 192 KB of /init's 1.26 MB xz
// on amd64 (docs/size.md).
//
//	go build -toolexec=/abs/path/to/nolines ...
//
// For each compile, nolines copies the package's .go files into a
// temporary directory with a line directive, /*line :1*/, before the
// first token of every line, and compiles the copies: every position
// then has an empty file name and line 1, so the pcfile and pcln tables
// of each function are one entry. Function names stay in the tables,
// so a traceback still names every frame and its PC offset (+0x1a4).
// Comments (//go: directives, //line, build constraints) and the
// insides of multi-line raw strings are not touched: the code compiled
// is the same, but for the order of instructions in a few functions
// (the compiler's scheduler breaks ties by position; docs/size.md).
// When the copies do not compile, the originals are compiled instead so
// that the errors carry real positions (and if the originals do
// compile, nolines says that it broke them, and fails).
//
// It answers compile -V=full with the compiler's line and " X:nolines",
// which the go command takes as the compiler's identity in its build
// cache keys, so that these objects and normal ones are never mixed up.
// Every other tool (asm, link, ...) runs unchanged.
//
//	nolines -traceback BINARY < console.log
//
// puts file:line back into a traceback of such a build, from BINARY, the
// same commit built with line tables (see traceback.go).
package main

import (
	"bytes"
	"errors"
	"fmt"
	"go/scanner"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// marker is appended to compile -V=full's answer: the build cache's key
// for the compiler (the whole line, for a release toolchain).
const marker = " X:nolines"

// directive is put before the first token of each line.
const directive = "/*line :1*/"

func main() {
	if len(os.Args) < 2 || os.Args[1] == "-traceback" && len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: go build -toolexec=/path/to/nolines ...\n       nolines -traceback BINARY-WITH-LINES < traceback")
		os.Exit(2)
	}
	if os.Args[1] == "-traceback" {
		if err := mapTraceback(os.Args[2], os.Stdin, os.Stdout); err != nil {
			fmt.Fprintln(os.Stderr, "nolines:", err)
			os.Exit(1)
		}
		return
	}
	os.Exit(run(os.Args[1], os.Args[2:]))
}

// run runs tool with args, rewriting the .go files of a compile, and
// returns the exit code.
func run(tool string, args []string) int {
	if strings.TrimSuffix(filepath.Base(tool), ".exe") != "compile" {
		return passthrough(tool, args)
	}
	for _, a := range args {
		if a == "-V=full" {
			return version(tool, args)
		}
	}
	// The files come last, after the flags (the go command passes them
	// as absolute paths).
	first := len(args)
	for first > 0 && strings.HasSuffix(args[first-1], ".go") && !strings.HasPrefix(args[first-1], "-") {
		first--
	}
	if first == len(args) {
		return passthrough(tool, args)
	}
	tmp, err := os.MkdirTemp("", "nolines-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "nolines:", err)
		return 1
	}
	defer os.RemoveAll(tmp)
	rewritten, err := rewriteArgs(tmp, args, first)
	if err != nil {
		fmt.Fprintln(os.Stderr, "nolines:", err)
		return 1
	}
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(tool, rewritten...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, &stdout, &stderr
	err = cmd.Run()
	if err == nil {
		os.Stdout.Write(stdout.Bytes())
		os.Stderr.Write(stderr.Bytes())
		return 0
	}
	// The copies' errors would all say ":1"; the originals' say where.
	code := passthrough(tool, args)
	if code != 0 {
		return code
	}
	fmt.Fprintf(os.Stderr, "nolines: the sources compile, but not with line directives (%v); build with LINES=1 and report this:\n", err)
	os.Stderr.Write(stdout.Bytes())
	os.Stderr.Write(stderr.Bytes())
	return 1
}

// rewriteArgs writes the rewritten copies of args[first:] under tmp, at
// tmp + the file's absolute path, and returns args with the copies
// instead and a -trimpath that maps each copy's path to what the
// original's would have been.
func rewriteArgs(tmp string, args []string, first int) ([]string, error) {
	out := append([]string(nil), args...)
	dirs := map[string]bool{}
	var order []string
	for i := first; i < len(args); i++ {
		src, err := filepath.Abs(args[i])
		if err != nil {
			return nil, err
		}
		b, err := os.ReadFile(src)
		if err != nil {
			return nil, err
		}
		dst := filepath.Join(tmp, src)
		if err := os.MkdirAll(filepath.Dir(dst), 0o700); err != nil {
			return nil, err
		}
		if err := os.WriteFile(dst, Rewrite(b), 0o600); err != nil {
			return nil, err
		}
		out[i] = dst
		if d := filepath.Dir(src); !dirs[d] {
			dirs[d] = true
			order = append(order, d)
		}
	}
	// The copies' paths end up in the object's position table (each line
	// directive's position is recorded relative to its file): they must
	// read as the originals' would, for the build to be reproducible.
	var rules []string
	at := -1
	for i := 0; i < first; i++ {
		if args[i] == "-trimpath" && i+1 < first {
			at = i + 1
		}
	}
	if at >= 0 {
		// The first rule that matches applies (cmd/internal/objabi).
		for _, r := range strings.Split(args[at], ";") {
			if filepath.IsAbs(r) {
				rules = append(rules, tmp+r)
			}
		}
	}
	for _, d := range order {
		rules = append(rules, filepath.Join(tmp, d)+"=>"+d)
	}
	if at >= 0 {
		out[at] = strings.Join(append(rules, args[at]), ";")
	} else {
		out = append(out[:first:first], append([]string{"-trimpath", strings.Join(rules, ";")}, out[first:]...)...)
	}
	return out, nil
}

// Rewrite returns src with a line directive, /*line :1*/, before the
// first token of each of its lines. Comments and the lines a token spans
// (raw strings) are left as they are; line directives already in src
// are overridden by the next line's.
func Rewrite(src []byte) []byte {
	fset := token.NewFileSet()
	f := fset.AddFile("", -1, len(src))
	var s scanner.Scanner
	s.Init(f, src, nil, 0) // comments are skipped
	var out bytes.Buffer
	out.Grow(len(src) + len(src)/3)
	last, line := 0, 0
	for {
		pos, tok, lit := s.Scan()
		if tok == token.EOF {
			break
		}
		if tok == token.SEMICOLON && lit == "\n" {
			continue // inserted by the scanner at a newline or EOF
		}
		// Unadjusted: the scanner applies line directives of src itself.
		p := fset.PositionFor(pos, false)
		if p.Line != line {
			off := f.Offset(pos)
			out.Write(src[last:off])
			out.WriteString(directive)
			last, line = off, p.Line
		}
	}
	out.Write(src[last:])
	return out.Bytes()
}

// version answers compile -V=full with the compiler's answer and the
// marker.
func version(tool string, args []string) int {
	cmd := exec.Command(tool, args...)
	cmd.Stderr = os.Stderr
	b, err := cmd.Output()
	if err != nil {
		os.Stdout.Write(b)
		return exitCode(err)
	}
	line := strings.TrimRight(string(b), "\n")
	fmt.Println(line + marker)
	return 0
}

// passthrough runs tool with args and returns its exit code.
func passthrough(tool string, args []string) int {
	cmd := exec.Command(tool, args...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	return exitCode(cmd.Run())
}

func exitCode(err error) int {
	if err == nil {
		return 0
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) && ee.ExitCode() > 0 {
		return ee.ExitCode()
	}
	fmt.Fprintln(os.Stderr, "nolines:", err)
	return 1
}
