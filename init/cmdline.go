package main

import "strings"

// cmdline is the kernel command line, parsed.
type cmdline struct {
	params map[string]string // key → value ("" for a bare flag); later wins
	// modParams holds <module>.<param>=<value> pairs by canonical module
	// name, joined with spaces, for finit_module.
	modParams map[string]string
}

// parseCmdline splits the kernel command line the way the kernel does:
// on spaces, with double quotes protecting spaces inside a value.
func parseCmdline(s string) cmdline {
	c := cmdline{params: make(map[string]string), modParams: make(map[string]string)}
	for _, f := range splitQuoted(s) {
		k, v, _ := strings.Cut(f, "=")
		c.params[k] = v
		if mod, p, ok := strings.Cut(k, "."); ok && mod != "" && p != "" && !strings.HasPrefix(k, "wgboot.") {
			mod = strings.ReplaceAll(mod, "-", "_")
			arg := p + "=" + v
			if strings.ContainsAny(v, " \t") {
				arg = p + "=\"" + v + "\""
			}
			if old := c.modParams[mod]; old != "" {
				arg = old + " " + arg
			}
			c.modParams[mod] = arg
		}
	}
	return c
}

func splitQuoted(s string) []string {
	var (
		out   []string
		cur   strings.Builder
		quote bool
		any   bool
	)
	for _, r := range s {
		switch {
		case r == '"':
			quote = !quote
			any = true
		case !quote && (r == ' ' || r == '\t' || r == '\n'):
			if any {
				out = append(out, cur.String())
				cur.Reset()
				any = false
			}
		default:
			cur.WriteRune(r)
			any = true
		}
	}
	if any {
		out = append(out, cur.String())
	}
	return out
}

// get returns a parameter's value and whether it is present.
func (c cmdline) get(key string) (string, bool) {
	v, ok := c.params[key]
	return v, ok
}
