package image

import (
	"debug/buildinfo"
	_ "embed"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
)

//go:embed initflags.txt
var initFlags string

// RescueTag is the build tag of a rescue image's /init (make image
// RESCUE=1 builds out/ARCH/init-rescue with it): only with it does /init
// carry the remote rescue (init/remote_linux.go). The default /init has
// none of it, so that the default image does not grow with it.
const RescueTag = "rescue"

// InitBuildFlags are the go build flags /init is built with beyond
// -trimpath and -ldflags, from initflags.txt, which make build reads too
// and which says why each is there.
func InitBuildFlags() []string {
	var flags []string
	for _, l := range strings.Split(initFlags, "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
			flags = append(flags, l)
		}
	}
	return flags
}

// InitToolexec builds the nolines wrapper (image/cmd/nolines) for the host
// into root/out/host/nolines, where root is the module's root, and returns
// the go build flag that builds /init through it,
// -toolexec=root/out/host/nolines, as make build does: without Go's line
// tables, which only gave tracebacks their file:line (docs/size.md says
// what they cost and how to map a traceback back to file:line).
// make build LINES=1 builds /init with them.
func InitToolexec(root string) (string, error) {
	root, err := filepath.Abs(root)
	if err != nil {
		return "", err
	}
	dir := filepath.Join(root, "out", "host")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	// Built aside and renamed into place: tests that build /init in
	// parallel processes may be running the one there.
	tmp, err := os.MkdirTemp(dir, ".nolines-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(tmp)
	cmd := exec.Command("go", "build", "-o", filepath.Join(tmp, "nolines"), "./image/cmd/nolines")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "GOOS=", "GOARCH=", "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("build image/cmd/nolines: %v\n%s", err, b)
	}
	tool := filepath.Join(dir, "nolines")
	if err := os.Rename(filepath.Join(tmp, "nolines"), tool); err != nil {
		return "", err
	}
	return "-toolexec=" + tool, nil
}

// RescueInitBuildFlags are the go build flags of a rescue image's /init:
// InitBuildFlags and the RescueTag.
func RescueInitBuildFlags() []string {
	return append(InitBuildFlags(), "-tags="+RescueTag)
}

// HasRescueTag reports whether the Go binary at path was built with the
// RescueTag (its build information says so).
func HasRescueTag(path string) (bool, error) {
	info, err := buildinfo.ReadFile(path)
	if err != nil {
		return false, err
	}
	for _, s := range info.Settings {
		if s.Key == "-tags" && slices.Contains(strings.Split(s.Value, ","), RescueTag) {
			return true, nil
		}
	}
	return false, nil
}
