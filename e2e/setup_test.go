package e2e

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wgboot/wgboot/image"
	"github.com/wgboot/wgboot/image/imagetest"
)

var consoleDir string

// TestMain keeps every console log of the run in one directory, so that
// TestNoSecretsOnConsoles (which runs last) can read them all.
func TestMain(m *testing.M) {
	flag.Parse()
	dir := os.Getenv("WGBOOT_KEEP_CONSOLES") // keep the logs there, for people
	var err error
	if dir == "" {
		dir, err = os.MkdirTemp("", "wgboot-e2e-consoles-")
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	consoleDir = dir
	os.Setenv("WGBOOT_CONSOLE_DIR", dir)
	code := m.Run()
	if err := scanSecrets(dir); err != nil {
		fmt.Fprintln(os.Stderr, "FAIL: secret scan:", err)
		code = 1
	}
	if code == 0 && os.Getenv("WGBOOT_KEEP_CONSOLES") == "" {
		os.RemoveAll(dir)
	} else {
		fmt.Fprintf(os.Stderr, "console logs kept in %s\n", dir)
	}
	os.Exit(code)
}

var arches = []string{"amd64", "arm64"}

// profilesDir is the repository's board/profiles.
func profilesDir(t *testing.T) string {
	return filepath.Join(imagetest.Root(t), "board", "profiles")
}

// guest is one wgboot guest to build and boot.
type guest struct {
	arch     string
	profiles []string // host paths of profiles for the image
	edit     func(name string, data []byte) []byte
	files    []image.File
	modules  func(t *testing.T, k imagetest.Kernel, names []string) []image.File // replaces the real closure
	disk     string
	append   []string
	nets     []image.Net // default: one NIC whose other end nobody answers
	cpu      string      // replaces the arch's CPU model (image.Config.CPU)
	rescue   bool        // /init is a rescue image's (the remote rescue: imagetest.BuildRescueInit)
	// invalid: put the profiles into the image as they are, without the
	// build-time check that mkimage does, to test what the board does
	// with a broken one.
	invalid bool
}

// defaultModules is what the QEMU boards need when no profile can say.
var defaultModules = []string{"wireguard", "virtio_pci", "virtio_net", "virtio_blk"}

// boot builds g's image and starts it.
func (g guest) boot(t *testing.T, name string) *image.VM {
	t.Helper()
	k := imagetest.FindKernel(t, g.arch)
	initPath := imagetest.BuildInit(t, g.arch)
	if g.rescue {
		initPath = imagetest.BuildRescueInit(t, g.arch)
	}
	initBin, err := os.ReadFile(initPath)
	if err != nil {
		t.Fatal(err)
	}
	paths := g.profiles
	if g.edit != nil {
		paths = editProfiles(t, paths, g.edit)
	}
	var files []image.File
	modules := defaultModules
	if g.invalid {
		files = rawProfiles(t, paths)
	} else {
		var err error
		if files, modules, err = image.Profiles(paths); err != nil {
			t.Fatalf("profiles: %v", err)
		}
	}
	spec := image.Spec{Init: initBin, Files: append(files, g.files...), Compress: "xz"}
	spec.XZ, _ = image.XZFor(g.arch, k.Modules) // as make image compresses
	if g.modules != nil {
		spec.Files = append(spec.Files, g.modules(t, k, modules)...)
	} else {
		spec.ModulesDir, spec.Modules = k.Modules, modules
	}
	initrd := imagetest.BuildImage(t, spec)
	nets := g.nets
	if nets == nil {
		a, _ := link(t)
		nets = []image.Net{a}
	}
	// WGBOOT_E2E_APPEND adds to every guest's kernel command line, for
	// debugging: "wireguard.dyndbg=+p" shows WireGuard's handshakes.
	app := g.append
	if extra := os.Getenv("WGBOOT_E2E_APPEND"); extra != "" {
		app = append(append([]string(nil), app...), strings.Fields(extra)...)
	}
	c := image.Config{Arch: g.arch, Kernel: k.Image, Initrd: initrd, Append: app, Nets: nets, CPU: g.cpu}
	if g.disk != "" {
		c.Disks = []string{g.disk}
	}
	return imagetest.Boot(t, name, c)
}

// rawProfiles puts profiles and the keys directory beside them into the
// image unchecked.
func rawProfiles(t *testing.T, paths []string) []image.File {
	t.Helper()
	var files []image.File
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, image.File{Path: image.ProfileDir + "/" + filepath.Base(p), Data: data})
	}
	keys, _ := filepath.Glob(filepath.Join(filepath.Dir(paths[0]), "keys", "*"))
	for _, k := range keys {
		data, err := os.ReadFile(k)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, image.File{Path: image.ProfileDir + "/keys/" + filepath.Base(k), Data: data, Mode: 0o600})
	}
	return files
}

// editProfiles copies profiles (and their keys directory) to a temp dir,
// passing each through edit.
func editProfiles(t *testing.T, paths []string, edit func(string, []byte) []byte) []string {
	t.Helper()
	dir := t.TempDir()
	var out []string
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		dst := filepath.Join(dir, filepath.Base(p))
		if err := os.WriteFile(dst, edit(filepath.Base(p), data), 0o644); err != nil {
			t.Fatal(err)
		}
		out = append(out, dst)
		keys := filepath.Join(filepath.Dir(p), "keys")
		if _, err := os.Stat(filepath.Join(dir, "keys")); err != nil {
			if err := exec.Command("cp", "-r", keys, filepath.Join(dir, "keys")).Run(); err != nil {
				t.Fatalf("copy keys: %v", err)
			}
		}
	}
	return out
}

// replace is an edit that replaces old with new in every profile and fails
// the test when old is not there.
func replace(t *testing.T, pairs ...string) func(string, []byte) []byte {
	return func(name string, data []byte) []byte {
		for i := 0; i+1 < len(pairs); i += 2 {
			if !bytes.Contains(data, []byte(pairs[i])) {
				t.Fatalf("profile %s has no %q to replace", name, pairs[i])
			}
			data = bytes.ReplaceAll(data, []byte(pairs[i]), []byte(pairs[i+1]))
		}
		return data
	}
}

// rootDisk builds an ext4 image whose /sbin/init is testroot, for the
// switch_root tests.
func rootDisk(t *testing.T, arch string) string {
	return rootDiskWith(t, arch, nil)
}

// rootDiskWith is rootDisk with more files, such as the profile testroot
// checks the kernel against.
func rootDiskWith(t *testing.T, arch string, files []image.File) string {
	t.Helper()
	if _, err := exec.LookPath("mke2fs"); err != nil {
		imagetestSkip(t, "mke2fs not installed (e2fsprogs)")
	}
	bin, err := os.ReadFile(imagetest.BuildPackage(t, arch, "./image/testroot"))
	if err != nil {
		t.Fatal(err)
	}
	img := filepath.Join(t.TempDir(), "root.ext4")
	if err := image.RootDiskFiles(bin, files, img, 64); err != nil {
		t.Fatal(err)
	}
	return img
}

func imagetestSkip(t *testing.T, msg string) {
	t.Helper()
	if os.Getenv("WGBOOT_E2E") == "required" {
		t.Fatalf("WGBOOT_E2E=required but %s", msg)
	}
	t.Skip(msg)
}

// link returns the two ends of a point-to-point Ethernet between two guests.
func link(t *testing.T) (a, b image.Net) {
	p := imagetest.FreeUDPPorts(t, 2)
	return image.Net{Local: p[0], Remote: p[1]}, image.Net{Local: p[1], Remote: p[0]}
}

// noPanic fails t if the console shows the kernel dying.
func noPanic(t *testing.T, vm *image.VM) {
	t.Helper()
	con := vm.Console()
	for _, bad := range []string{"Kernel panic", "Attempted to kill init", "panic: ", "goroutine "} {
		if strings.Contains(con, bad) {
			t.Errorf("console shows %q", bad)
		}
	}
}

const (
	bootTimeout = 3 * time.Minute
	stepTimeout = time.Minute
)

// scanSecrets greps every console log of the run for the test keys, in
// base64 and in hex: a private or preshared key must never reach a console.
func scanSecrets(dir string) error {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return err
	}
	keyFiles, _ := filepath.Glob(filepath.Join(filepath.Dir(strings.TrimSpace(string(out))), "board", "profiles", "keys", "*"))
	var needles []string
	for _, f := range keyFiles {
		if strings.HasSuffix(f, ".md") {
			continue
		}
		data, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		b64 := strings.TrimSpace(string(data))
		raw, err := base64.StdEncoding.DecodeString(b64)
		if err != nil {
			return fmt.Errorf("%s: %w", f, err)
		}
		needles = append(needles, b64, hex.EncodeToString(raw), string(raw))
	}
	logs, _ := filepath.Glob(filepath.Join(dir, "*.log"))
	for _, l := range logs {
		data, err := os.ReadFile(l)
		if err != nil {
			return err
		}
		for _, n := range needles {
			if bytes.Contains(data, []byte(n)) {
				return fmt.Errorf("%s contains a key (%d bytes)", l, len(n))
			}
		}
	}
	fmt.Printf("secret scan: %d console logs, %d key forms, no hits\n", len(logs), len(needles))
	return nil
}
