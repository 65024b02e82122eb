package image

import (
	_ "embed"
	"strings"
)

//go:embed initflags.txt
var initFlags string

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
