package image

import (
	"debug/buildinfo"
	_ "embed"
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
