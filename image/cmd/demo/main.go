// Command demo builds the default wgboot image for one arch and boots it
// under QEMU (TCG), printing the guest's console. It is what `make demo`
// runs.
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"time"

	"github.com/wgboot/wgboot/image"
)

func main() {
	arch := flag.String("arch", "amd64", "guest architecture: amd64 or arm64")
	kernels := flag.String("kernels", ".cache/kernels", "directory filled by `make kernels`")
	flag.Parse()
	if err := run(*arch, *kernels); err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(1)
	}
}

func run(arch, kernels string) error {
	out := filepath.Join("out", arch)
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	initPath := filepath.Join(out, "init")
	build := exec.Command("go", "build", "-trimpath", "-ldflags=-s -w", "-o", initPath, "./init")
	build.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+arch, "GOAMD64=v1")
	build.Stdout, build.Stderr = os.Stdout, os.Stderr
	if err := build.Run(); err != nil {
		return fmt.Errorf("build init: %w", err)
	}
	initBin, err := os.ReadFile(initPath)
	if err != nil {
		return err
	}
	spec := image.Spec{
		Init:       initBin,
		ModulesDir: filepath.Join(kernels, arch, "modules"),
		Modules:    []string{"wireguard"},
		Compress:   "xz",
	}
	var buf bytes.Buffer
	if err := image.Build(spec, &buf); err != nil {
		return err
	}
	initrd := filepath.Join(out, "initramfs.cpio.xz")
	if err := os.WriteFile(initrd, buf.Bytes(), 0o644); err != nil {
		return err
	}
	fmt.Printf("demo: %s image %s (%d bytes); booting under QEMU\n", arch, initrd, buf.Len())

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	logPath := filepath.Join(out, "demo-console.log")
	vm, err := image.Start(ctx, image.Config{
		Arch:   arch,
		Kernel: filepath.Join(kernels, arch, "vmlinuz"),
		Initrd: initrd,
		Append: []string{"wgboot.test=poweroff"},
	}, logPath)
	if err != nil {
		return err
	}
	defer vm.Kill()
	line, err := vm.Expect(regexp.MustCompile(`wgboot: (READY|FAILED)`), 3*time.Minute)
	vm.Wait(time.Minute)
	fmt.Print(vm.Console(), "\n")
	if err != nil {
		return err
	}
	fmt.Printf("\ndemo: %s\ndemo: full console in %s\n", line, logPath)
	if regexp.MustCompile(`FAILED`).MatchString(line) {
		return fmt.Errorf("boot failed")
	}
	return nil
}
