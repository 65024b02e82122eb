// Package kmod loads kernel modules and their dependencies with
// finit_module(2), in the order modules.dep gives, without modprobe.
package kmod

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"strings"
	"time"

	"github.com/wgboot/wgboot/internal/krule"
)

// Dep is modules.dep parsed: for each canonical module name, its file and
// the files of its whole dependency closure, in depmod's order (load the
// last one first).
type Dep struct {
	Path map[string]string   // name → file, relative to the modules dir
	Deps map[string][]string // name → dependency files
}

// Name folds a module file name or module name into the kernel's canonical
// form: no directory, no .ko suffix, '-' written as '_'.
func Name(s string) string {
	s = path.Base(s)
	if i := strings.Index(s, ".ko"); i >= 0 {
		s = s[:i]
	}
	return krule.FoldName(s)
}

// errLineTooLong is what ParseDep says of a line of 1 MiB or more, the
// words of bufio.Scanner's ErrTooLong, which it read the file with before.
var errLineTooLong = errors.New("bufio.Scanner: token too long")

// ParseDep reads a modules.dep file.
//
// It reads the whole file and cuts it into lines itself, as bufio.Scanner
// did (ScanLines, a 1 MiB limit; what was read before a read error is
// parsed first, a last line cut short too), without linking bufio, which only this and the peak RSS
// line of the state file used: /init 4.2 KB xz smaller on amd64, 1.7 KB
// on arm64, with vmHWM's (docs/size.md).
func ParseDep(r io.Reader) (*Dep, error) {
	d := &Dep{Path: make(map[string]string), Deps: make(map[string][]string)}
	data, rerr := io.ReadAll(r)
	rest := string(data)
	for line := 1; rest != ""; line++ {
		raw, after, _ := strings.Cut(rest, "\n")
		if len(raw) >= 1<<20 {
			return nil, fmt.Errorf("read modules.dep: %w", errLineTooLong)
		}
		rest = after
		text := strings.TrimSpace(raw)
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		file, deps, ok := strings.Cut(text, ":")
		if !ok || file == "" {
			return nil, fmt.Errorf("modules.dep:%d: want \"module.ko: deps...\", got %q", line, text)
		}
		n := Name(file)
		d.Path[n] = file
		d.Deps[n] = strings.Fields(deps)
	}
	if rerr != nil {
		return nil, fmt.Errorf("read modules.dep: %w", rerr)
	}
	return d, nil
}

// Result says what happened to one module.
type Result struct {
	Name     string
	Already  bool // loaded before (EEXIST) or built into the kernel
	Duration time.Duration
}

// Loader loads modules from one modules directory.
type Loader struct {
	FS fs.FS // the modules directory, /lib/modules/<uname -r>
	// Load inserts one module; file is the module's path in FS. It returns
	// ErrExist when the module is already loaded.
	Load func(file string, params string) error
	// Builtin reports whether a module not in modules.dep is part of the
	// running kernel (for example /sys/module/NAME exists).
	Builtin func(name string) bool
	// Params are module parameters by canonical module name, as the kernel
	// command line gives them (wireguard.foo=1).
	Params map[string]string

	dep  *Dep
	done map[string]bool
}

// ErrExist is returned by a Load func for a module that is already loaded.
var ErrExist = errors.New("module already loaded")

// LoadAll loads each named module after its dependencies. It stops at the
// first failure and returns the results so far with an error naming the
// module and the dependency that failed.
func (l *Loader) LoadAll(names []string) ([]Result, error) {
	if err := l.readDep(); err != nil {
		return nil, err
	}
	var res []Result
	for _, n := range names {
		n = Name(n)
		file, ok := l.dep.Path[n]
		if !ok {
			if l.Builtin != nil && l.Builtin(n) {
				res = append(res, Result{Name: n, Already: true})
				continue
			}
			return res, fmt.Errorf("module %s: not in modules.dep and not built in", n)
		}
		deps := l.dep.Deps[n]
		for i := len(deps) - 1; i >= 0; i-- {
			r, err := l.insert(deps[i])
			if err != nil {
				return res, fmt.Errorf("module %s: dependency %w", n, err)
			}
			res = append(res, r...)
		}
		r, err := l.insert(file)
		if err != nil {
			return res, fmt.Errorf("module %w", err)
		}
		res = append(res, r...)
	}
	return res, nil
}

// File is module name's file in the modules directory, as modules.dep
// gives it, such as kernel/drivers/watchdog/softdog.ko; ok is false for
// a module modules.dep does not list.
func (l *Loader) File(name string) (file string, ok bool, err error) {
	if err := l.readDep(); err != nil {
		return "", false, err
	}
	file, ok = l.dep.Path[Name(name)]
	return file, ok, nil
}

// readDep reads modules.dep, once.
func (l *Loader) readDep() error {
	if l.dep != nil {
		return nil
	}
	f, err := l.FS.Open("modules.dep")
	if err != nil {
		return fmt.Errorf("open modules.dep: %w", err)
	}
	d, err := ParseDep(f)
	f.Close()
	if err != nil {
		return err
	}
	l.dep, l.done = d, make(map[string]bool)
	return nil
}

// insert loads one module file unless this loader already did.
func (l *Loader) insert(file string) ([]Result, error) {
	n := Name(file)
	if l.done[n] {
		return nil, nil
	}
	start := time.Now()
	err := l.Load(file, l.Params[n])
	r := Result{Name: n, Duration: time.Since(start)}
	switch {
	case errors.Is(err, ErrExist):
		r.Already = true
	case err != nil:
		return nil, fmt.Errorf("%s (%s): %w", n, file, err)
	}
	l.done[n] = true
	return []Result{r}, nil
}
