package image

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"github.com/u-root/u-root/pkg/cpio"
)

// A rescue image is the wgboot image plus u-root's Go userland: one
// busybox-style binary, /bbin/bb, with a symlink per command, and /bin/sh
// pointing at gosh. wgboot's /init stays init; /bin/wgboot is still init's
// CLI (`wgboot show`, `wgboot state`).
//
// The commands are the `tool` directives of the tools module (tools/go.mod:
// its own module, so that the ~45 indirect requirements of u-root's
// commands stay out of the firmware's go.mod). Adding one:
//
//	cd tools && go get -tool github.com/u-root/u-root/cmds/core/NAME
//
// How the layer is built (the same by hand):
//
//	cd tools && GOOS= GOARCH= CGO_ENABLED=0 go build -o ../out/host/u-root github.com/u-root/u-root
//	cd tools && GOOS=linux GOARCH=arm64 CGO_ENABLED=0 GOARM64=v8.0 \
//	    ../out/host/u-root -base=/dev/null -initcmd= -defaultsh=gosh -tags=goshsmall \
//	    -o ../out/rescue-cache/arm64/tools.cpio github.com/u-root/u-root/cmds/core/gosh ...
//
// The u-root tool is built for the host from the tools module (`go install
// ...@latest` picks an x/tools too old for this Go) and runs with the tools
// module as its working directory: in module mode it resolves the command
// packages there, and takes the guest architecture from GOOS/GOARCH in its
// environment. -base=/dev/null gives a layer with nothing but the tools,
// and -initcmd= keeps it from adding an /init symlink. The layer is
// reproducible (u-root strips and trims paths, records have fixed times),
// so it is cached per arch under a key of its inputs, and merged into the
// image by Build like any other files: the wgboot image's own records and
// order are untouched, and the minimal image does not change at all.

// RescueShell is the rescue image's shell.
const RescueShell = "/bbin/gosh"

// uRootModule is u-root's module path.
const uRootModule = "github.com/u-root/u-root"

// Rescue builds u-root's busybox layer for a guest architecture.
type Rescue struct {
	ToolsDir string    // the tools module's directory (holds go.mod)
	OutDir   string    // out/: host tool in OutDir/host, cache in OutDir/rescue-cache/<arch>
	Log      io.Writer // progress lines; nil for none

	uRoot    string // tests: run this instead of building the u-root tool
	noRemote bool   // tests: leave out wgboot-remote
}

// RescueFor returns the Rescue of the repository at root: root/tools and
// root/out.
func RescueFor(root string) Rescue {
	return Rescue{ToolsDir: filepath.Join(root, "tools"), OutDir: filepath.Join(root, "out")}
}

// Commands returns the u-root command packages the tools module lists as
// tools, sorted.
func (r Rescue) Commands() ([]string, error) {
	out, err := r.goCmd(nil, "mod", "edit", "-json")
	if err != nil {
		return nil, err
	}
	var mod struct{ Tool []struct{ Path string } }
	if err := json.Unmarshal(out, &mod); err != nil {
		return nil, fmt.Errorf("rescue: %s/go.mod: %w", r.ToolsDir, err)
	}
	var cmds []string
	for _, t := range mod.Tool {
		if strings.HasPrefix(t.Path, uRootModule+"/cmds/") {
			cmds = append(cmds, t.Path)
		}
	}
	if len(cmds) == 0 {
		return nil, fmt.Errorf("rescue: %s/go.mod has no u-root command among its tools", r.ToolsDir)
	}
	slices.Sort(cmds)
	return cmds, nil
}

// Files returns the rescue layer for arch as image files: /bbin/bb, its
// command symlinks, /bin/sh and /bbin/reboot. It builds the layer with the
// u-root tool unless the cache holds one built from the same inputs.
func (r Rescue) Files(arch string) ([]File, error) {
	if _, ok := Arches[arch]; !ok {
		return nil, fmt.Errorf("rescue: unknown arch %q", arch)
	}
	layer, err := r.Layer(arch)
	if err != nil {
		return nil, err
	}
	data, err := os.ReadFile(layer)
	if err != nil {
		return nil, err
	}
	files, err := layerFiles(data)
	if err != nil {
		return nil, fmt.Errorf("rescue: %s: %w", layer, err)
	}
	files = append(files, rescueExtras...)
	if r.noRemote {
		return files, nil
	}
	remote, err := r.Remote(arch)
	if err != nil {
		return nil, err
	}
	return append(files, File{Path: RemoteServer, Data: remote, Mode: 0o755}), nil
}

// RemoteServer is where a rescue image has wgboot-remote, the SSH server
// of on_failure = "remote" (init looks for it there).
const RemoteServer = "/bbin/wgboot-remote"

// Remote builds cmd/wgboot-remote of the repository the tools module is
// in, for arch, and returns the binary. It is a program of its own, not a
// command of u-root's busybox: it is wgboot's module, and the busybox is
// the tools module's. The go command's build cache makes a second build
// cheap.
func (r Rescue) Remote(arch string) ([]byte, error) {
	repo, err := filepath.Abs(filepath.Join(r.ToolsDir, ".."))
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "wgboot-remote")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	bin := filepath.Join(dir, "wgboot-remote")
	cmd := exec.Command("go", "build", "-trimpath", "-buildvcs=false", "-ldflags=-s -w", "-o", bin, "./cmd/wgboot-remote")
	cmd.Dir = repo
	cmd.Env = append(os.Environ(), guestGoEnv(arch)...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("rescue: build wgboot-remote for %s (in %s): %w\n%s", arch, repo, err, out)
	}
	r.logf("rescue: built wgboot-remote for %s", arch)
	return os.ReadFile(bin)
}

// rescueExtras are what u-root has no command for.
var rescueExtras = []File{
	// People type reboot. It asks init (SIGTERM: a parked wgboot reboots),
	// which ends a remote rescue's sessions, releases the config partition
	// and logs why; u-root's shutdown, which reboots at once, only if init
	// has not within 10 s.
	{Path: "/bbin/reboot", Mode: 0o755, Data: []byte("#!/bbin/gosh\nsync\nkill -15 1\nsleep 10\nshutdown reboot\n")},
}

// Layer returns the path of arch's cached layer cpio, building it first
// when its inputs changed. Concurrent callers (test processes) take turns.
func (r Rescue) Layer(arch string) (string, error) {
	// The u-root tool runs in the tools module's directory: a relative
	// OutDir (the Makefile's "out") would name a place under tools/.
	outDir, err := filepath.Abs(r.OutDir)
	if err != nil {
		return "", err
	}
	r.OutDir = outDir
	cacheDir := filepath.Join(r.OutDir, "rescue-cache", arch)
	if err := os.MkdirAll(cacheDir, 0o755); err != nil {
		return "", err
	}
	unlock, err := lockFile(filepath.Join(r.OutDir, "rescue-cache", "lock"))
	if err != nil {
		return "", err
	}
	defer unlock()

	cmds, err := r.Commands()
	if err != nil {
		return "", err
	}
	key, err := r.key(arch, cmds)
	if err != nil {
		return "", err
	}
	layer := filepath.Join(cacheDir, "tools.cpio")
	keyFile := layer + ".key"
	if old, err := os.ReadFile(keyFile); err == nil && string(old) == key {
		if _, err := os.Stat(layer); err == nil {
			r.logf("rescue: %s layer cached (%s)", arch, layer)
			return layer, nil
		}
	}
	os.Remove(keyFile)

	tool := r.uRoot
	if tool == "" {
		tool = filepath.Join(r.OutDir, "host", "u-root")
		if err := os.MkdirAll(filepath.Dir(tool), 0o755); err != nil {
			return "", err
		}
		r.logf("rescue: building the host u-root tool into %s", tool)
		if _, err := r.goCmd([]string{"GOOS=", "GOARCH=", "CGO_ENABLED=0"}, "build", "-buildvcs=false", "-o", tool, uRootModule); err != nil {
			return "", err
		}
	}
	tmp := layer + ".tmp"
	args := append(append(uRootFlags(), "-o", tmp), cmds...)
	cmd := exec.Command(tool, args...)
	cmd.Dir = r.ToolsDir
	cmd.Env = append(os.Environ(), append(guestGoEnv(arch), "GOWORK=off")...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	r.logf("rescue: building u-root's busybox for %s (%d commands)", arch, len(cmds))
	if err := cmd.Run(); err != nil {
		os.Remove(tmp)
		return "", fmt.Errorf("rescue: u-root for %s: %w\n%s", arch, err, out.String())
	}
	data, err := os.ReadFile(tmp)
	if err != nil {
		return "", err
	}
	if _, err := layerFiles(data); err != nil {
		return "", fmt.Errorf("rescue: u-root output for %s: %w", arch, err)
	}
	if err := os.Rename(tmp, layer); err != nil {
		return "", err
	}
	if err := os.WriteFile(keyFile, []byte(key), 0o644); err != nil {
		return "", err
	}
	return layer, nil
}

// uRootFlags are the u-root tool's flags for the layer, beyond -o and the
// commands. -tags=goshsmall gives gosh its plain line mode: the kernel's
// line editing (backspace, ^U, ^W) and a "$ " prompt. Its default editor
// (bubbline) queries the terminal with escape sequences, paints colours and
// pads to a guessed width; on a serial console, where nothing answers and
// the size is unknown, that is noise at best.
func uRootFlags() []string {
	return []string{"-base=/dev/null", "-initcmd=", "-defaultsh=gosh", "-tags=goshsmall"}
}

// guestGoEnv is the Go environment of a guest build, as the Makefile's.
func guestGoEnv(arch string) []string {
	return []string{"GOOS=linux", "GOARCH=" + arch, "CGO_ENABLED=0", "GOAMD64=v1", "GOARM64=v8.0"}
}

// key hashes everything the layer depends on: the tools module (its
// requirements and sums pin u-root and every dependency), the command list,
// the Go toolchain and the guest environment.
func (r Rescue) key(arch string, cmds []string) (string, error) {
	h := sha256.New()
	fmt.Fprintf(h, "wgboot rescue layer v1\n%s\n%s\n%s\n", arch, strings.Join(guestGoEnv(arch), " "), strings.Join(uRootFlags(), " "))
	for _, f := range []string{"go.mod", "go.sum"} {
		data, err := os.ReadFile(filepath.Join(r.ToolsDir, f))
		if err != nil {
			return "", err
		}
		fmt.Fprintf(h, "%s %d\n", f, len(data))
		h.Write(data)
	}
	ver, err := r.goCmd(nil, "env", "GOVERSION")
	if err != nil {
		return "", err
	}
	fmt.Fprintf(h, "%s%s\n", ver, strings.Join(cmds, "\n"))
	return hex.EncodeToString(h.Sum(nil)) + "\n", nil
}

// goCmd runs the go command in the tools module.
func (r Rescue) goCmd(env []string, args ...string) ([]byte, error) {
	cmd := exec.Command("go", args...)
	cmd.Dir = r.ToolsDir
	cmd.Env = append(append(os.Environ(), "GOWORK=off"), env...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("rescue: go %s (in %s): %w\n%s", strings.Join(args, " "), r.ToolsDir, err, stderr.String())
	}
	return out, nil
}

func (r Rescue) logf(format string, args ...any) {
	if r.Log != nil {
		fmt.Fprintf(r.Log, format+"\n", args...)
	}
}

// layerFiles turns a u-root layer cpio into image files. Only what a
// -base=/dev/null -initcmd= layer holds is accepted: directories, regular
// files and symlinks under /bbin and /bin, and a shell.
func layerFiles(data []byte) ([]File, error) {
	recs, err := cpio.ReadAllRecords(cpio.Newc.Reader(bytes.NewReader(data)))
	if err != nil {
		return nil, err
	}
	var files []File
	for _, rec := range recs {
		name := path.Clean("/" + rec.Name)
		if name == "/" {
			continue
		}
		if top := strings.SplitN(name, "/", 3)[1]; top != "bbin" && top != "bin" {
			return nil, fmt.Errorf("unexpected %s in the u-root layer", name)
		}
		perm := uint32(rec.Mode & 0o7777)
		switch rec.Mode & cpio.S_IFMT {
		case cpio.S_IFDIR:
			files = append(files, File{Path: name, Dir: true, Mode: perm})
		case cpio.S_IFLNK:
			target, err := readAll(rec)
			if err != nil {
				return nil, err
			}
			files = append(files, File{Path: name, Target: string(target)})
		case cpio.S_IFREG:
			content, err := readAll(rec)
			if err != nil {
				return nil, err
			}
			files = append(files, File{Path: name, Data: content, Mode: perm})
		default:
			return nil, fmt.Errorf("unexpected file type %o of %s in the u-root layer", rec.Mode&cpio.S_IFMT, name)
		}
	}
	var hasBB, hasShell bool
	for _, f := range files {
		hasBB = hasBB || (f.Path == "/bbin/bb" && len(f.Data) > 0)
		hasShell = hasShell || f.Path == RescueShell
	}
	if !hasBB || !hasShell {
		return nil, errors.New("the u-root layer has no /bbin/bb or no " + RescueShell)
	}
	return files, nil
}

func readAll(rec cpio.Record) ([]byte, error) {
	return io.ReadAll(io.NewSectionReader(rec.ReaderAt, 0, int64(rec.FileSize)))
}
