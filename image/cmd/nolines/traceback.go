package main

import (
	"bufio"
	"debug/elf"
	"debug/gosym"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
)

// The -traceback mode: nolines -traceback BINARY < console.log
//
// A traceback of an /init built through nolines names each frame's
// function and its PC offset, with no file:line:
//
//	main.crash(0x4cf878?)
//		??:1 +0x9
//
// BINARY is the same commit's /init built with line tables (make build
// LINES=1; stripped or not: the function table is in .gopclntab). The
// code of both builds is the same but in a few functions whose
// instructions the compiler scheduled in another order (docs/size.md),
// so the function's entry in BINARY plus the offset is the same
// instruction, and BINARY's line table says where it came from. The
// traceback is copied to stdout with "??:1" replaced by file:line.
//
// A caller's offset is its return address, so the line is looked up at
// the byte before it, as the runtime does; the frame that faulted (the
// first one below a "[signal ...]" panic's runtime frames) is looked up
// at the offset itself (the runtime prints none for its entry). Other
// frames without an offset are inlined ones, left as they are: the line
// given for the physical frame below them is the innermost inlined
// call's.

var (
	createdBy   = regexp.MustCompile(`^created by (\S+)( in goroutine \d+)?$`)
	posLine     = regexp.MustCompile(`^(\t)(\?\?|[^ ]*):1(( \+0x([0-9a-f]+))?.*)$`)
	goroutineRE = regexp.MustCompile(`^goroutine \d+ \[`)
)

// mapTraceback copies r to w with file:line put back from bin.
func mapTraceback(bin string, r io.Reader, w io.Writer) error {
	f, err := elf.Open(bin)
	if err != nil {
		return err
	}
	defer f.Close()
	pcln, text := f.Section(".gopclntab"), f.Section(".text")
	if pcln == nil || text == nil {
		return fmt.Errorf("%s: no .gopclntab or .text: not a Go ELF binary", bin)
	}
	data, err := pcln.Data()
	if err != nil {
		return err
	}
	tab, err := gosym.NewTable(nil, gosym.NewLineTable(data, text.Addr))
	if err != nil {
		return fmt.Errorf("%s: %v", bin, err)
	}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	var fn string
	signal, faulting := false, false
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "[signal "), strings.Contains(line, "panic: ") && strings.Contains(line, "[signal "):
			signal = true
		case goroutineRE.MatchString(line):
			faulting = signal
			signal = false
		}
		if m := posLine.FindStringSubmatch(line); m != nil && fn != "" {
			off, _ := strconv.ParseUint(m[5], 16, 64)
			exact := faulting && !strings.HasPrefix(fn, "runtime.")
			if !strings.HasPrefix(fn, "runtime.") {
				faulting = false
			}
			// Without an offset: the frame faulted at its entry, or it
			// is inlined (left as it is).
			if p := tab.LookupFunc(fn); p != nil && (off > 0 || exact) {
				pc := p.Entry + off
				if !exact {
					pc--
				}
				if file, n, _ := tab.PCToLine(pc); file != "" {
					line = m[1] + file + ":" + strconv.Itoa(n) + m[3]
				}
			}
			fn = ""
		} else if m := createdBy.FindStringSubmatch(line); m != nil {
			fn = m[1]
		} else if i := strings.LastIndexByte(line, '('); i > 0 && strings.HasSuffix(line, ")") && !strings.ContainsAny(line[:1], " \t") {
			fn = line[:i] // the arguments have no parentheses
		} else {
			fn = ""
		}
		if _, err := fmt.Fprintln(w, line); err != nil {
			return err
		}
	}
	return sc.Err()
}
