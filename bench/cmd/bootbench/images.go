package main

import (
	"bytes"
	"crypto/rand"
	"debug/elf"
	"encoding/base64"
	"fmt"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"

	"github.com/wgboot/wgboot/board"
	"github.com/wgboot/wgboot/image"
	"github.com/wgboot/wgboot/internal/wgkey"
)

// guestBuild builds a main package of this module as a static guest binary
// (the bench's own programs; wgboot itself comes from make build).
func guestBuild(arch, pkg, out string) ([]byte, error) {
	cmd := exec.Command("go", "build", "-trimpath", "-ldflags=-s -w", "-o", out, pkg)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+arch, "GOAMD64=v1", "GOARM64=v8.0")
	if b, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("build %s for %s: %w\n%s", pkg, arch, err, b)
	}
	return os.ReadFile(out)
}

// buildImage writes the image for spec to out and returns its size.
func buildImage(spec image.Spec, out string) (int64, error) {
	var buf bytes.Buffer
	if err := image.Build(spec, &buf); err != nil {
		return 0, err
	}
	return int64(buf.Len()), os.WriteFile(out, buf.Bytes(), 0o644)
}

// imageSizes builds spec raw and xz-compressed (the form booted, with the
// arch's xz options) under the arch's directory and returns both sizes;
// the xz file is the one to boot.
func (a *archRun) imageSizes(spec image.Spec, name string) (raw, xz int64, xzPath string, err error) {
	spec.Compress = "none"
	if raw, err = buildImage(spec, filepath.Join(a.dir, name+".cpio")); err != nil {
		return
	}
	spec.Compress, spec.XZ = "xz", a.xz
	xzPath = filepath.Join(a.dir, name+".cpio.xz")
	xz, err = buildImage(spec, xzPath)
	return
}

// xzArgs are xz's arguments for x, as image.Build passes them (its
// dictionary is the smallest that holds the input, which compresses the
// same as preset 9's).
func xzArgs(x image.XZ) []string {
	var args []string
	if x.BCJ != "" {
		args = append(args, "--"+x.BCJ)
	}
	lzma := "preset=9e"
	if x.LZMA2 != "" {
		lzma += "," + x.LZMA2
	}
	return append(args, "--lzma2="+lzma)
}

// xzSize compresses a file the way image.Build does and returns the size.
func xzSize(file string, x image.XZ) (int64, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return 0, err
	}
	n, err := xzBytes(data, x)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", file, err)
	}
	return n, nil
}

// xzBytes compresses data the way image.Build does and returns the size.
func xzBytes(data []byte, x image.XZ) (int64, error) {
	var out bytes.Buffer
	cmd := exec.Command("xz", append([]string{"--check=crc32", "-T1", "-c"}, xzArgs(x)...)...)
	cmd.Stdin, cmd.Stdout = bytes.NewReader(data), &out
	if err := cmd.Run(); err != nil {
		return 0, fmt.Errorf("xz: %w", err)
	}
	return int64(out.Len()), nil
}

// benchJob is the bench profile with the keys generated for this run, and
// the same job written for the wg-quick-style baseline.
type benchJob struct {
	dir     string // holds the profile and its key files, for image.Profiles
	profile *board.Profile
	privKey string // base64
	psk     string // base64
}

// newBenchJob copies the profile at src into dir with freshly generated
// keys and parses it.
func newBenchJob(src, dir string) (*benchJob, error) {
	data, err := os.ReadFile(src)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	priv, err := wgkey.GeneratePrivateKey()
	if err != nil {
		return nil, err
	}
	var psk [32]byte
	if _, err := rand.Read(psk[:]); err != nil {
		return nil, err
	}
	j := &benchJob{dir: dir, privKey: priv.Reveal(), psk: base64.StdEncoding.EncodeToString(psk[:])}
	p, diags := board.Parse(src, data)
	if err := diags.Err(); err != nil {
		return nil, fmt.Errorf("profile %s: %w", src, err)
	}
	j.profile = p
	for _, t := range p.Tunnels {
		files := map[string]string{t.PrivateKeyFile: j.privKey}
		for _, peer := range t.Peers {
			if peer.PresharedKeyFile != "" {
				files[peer.PresharedKeyFile] = j.psk
			}
		}
		for name, key := range files {
			if name == "" || path.IsAbs(name) {
				return nil, fmt.Errorf("profile %s: the bench wants relative key files", src)
			}
			if err := os.WriteFile(filepath.Join(dir, name), []byte(key+"\n"), 0o600); err != nil {
				return nil, err
			}
		}
	}
	if err := os.WriteFile(filepath.Join(dir, filepath.Base(src)), data, 0o644); err != nil {
		return nil, err
	}
	return j, nil
}

// profileFiles are the image files and modules for the profile: what the
// wgboot image carries.
func (j *benchJob) profileFiles(name string) ([]image.File, []string, error) {
	return image.Profiles([]string{filepath.Join(j.dir, name)})
}

// wgConf is the tunnel's configuration in wg(8) setconf form.
func (j *benchJob) wgConf(t board.Tunnel) string {
	var b strings.Builder
	fmt.Fprintf(&b, "[Interface]\nPrivateKey = %s\n", j.privKey)
	if t.ListenPort != 0 {
		fmt.Fprintf(&b, "ListenPort = %d\n", t.ListenPort)
	}
	if t.FwMark != 0 {
		fmt.Fprintf(&b, "FwMark = %d\n", t.FwMark)
	}
	for _, p := range t.Peers {
		fmt.Fprintf(&b, "\n[Peer]\nPublicKey = %s\n", p.PublicKey)
		if p.PresharedKeyFile != "" {
			fmt.Fprintf(&b, "PresharedKey = %s\n", j.psk)
		}
		if p.Endpoint.IsValid() {
			fmt.Fprintf(&b, "Endpoint = %s\n", p.Endpoint)
		}
		var ips []string
		for _, a := range p.AllowedIPs {
			ips = append(ips, a.String())
		}
		fmt.Fprintf(&b, "AllowedIPs = %s\n", strings.Join(ips, ", "))
		if p.PersistentKeepalive != 0 {
			fmt.Fprintf(&b, "PersistentKeepalive = %d\n", p.PersistentKeepalive)
		}
	}
	return b.String()
}

// Markers the wg-quick-style /init writes to /dev/kmsg; the kernel stamps
// them like wgboot's own log lines.
const (
	scriptMain     = "wgquick: main"
	scriptModStart = "wgquick: modules start"
	scriptModDone  = "wgquick: modules done"
	scriptUp       = "wgquick: tunnel up"
	scriptRSS      = "wgquick: init"
)

// initScript is the wg-quick-style /init doing the profile's job with
// busybox, iproute2's ip and wg(8): what wg-quick up does, minus its
// checks, in the order wgboot does it.
func (j *benchJob) initScript() string {
	var b strings.Builder
	kmsg := func(s string) { fmt.Fprintf(&b, "echo '<6>%s' >/dev/kmsg\n", s) }
	b.WriteString("#!/bin/sh\n# wg-quick-style early boot: the bench baseline (bench/cmd/bootbench).\n")
	b.WriteString("export PATH=/sbin:/bin:/usr/sbin:/usr/bin\n")
	b.WriteString("mount -t devtmpfs -o mode=0755,nosuid dev /dev\n")
	kmsg(scriptMain)
	b.WriteString("mount -t proc -o nosuid,nodev,noexec proc /proc\n")
	b.WriteString("mount -t sysfs -o nosuid,nodev,noexec sys /sys\n")
	b.WriteString("mount -t tmpfs -o mode=0755,nosuid,nodev run /run\n")
	kmsg(scriptModStart)
	mods := append([]string{}, j.profile.Board.Modules...)
	if len(mods) == 0 {
		mods = []string{"wireguard"}
	}
	for _, m := range mods {
		fmt.Fprintf(&b, "modprobe %s\n", m)
	}
	kmsg(scriptModDone)
	// Full paths: busybox has an ip applet that would otherwise win.
	for _, t := range j.profile.Tunnels {
		fmt.Fprintf(&b, "/sbin/ip link add %s type wireguard\n", t.Name)
		fmt.Fprintf(&b, "/usr/bin/wg setconf %s /etc/wireguard/%s.conf\n", t.Name, t.Name)
		for _, a := range t.Address {
			fmt.Fprintf(&b, "/sbin/ip address add %s dev %s\n", a, t.Name)
		}
		mtu := ""
		if t.MTU != 0 {
			mtu = fmt.Sprintf(" mtu %d", t.MTU)
		}
		fmt.Fprintf(&b, "/sbin/ip link set dev %s%s up\n", t.Name, mtu)
		if t.Table != board.TableOff {
			for _, p := range t.Peers {
				for _, a := range p.AllowedIPs {
					fmt.Fprintf(&b, "/sbin/ip route replace %s dev %s table %d\n", a.Masked(), t.Name, t.Table)
				}
			}
		}
	}
	kmsg(scriptUp)
	fmt.Fprintf(&b, "echo \"<6>%s $(grep VmHWM /proc/$$/status)\" >/dev/kmsg\n", scriptRSS)
	b.WriteString("poweroff -f\n")
	return b.String()
}

// scriptFiles are the wg-quick-style image's files besides /init (the
// script) and the modules: busybox and its applet links, ip and wg with
// their ELF closure, the wg(8) configuration. libBytes is the shared
// libraries' size.
func (j *benchJob) scriptFiles(debRoot string) (files []image.File, libBytes int64, err error) {
	bb, err := os.ReadFile(filepath.Join(debRoot, "bin/busybox"))
	if err != nil {
		return nil, 0, err
	}
	files = []image.File{{Path: "/bin/busybox", Data: bb, Mode: 0o755}}
	for _, applet := range []string{"/bin/sh", "/bin/mount", "/bin/grep", "/bin/echo", "/sbin/modprobe", "/sbin/poweroff"} {
		files = append(files, image.File{Path: applet, Target: "busybox"})
		if strings.HasPrefix(applet, "/sbin/") {
			files[len(files)-1].Target = "../bin/busybox"
		}
	}
	closure, err := elfClosure(debRoot, "/sbin/ip", "/usr/bin/wg")
	if err != nil {
		return nil, 0, err
	}
	for _, f := range closure {
		if f.Target == "" && strings.Contains(f.Path, "/lib") {
			libBytes += int64(len(f.Data))
		}
	}
	files = append(files, closure...)
	for _, t := range j.profile.Tunnels {
		files = append(files, image.File{Path: "/etc/wireguard/" + t.Name + ".conf", Data: []byte(j.wgConf(t)), Mode: 0o600})
	}
	return files, libBytes, nil
}

// libDirs are where the dynamic loader looks, for both arches.
var libDirs = []string{"/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/lib/aarch64-linux-gnu", "/usr/lib/aarch64-linux-gnu", "/lib", "/usr/lib"}

// elfClosure returns the executables at paths inside root (unpacked
// packages) with what they need to run: symlinks on the way (kept as
// symlinks), the ELF interpreter and the NEEDED libraries, recursively.
func elfClosure(root string, paths ...string) ([]image.File, error) {
	var files []image.File
	seen := map[string]bool{}
	var add func(p string) error
	add = func(p string) error {
		p = path.Clean(p)
		if seen[p] {
			return nil
		}
		seen[p] = true
		host := filepath.Join(root, p)
		if target, err := os.Readlink(host); err == nil {
			files = append(files, image.File{Path: p, Target: target})
			if !path.IsAbs(target) {
				target = path.Join(path.Dir(p), target)
			}
			return add(target)
		}
		data, err := os.ReadFile(host)
		if err != nil {
			return err
		}
		files = append(files, image.File{Path: p, Data: data, Mode: 0o755})
		f, err := elf.NewFile(bytes.NewReader(data))
		if err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
		for _, prog := range f.Progs {
			if prog.Type == elf.PT_INTERP {
				b := make([]byte, prog.Filesz)
				if _, err := prog.ReadAt(b, 0); err != nil {
					return err
				}
				if err := add(strings.TrimRight(string(b), "\x00")); err != nil {
					return err
				}
			}
		}
		libs, err := f.ImportedLibraries()
		if err != nil {
			return err
		}
		for _, lib := range libs {
			found := false
			for _, dir := range libDirs {
				if _, err := os.Lstat(filepath.Join(root, dir, lib)); err == nil {
					if err := add(path.Join(dir, lib)); err != nil {
						return err
					}
					found = true
					break
				}
			}
			if !found {
				return fmt.Errorf("%s needs %s, not found under %s", p, lib, root)
			}
		}
		return nil
	}
	for _, p := range paths {
		if err := add(p); err != nil {
			return nil, err
		}
	}
	return files, nil
}
