// Command mkimage writes a wgboot initramfs: /init, device nodes, board
// profiles and key files, and the closure of the kernel modules they need.
//
//	mkimage -init out/arm64/init -modules-dir .cache/kernels/arm64/modules \
//	        -modules wireguard -file /etc/wgboot/profiles/default.toml=board/profiles/qemu-arm64.toml \
//	        -compress xz -o out/arm64/initramfs.cpio.xz
//
// With -rescue it adds u-root's busybox (a shell, ip, dmesg, …; see
// image.Rescue), built for the architecture of the -init binary from the
// tools module (-tools) and cached under -out-dir, and the remote rescue's
// SSH server; the -init binary must then be a rescue image's, built with
// -tags rescue (image.RescueTag; make image RESCUE=1 builds
// out/ARCH/init-rescue).
//
// xz images go through the BCJ filter for the -init binary's architecture
// when the kernel of -modules-dir can undo it (-bcj auto; see image.XZ and
// image.XZFor): --x86 on amd64, 3 % smaller; none on arm64 before Linux
// 6.12. -bcj none is for a kernel built without CONFIG_XZ_DEC_X86.
package main

import (
	"bytes"
	"debug/elf"
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/wgboot/wgboot/image"
)

type fileFlags []image.File

func (f *fileFlags) String() string { return "" }

// Set takes IMAGEPATH=HOSTPATH[:MODE], MODE in octal.
func (f *fileFlags) Set(v string) error {
	dst, src, ok := strings.Cut(v, "=")
	if !ok || !strings.HasPrefix(dst, "/") {
		return fmt.Errorf("want /image/path=host/path[:mode], got %q", v)
	}
	var mode uint32
	if i := strings.LastIndex(src, ":"); i >= 0 {
		if _, err := fmt.Sscanf(src[i+1:], "%o", &mode); err != nil {
			return fmt.Errorf("bad mode in %q: %w", v, err)
		}
		src = src[:i]
	}
	data, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	*f = append(*f, image.File{Path: dst, Data: data, Mode: mode})
	return nil
}

type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

func main() {
	var (
		initPath   = flag.String("init", "", "path of the /init binary")
		modulesDir = flag.String("modules-dir", "", "host /lib/modules/<version> tree")
		modules    = flag.String("modules", "", "comma-separated module names to include with their dependencies, beyond the profiles'")
		compress   = flag.String("compress", "xz", "xz, zstd or none")
		out        = flag.String("o", "", "output file")
		rescue     = flag.Bool("rescue", false, "add u-root's rescue tools (shell, ip, dmesg, …) and the remote rescue's SSH server for the -init binary's architecture; -init must be built with -tags rescue")
		toolsDir   = flag.String("tools", "tools", "with -rescue: the tools module's directory")
		outDir     = flag.String("out-dir", "out", "with -rescue: where the host u-root tool and the per-arch layer cache go")
		bcj        = flag.String("bcj", "auto", "with -compress xz: the BCJ filter before LZMA2 (x86, arm64, …, or none); auto: the -init binary's arch's, if the kernel of -modules-dir can undo it")
		files      fileFlags
		profiles   listFlag
	)
	flag.Var(&profiles, "profile", "board profile to include, with its relative key files (repeatable)")
	flag.Var(&files, "file", "IMAGEPATH=HOSTPATH[:MODE] to add (repeatable)")
	flag.Parse()
	if *initPath == "" || *out == "" {
		fmt.Fprintln(os.Stderr, "usage: mkimage -init PATH -o OUT [-profile FILE]... [-modules-dir DIR] [-modules a,b] [-file /img=host]...")
		os.Exit(2)
	}
	// The arch picks the rescue tools' build and the xz filter.
	arch, archErr := initArch(*initPath)
	if archErr != nil && (*rescue || (*compress == "xz" && *bcj == "auto")) {
		fmt.Fprintln(os.Stderr, "mkimage:", archErr)
		os.Exit(1)
	}
	if *rescue {
		// A rescue image's /init carries the remote rescue; the default
		// /init would take remote_fallback where the profile asks for it.
		ok, err := image.HasRescueTag(*initPath)
		if err != nil {
			fmt.Fprintf(os.Stderr, "mkimage: -rescue: %s: %v\n", *initPath, err)
			os.Exit(1)
		}
		if !ok {
			fmt.Fprintf(os.Stderr, "mkimage: -rescue: %s was not built with -tags %s: a rescue image's /init has the remote rescue; make image RESCUE=1 builds it (out/ARCH/init-rescue)\n", *initPath, image.RescueTag)
			os.Exit(1)
		}
		extra, err := image.Rescue{ToolsDir: *toolsDir, OutDir: *outDir, Log: os.Stderr}.Files(arch)
		if err != nil {
			fmt.Fprintln(os.Stderr, "mkimage:", err)
			os.Exit(1)
		}
		files = append(files, extra...)
	}
	xz := xzOptions(*bcj, arch, *modulesDir, *compress == "xz")
	if err := run(*initPath, *modulesDir, *modules, *compress, xz, *out, profiles, files); err != nil {
		fmt.Fprintln(os.Stderr, "mkimage:", err)
		os.Exit(1)
	}
}

// xzOptions turns -bcj into xz options for arch, saying what auto chose.
func xzOptions(bcj, arch, modulesDir string, say bool) image.XZ {
	x, why := image.XZFor(arch, modulesDir)
	switch bcj {
	case "auto":
		if say {
			fmt.Fprintf(os.Stderr, "mkimage: xz: %s\n", why)
		}
	case "none":
		x.BCJ = ""
	default:
		x.BCJ = bcj
	}
	return x
}

func run(initPath, modulesDir, modules, compress string, xz image.XZ, out string, profiles []string, files []image.File) error {
	initBin, err := os.ReadFile(initPath)
	if err != nil {
		return err
	}
	pfiles, mods, err := image.Profiles(profiles)
	if err != nil {
		return err
	}
	spec := image.Spec{Init: initBin, ModulesDir: modulesDir, Files: append(pfiles, files...), Compress: compress, XZ: xz, Modules: mods}
	for _, m := range strings.Split(modules, ",") {
		if m = strings.TrimSpace(m); m != "" {
			spec.Modules = append(spec.Modules, m)
		}
	}
	var buf bytes.Buffer
	if err := image.Build(spec, &buf); err != nil {
		return err
	}
	tmp := out + ".tmp"
	if err := os.WriteFile(tmp, buf.Bytes(), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, out)
}

// initArch is the guest architecture of the init binary at initPath.
func initArch(initPath string) (string, error) {
	f, err := elf.Open(initPath)
	if err != nil {
		return "", fmt.Errorf("-init: %w", err)
	}
	defer f.Close()
	switch f.Machine {
	case elf.EM_X86_64:
		return "amd64", nil
	case elf.EM_AARCH64:
		return "arm64", nil
	}
	return "", fmt.Errorf("-init: %s is a %v binary; wgboot images are amd64 or arm64", initPath, f.Machine)
}
