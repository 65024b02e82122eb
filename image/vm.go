package image

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"time"
)

// VM is a running QEMU guest whose serial console is recorded.
type VM struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	log   *os.File

	mu     sync.Mutex
	cond   *sync.Cond
	lines  []string
	closed bool
	exit   error
}

// Fatal console lines: the boot cannot succeed once one of them is seen.
var fatalRE = regexp.MustCompile(`Kernel panic|Attempted to kill init|wgboot: FATAL`)

// ErrFatal is returned by Expect when the console shows a kernel panic or an
// init FATAL line.
var ErrFatal = errors.New("guest failed")

// Start boots c. The console is streamed to logPath as it arrives.
func Start(ctx context.Context, c Config, logPath string) (*VM, error) {
	args, err := c.Args()
	if err != nil {
		return nil, err
	}
	f, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, Arches[c.Arch].QEMU, args...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		f.Close()
		return nil, err
	}
	cmd.Stderr = cmd.Stdout
	stdin, err := cmd.StdinPipe()
	if err != nil {
		f.Close()
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		f.Close()
		return nil, fmt.Errorf("start %s: %w", cmd.Path, err)
	}
	vm := &VM{cmd: cmd, stdin: stdin, log: f}
	vm.cond = sync.NewCond(&vm.mu)
	go vm.read(stdout)
	return vm, nil
}

func (vm *VM) read(r io.Reader) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := strings.TrimRight(sc.Text(), "\r")
		vm.log.WriteString(line + "\n")
		vm.mu.Lock()
		vm.lines = append(vm.lines, line)
		vm.cond.Broadcast()
		vm.mu.Unlock()
	}
	err := vm.cmd.Wait()
	vm.mu.Lock()
	vm.closed, vm.exit = true, err
	vm.cond.Broadcast()
	vm.mu.Unlock()
	vm.log.Close()
}

// Expect waits until a console line matches re and returns it. It fails at
// the deadline, when the guest exits, or as soon as a fatal line appears.
func (vm *VM) Expect(re *regexp.Regexp, timeout time.Duration) (string, error) {
	return vm.expect(re, timeout, true)
}

// ExpectAny is Expect without failing on fatal lines, for tests that provoke
// them.
func (vm *VM) ExpectAny(re *regexp.Regexp, timeout time.Duration) (string, error) {
	return vm.expect(re, timeout, false)
}

func (vm *VM) expect(re *regexp.Regexp, timeout time.Duration, failFatal bool) (string, error) {
	deadline := time.Now().Add(timeout)
	t := time.AfterFunc(timeout, func() {
		vm.mu.Lock()
		vm.cond.Broadcast()
		vm.mu.Unlock()
	})
	defer t.Stop()
	vm.mu.Lock()
	defer vm.mu.Unlock()
	for i := 0; ; {
		for ; i < len(vm.lines); i++ {
			if re.MatchString(vm.lines[i]) {
				return vm.lines[i], nil
			}
			if failFatal && fatalRE.MatchString(vm.lines[i]) {
				return "", fmt.Errorf("%w: %s", ErrFatal, vm.lines[i])
			}
		}
		if vm.closed {
			return "", fmt.Errorf("guest exited (%v) before %q", vm.exit, re)
		}
		if time.Now().After(deadline) {
			return "", fmt.Errorf("no %q on the console after %v", re, timeout)
		}
		vm.cond.Wait()
	}
}

// Send types s on the serial console.
func (vm *VM) Send(s string) error {
	_, err := io.WriteString(vm.stdin, s)
	return err
}

// Wait waits for the guest to power off, up to timeout, then kills it.
func (vm *VM) Wait(timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	t := time.AfterFunc(timeout, func() {
		vm.mu.Lock()
		vm.cond.Broadcast()
		vm.mu.Unlock()
	})
	defer t.Stop()
	vm.mu.Lock()
	for !vm.closed && time.Now().Before(deadline) {
		vm.cond.Wait()
	}
	closed, exit := vm.closed, vm.exit
	vm.mu.Unlock()
	if !closed {
		vm.Kill()
		return fmt.Errorf("guest still running after %v; killed", timeout)
	}
	return exit
}

// Kill stops the guest at once.
func (vm *VM) Kill() {
	if vm.cmd.Process != nil {
		vm.cmd.Process.Kill()
	}
}

// Console returns everything the console printed so far.
func (vm *VM) Console() string {
	vm.mu.Lock()
	defer vm.mu.Unlock()
	return strings.Join(vm.lines, "\n")
}

// Tail returns the console's last n lines, for failure messages.
func (vm *VM) Tail(n int) string {
	vm.mu.Lock()
	defer vm.mu.Unlock()
	l := vm.lines
	if len(l) > n {
		l = l[len(l)-n:]
	}
	var b bytes.Buffer
	for _, s := range l {
		b.WriteString(s + "\n")
	}
	return b.String()
}
