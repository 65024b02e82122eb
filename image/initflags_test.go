package image

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestInitBuildFlags checks that every package pattern in initflags.txt
// matches a package /init is built from, so that a renamed package does
// not silently lose its inlining, and that make build uses the file.
func TestInitBuildFlags(t *testing.T) {
	flags := InitBuildFlags()
	if len(flags) == 0 || flags[0] != "-gcflags=all=-l" {
		t.Fatalf("InitBuildFlags() = %q, want -gcflags=all=-l first", flags)
	}
	cmd := exec.Command("go", "list", "-deps", "./init")
	cmd.Dir = ".."
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux")
	out, err := cmd.Output()
	if err != nil {
		t.Skipf("go list: %v", err)
	}
	deps := strings.Fields(string(out))
	for _, f := range flags[1:] {
		pattern, value, ok := strings.Cut(strings.TrimPrefix(f, "-gcflags="), "=")
		if !ok || !strings.HasPrefix(f, "-gcflags=") || value != "" {
			t.Errorf("%q: want -gcflags=PACKAGE= (inlining back on)", f)
			continue
		}
		dir, tree := strings.CutSuffix(pattern, "/...")
		found := false
		for _, d := range deps {
			if d == dir || tree && strings.HasPrefix(d, dir+"/") {
				found = true
				break
			}
		}
		if !found {
			t.Errorf("%q: no package of /init matches %s", f, pattern)
		}
	}
	mk, err := os.ReadFile("../Makefile")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(mk), "image/initflags.txt") || !strings.Contains(string(mk), "build -trimpath $(INIT_FLAGS)") {
		t.Error("make build does not build /init with image/initflags.txt's flags")
	}
	// Without line tables, as InitToolexec builds it for the tests.
	if !strings.Contains(string(mk), "TOOLEXEC := $(if $(LINES_ON),,-toolexec=$(abspath $(NOLINES)))") ||
		strings.Count(string(mk), "build -trimpath $(INIT_FLAGS) $(TOOLEXEC) ") != 1 ||
		strings.Count(string(mk), "build -trimpath $(INIT_FLAGS) -tags="+RescueTag+" $(TOOLEXEC) ") != 1 {
		t.Error("make build does not build /init and /init-rescue through image/cmd/nolines")
	}
}

// TestRescueInit: make builds a rescue image's /init with the RescueTag
// (and make image RESCUE=1 uses it), and HasRescueTag tells the two
// builds apart; the default /init has no remote rescue.
func TestRescueInit(t *testing.T) {
	mk, err := os.ReadFile("../Makefile")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(mk), "build -trimpath $(INIT_FLAGS) -tags="+RescueTag+" ") ||
		!strings.Contains(string(mk), "INIT_BIN := $(OUT)/$(ARCH)/init$(if $(RESCUE_ON),-rescue)") {
		t.Errorf("the Makefile does not build out/ARCH/init-rescue with -tags=%s for RESCUE=1", RescueTag)
	}
	if testing.Short() {
		t.Skip("builds /init twice")
	}
	dir := t.TempDir()
	for _, c := range []struct {
		name  string
		flags []string
		want  bool
	}{{"init", InitBuildFlags(), false}, {"init-rescue", RescueInitBuildFlags(), true}} {
		bin := dir + "/" + c.name
		cmd := exec.Command("go", append(append([]string{"build", "-trimpath", "-o", bin}, c.flags...), "./init")...)
		cmd.Dir = ".."
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("build %s: %v\n%s", c.name, err, out)
		}
		if got, err := HasRescueTag(bin); err != nil || got != c.want {
			t.Errorf("HasRescueTag(%s) = %v, %v; want %v", c.name, got, err, c.want)
		}
		cmd = exec.Command("go", "tool", "nm", bin)
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("nm %s: %v", c.name, err)
		}
		if got := strings.Contains(string(out), "main.(*boot).remoteOnce"); got != c.want {
			t.Errorf("%s has the remote rescue loop: %v, want %v", c.name, got, c.want)
		}
	}
}

// TestInitToolexec: the flag names the wrapper it built, which answers as
// the compiler with the marker that keeps its objects apart in the cache.
func TestInitToolexec(t *testing.T) {
	if testing.Short() {
		t.Skip("builds image/cmd/nolines")
	}
	flag, err := InitToolexec("..")
	if err != nil {
		t.Fatal(err)
	}
	tool, ok := strings.CutPrefix(flag, "-toolexec=")
	if !ok || !filepath.IsAbs(tool) {
		t.Fatalf("InitToolexec = %q, want -toolexec=/abs/path", flag)
	}
	compile, err := exec.Command("go", "tool", "-n", "compile").Output()
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(tool, strings.TrimSpace(string(compile)), "-V=full").Output()
	if err != nil || !strings.HasPrefix(string(out), "compile version ") || !strings.HasSuffix(string(out), " X:nolines\n") {
		t.Errorf("%s compile -V=full = %q, %v; want the compiler's line and X:nolines", tool, out, err)
	}
}
