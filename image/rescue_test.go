package image

import (
	"bytes"
	"os"
	"path"
	"path/filepath"
	"slices"
	"testing"

	"github.com/u-root/u-root/pkg/cpio"
)

// layerCPIO is what the u-root tool writes with -base=/dev/null -initcmd=.
func layerCPIO(t *testing.T, extra ...cpio.Record) []byte {
	t.Helper()
	recs := []cpio.Record{
		cpio.Directory("bbin", 0o755),
		cpio.StaticRecord([]byte("\x7fELF busybox"), cpio.Info{Name: "bbin/bb", Mode: cpio.S_IFREG | 0o755}),
		cpio.Symlink("bbin/gosh", "bb"),
		cpio.Symlink("bbin/ip", "bb"),
		cpio.Directory("bin", 0o755),
		cpio.Symlink("bin/sh", "../bbin/gosh"),
	}
	var buf bytes.Buffer
	w := cpio.Newc.Writer(&buf)
	if err := cpio.WriteRecords(w, append(recs, extra...)); err != nil {
		t.Fatal(err)
	}
	if err := cpio.WriteTrailer(w); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestRescueMerge: the layer's files go into the wgboot image beside
// wgboot's own, which stay as they are: /init is wgboot's.
func TestRescueMerge(t *testing.T) {
	files, err := layerFiles(layerCPIO(t))
	if err != nil {
		t.Fatal(err)
	}
	spec := Spec{Init: []byte("\x7fELF wgboot"), Files: append(files, rescueExtras...)}
	var buf bytes.Buffer
	if err := Build(spec, &buf); err != nil {
		t.Fatal(err)
	}
	m := readRecords(t, buf.Bytes())
	content := func(name string) string {
		r, ok := m[name]
		if !ok {
			t.Fatalf("image has no %s", name)
		}
		b, err := readAll(r)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	for name, want := range map[string]string{
		"init":        "\x7fELF wgboot",
		"bin/wgboot":  "../init",
		"bbin/bb":     "\x7fELF busybox",
		"bbin/gosh":   "bb",
		"bin/sh":      "../bbin/gosh",
		"bbin/reboot": "#!/bbin/gosh\nsync\nkill -15 1\nsleep 10\nshutdown reboot\n",
	} {
		if got := content(name); got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
	if r := m["bbin/bb"]; r.Mode != cpio.S_IFREG|0o755 {
		t.Errorf("bbin/bb mode %o", r.Mode)
	}
	if _, ok := m["dev/console"]; !ok {
		t.Error("no dev/console")
	}
}

// TestRescueLayerRejects: a layer with anything but the tools (an /init of
// u-root's, a device node) is refused, not merged.
func TestRescueLayerRejects(t *testing.T) {
	for name, rec := range map[string]cpio.Record{
		"init symlink": cpio.Symlink("init", "bbin/init"),
		"device":       cpio.CharDev("bin/null", 0o666, 1, 3),
		"etc":          cpio.StaticFile("etc/resolv.conf", "", 0o644),
	} {
		if _, err := layerFiles(layerCPIO(t, rec)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	var empty bytes.Buffer
	cpio.WriteTrailer(cpio.Newc.Writer(&empty))
	if _, err := layerFiles(empty.Bytes()); err == nil {
		t.Error("a layer without /bbin/bb: accepted")
	}
}

// TestRescueCommands: the tools module lists what the issue asks for.
func TestRescueCommands(t *testing.T) {
	cmds, err := RescueFor("..").Commands()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, c := range cmds {
		names = append(names, path.Base(c))
	}
	for _, want := range []string{"gosh", "ls", "cat", "ip", "dmesg", "mount", "ps", "poweroff", "shutdown", "sync"} {
		if !slices.Contains(names, want) {
			t.Errorf("tools/go.mod has no u-root command %s", want)
		}
	}
}

// TestRescueLayerRelativePaths builds a layer the way `make image RESCUE=1`
// does: from the repository's top directory, with the relative paths
// "tools" and "out". The u-root tool is a stand-in that, like u-root, runs
// in the tools module's directory and writes the layer to its -o path as
// that directory sees it.
func TestRescueLayerRelativePaths(t *testing.T) {
	top := t.TempDir()
	t.Chdir(top)
	if err := os.Mkdir("tools", 0o755); err != nil {
		t.Fatal(err)
	}
	gomod := "module example.com/tools\n\ngo 1.24\n\ntool " + uRootModule + "/cmds/core/gosh\n"
	if err := os.WriteFile("tools/go.mod", []byte(gomod), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile("tools/go.sum", nil, 0o644); err != nil {
		t.Fatal(err)
	}
	layer := filepath.Join(t.TempDir(), "layer.cpio")
	if err := os.WriteFile(layer, layerCPIO(t), 0o644); err != nil {
		t.Fatal(err)
	}
	fake := filepath.Join(t.TempDir(), "u-root")
	script := `#!/bin/sh
[ -f go.mod ] || { echo "not run in the tools module" >&2; exit 1; }
while [ $# -gt 0 ]; do [ "$1" = -o ] && out=$2; shift; done
cp "` + layer + `" "$out"
`
	if err := os.WriteFile(fake, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	r := Rescue{ToolsDir: "tools", OutDir: "out", uRoot: fake, noRemote: true}
	files, err := r.Files("arm64")
	if err != nil {
		t.Fatalf("Files(arm64) with relative paths: %v", err)
	}
	if !slices.ContainsFunc(files, func(f File) bool { return f.Path == RescueShell }) {
		t.Errorf("layer files have no %s", RescueShell)
	}
	if _, err := os.Stat("out/rescue-cache/arm64/tools.cpio"); err != nil {
		t.Errorf("layer not cached under out/: %v", err)
	}
}
