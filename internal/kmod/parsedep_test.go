package kmod

import (
	"errors"
	"io"
	"strings"
	"testing"
)

// failingReader returns its text, then err.
type failingReader struct {
	text string
	err  error
}

func (r *failingReader) Read(p []byte) (int, error) {
	if r.text == "" {
		return 0, r.err
	}
	n := copy(p, r.text)
	r.text = r.text[n:]
	return n, nil
}

// ParseDep reads lines as bufio.Scanner did: CRLF, blank and comment lines,
// a last line without a newline, the line numbers of its errors, what was
// read before a read error (a syntax error there comes first), and a line
// of 1 MiB or more refused with bufio's words.
func TestParseDepLines(t *testing.T) {
	d, err := ParseDep(strings.NewReader("# c\r\n\r\nkernel/a.ko: kernel/b.ko kernel/c.ko\r\n  kernel/b.ko:\nkernel/c-d.ko:"))
	if err != nil {
		t.Fatalf("ParseDep: %v", err)
	}
	if d.Path["a"] != "kernel/a.ko" || strings.Join(d.Deps["a"], " ") != "kernel/b.ko kernel/c.ko" ||
		d.Path["b"] != "kernel/b.ko" || len(d.Deps["b"]) != 0 || d.Path["c_d"] != "kernel/c-d.ko" {
		t.Errorf("ParseDep = %+v", d)
	}
	if _, err := ParseDep(strings.NewReader("a.ko:\n\nb.ko\n")); err == nil || err.Error() != `modules.dep:3: want "module.ko: deps...", got "b.ko"` {
		t.Errorf("ParseDep error = %v", err)
	}
	eio := errors.New("i/o error")
	if _, err := ParseDep(&failingReader{"a.ko:\nb.ko", eio}); err == nil || err.Error() != `modules.dep:2: want "module.ko: deps...", got "b.ko"` {
		t.Errorf("ParseDep of a failing read with a bad line = %v", err)
	}
	if _, err := ParseDep(&failingReader{"a.ko:\nb.ko:", eio}); !errors.Is(err, eio) || err.Error() != "read modules.dep: i/o error" {
		t.Errorf("ParseDep of a failing read = %v", err)
	}
	long := "a.ko: " + strings.Repeat("x.ko ", (1<<20)/5)
	if _, err := ParseDep(io.MultiReader(strings.NewReader("b.ko:\n"), strings.NewReader(long+"\n"))); err == nil || err.Error() != "read modules.dep: bufio.Scanner: token too long" {
		t.Errorf("ParseDep of a 1 MiB line = %v", err)
	}
	if _, err := ParseDep(strings.NewReader(long[:1<<20-1] + "\n")); err != nil {
		t.Errorf("ParseDep of a line just under 1 MiB = %v", err)
	}
}
