package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// makeIn runs make in the repository's top directory.
func makeIn(t *testing.T, args ...string) (string, error) {
	t.Helper()
	if _, err := exec.LookPath("make"); err != nil {
		t.Skip("no make on this host")
	}
	cmd := exec.Command("make", args...)
	cmd.Dir = "../../.."
	// Not what a make running this test (make test) or the environment
	// was given: the origin of MODULES is what is tested.
	for _, kv := range os.Environ() {
		switch name, _, _ := strings.Cut(kv, "="); name {
		case "MAKEFLAGS", "MFLAGS", "MAKELEVEL", "ARCH", "MODULES", "KERNEL", "CACHE", "OUT", "BCJ", "RESCUE", "PROFILE":
		default:
			cmd.Env = append(cmd.Env, kv)
		}
	}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.String(), err
}

// TestMakeImageFetchesKernel: on a clone without kernels, `make image` with
// the default MODULES fetches the arch's kernel first, as `make demo` does;
// with kernels there, or with a MODULES= of the user's, it fetches nothing.
func TestMakeImageFetchesKernel(t *testing.T) {
	empty := filepath.Join(t.TempDir(), "cache")
	for _, tt := range []struct {
		name  string
		args  []string
		fetch bool
	}{
		{"no kernels yet", []string{"ARCH=arm64", "CACHE=" + empty}, true},
		{"no kernels yet, amd64", []string{"ARCH=amd64", "CACHE=" + empty}, true},
		{"own MODULES", []string{"ARCH=arm64", "CACHE=" + empty, "MODULES=/board/lib/modules/6.1.0"}, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			plan, err := makeIn(t, append([]string{"-n", "image"}, tt.args...)...)
			if err != nil {
				t.Fatalf("make -n image: %v\n%s", err, plan)
			}
			arch := strings.TrimPrefix(tt.args[0], "ARCH=")
			fetch := "CACHE=" + empty + "/kernels scripts/kernels.sh " + arch
			if got := strings.Contains(plan, fetch); got != tt.fetch {
				t.Errorf("make -n image %s: fetches the kernel = %v, want %v; plan:\n%s", strings.Join(tt.args, " "), got, tt.fetch, plan)
			}
		})
	}
	t.Run("kernels there", func(t *testing.T) {
		cache := t.TempDir()
		dir := filepath.Join(cache, "kernels", "arm64")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, ".package"), []byte("linux-image-test\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		plan, err := makeIn(t, "-n", "image", "ARCH=arm64", "CACHE="+cache)
		if err != nil {
			t.Fatalf("make -n image: %v\n%s", err, plan)
		}
		if strings.Contains(plan, "kernels.sh") {
			t.Errorf("make -n image fetches kernels that are there:\n%s", plan)
		}
	})
}

// TestMakeImageMissingModules: a MODULES= that does not exist ends the build
// with an error that names it, and make exits non-zero.
func TestMakeImageMissingModules(t *testing.T) {
	if testing.Short() {
		t.Skip("builds /init")
	}
	missing := "/nonexistent/lib/modules/6.1.0-board"
	out, err := makeIn(t, "image", "ARCH=arm64", "MODULES="+missing, "OUT="+t.TempDir())
	if err == nil {
		t.Fatalf("make image MODULES=%s succeeded:\n%s", missing, out)
	}
	want := "mkimage: modules directory " + missing + " does not exist"
	if !strings.Contains(out, want) {
		t.Errorf("make image MODULES=%s says:\n%s\nwant a line with %q", missing, out, want)
	}
}
