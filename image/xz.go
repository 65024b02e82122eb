package image

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

// XZ says how an image is xz-compressed beyond LZMA2 preset 9e, for the
// code it carries and the kernel that unpacks it.
//
// The kernel unpacks an initramfs with its own xz decoder (lib/xz), which
// takes LZMA2 behind at most one BCJ filter, and only a filter its
// configuration enables: CONFIG_XZ_DEC_X86 (default y on x86), _ARM,
// _ARMTHUMB, _POWERPC, _IA64, _SPARC, and _ARM64 from Linux 6.12 on. An
// image behind any other filter does not unpack, and the kernel boots with
// no /init. Its checks are CRC32 or none (not CRC64).
//
// It decodes an initramfs in multi-call mode (the output goes to a flush
// callback), which allocates (vmalloc) the whole dictionary the stream's
// header names, with no limit: preset 9's 64 MiB for a 4 MiB image. args
// therefore asks for the smallest dictionary that holds the whole image,
// which compresses exactly as well.
type XZ struct {
	BCJ   string // branch filter before LZMA2: "x86", "arm64", "arm", "armthumb", "powerpc", "ia64", "sparc"; "" none
	LZMA2 string // further LZMA2 options, e.g. "lc=2,lp=2,pb=2" for 4-byte instructions
}

// bcjFilters are the BCJ filters of xz(1), with the kernel option that
// lets the kernel's decoder undo each.
var bcjFilters = map[string]string{
	"x86":      "CONFIG_XZ_DEC_X86",
	"arm64":    "CONFIG_XZ_DEC_ARM64",
	"arm":      "CONFIG_XZ_DEC_ARM",
	"armthumb": "CONFIG_XZ_DEC_ARMTHUMB",
	"powerpc":  "CONFIG_XZ_DEC_POWERPC",
	"ia64":     "CONFIG_XZ_DEC_IA64",
	"sparc":    "CONFIG_XZ_DEC_SPARC",
}

// archBCJ is each guest architecture's BCJ filter and its LZMA2 options.
// lc=2,lp=2 models literals by their place in a 4-byte arm64 instruction:
// 0.7 % smaller images with or without the arm64 filter (1,188,576 →
// 1,179,800 bytes, the default arm64 image of 2026-12-07).
var archBCJ = map[string]XZ{
	"amd64": {BCJ: "x86"},
	"arm64": {BCJ: "arm64", LZMA2: "lc=2,lp=2,pb=2"},
}

// lzma2Opt is one LZMA2 option XZ.LZMA2 may add; the dictionary and the
// preset are args' own.
var lzma2Opt = regexp.MustCompile(`^((lc|lp|pb|nice|depth)=[0-9]+|mf=(hc3|hc4|bt2|bt3|bt4)|mode=(fast|normal))$`)

// args are xz's filter arguments for an input of n bytes.
func (x XZ) args(n int) ([]string, error) {
	var args []string
	if x.BCJ != "" {
		if _, ok := bcjFilters[x.BCJ]; !ok {
			return nil, fmt.Errorf("image: unknown xz BCJ filter %q", x.BCJ)
		}
		args = append(args, "--"+x.BCJ)
	}
	opts := "preset=9e,dict=" + fmt.Sprint(dictSize(n))
	if x.LZMA2 != "" {
		for _, o := range strings.Split(x.LZMA2, ",") {
			if !lzma2Opt.MatchString(o) {
				return nil, fmt.Errorf("image: xz LZMA2 option %q: want lc=, lp=, pb=, nice=, depth=, mf= or mode=", o)
			}
		}
		opts += "," + x.LZMA2
	}
	return append(args, "--lzma2="+opts), nil
}

// dictSize is the smallest LZMA2 dictionary (2^k or 3·2^(k-1) bytes, at
// least 4 KiB) that holds n bytes, at most preset 9's 64 MiB.
func dictSize(n int) int {
	const min, max = 4 << 10, 64 << 20
	for d := min; d < max; d <<= 1 {
		if d >= n {
			return d
		}
		if d+d/2 >= n {
			return d + d/2
		}
	}
	return max
}

// XZFor returns the xz options for images of the guest arch whose kernel's
// modules are in modulesDir, and why. The BCJ filter is the arch's when the
// kernel's configuration, found beside its modules (a Debian package's
// /boot/config-<version>, or the build tree's .config through the
// modules' build link), enables its decoder. Without a configuration it
// is the arch's filter if the kernel enables it by default (x86), and
// none otherwise (arm64's decoder is new in Linux 6.12).
func XZFor(arch, modulesDir string) (XZ, string) {
	x, ok := archBCJ[arch]
	if !ok {
		return XZ{}, fmt.Sprintf("no BCJ filter for %s", arch)
	}
	option := bcjFilters[x.BCJ]
	config, enabled, found := kernelOption(modulesDir, option)
	switch {
	case found && enabled:
		return x, fmt.Sprintf("--%s: %s=y in %s", x.BCJ, option, config)
	case found:
		x.BCJ = ""
		return x, fmt.Sprintf("no BCJ filter: %s is not set in %s", option, config)
	case arch == "amd64":
		return x, fmt.Sprintf("--%s: no kernel configuration found; %s is on by default", x.BCJ, option)
	default:
		x.BCJ = ""
		return x, fmt.Sprintf("no BCJ filter: no kernel configuration found to show %s=y", option)
	}
}

// kernelOption looks for the kernel configuration that belongs to the
// modules tree dir and reports whether it sets option to y.
func kernelOption(dir, option string) (config string, enabled, found bool) {
	if dir == "" {
		return "", false, false
	}
	real, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return "", false, false
	}
	ver := filepath.Base(real)
	// <root>/lib/modules/<version> → <root>/boot/config-<version>
	candidates := []string{
		filepath.Join(real, "..", "..", "..", "boot", "config-"+ver),
		filepath.Join(real, "build", ".config"),
	}
	for _, c := range candidates {
		f, err := os.Open(c)
		if err != nil {
			continue
		}
		enabled = false
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if strings.TrimSpace(sc.Text()) == option+"=y" {
				enabled = true
				break
			}
		}
		err = sc.Err()
		f.Close()
		if err != nil {
			continue
		}
		return filepath.Clean(c), enabled, true
	}
	return "", false, false
}
