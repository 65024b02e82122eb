package main

import (
	"strings"

	"github.com/wgboot/wgboot/internal/krule"
)

// moduleParams collects the <module>.<param>=<value> parameters of a kernel
// command line by canonical module name, joined with spaces, for
// finit_module: the kernel applies them only to built-in modules, and
// modprobe, which would read them for loadable ones, is not in the image.
func moduleParams(cmdline string) map[string]string {
	params := make(map[string]string)
	args, _ := krule.SplitCmdline(cmdline)
	for _, f := range args {
		k, v, _ := strings.Cut(f, "=")
		mod, p, ok := strings.Cut(k, ".")
		if !ok || mod == "" || p == "" || mod == "wgboot" {
			continue
		}
		mod = krule.FoldName(mod)
		arg := p + "=" + v
		if strings.ContainsAny(v, " \t") {
			arg = p + `="` + v + `"`
		}
		if old := params[mod]; old != "" {
			arg = old + " " + arg
		}
		params[mod] = arg
	}
	return params
}
