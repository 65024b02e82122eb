package krule

// SplitCmdline splits a kernel command line, such as the contents of
// /proc/cmdline, into parameters as the kernel's next_arg (lib/cmdline.c)
// and parse_args (kernel/params.c) do:
//
//   - parameters are separated by white space (the kernel's isspace) outside
//     double quotes;
//   - a double quote opening the parameter, or its value right after '=',
//     is removed with the parameter's last character when that is a quote:
//     `"a=b c"` and `a="b c"` are both "a=b c"; quotes elsewhere only group;
//   - "--" ends the kernel's parameters: what follows is for init, which the
//     kernel starts with those words as arguments. They are returned in
//     initArgs, split and unquoted the same way.
//
// Each parameter is returned as "name" or "name=value".
func SplitCmdline(cmdline string) (params, initArgs []string) {
	s := cmdline
	dashes := false
	for {
		s = skipSpaces(s)
		if s == "" {
			return params, initArgs
		}
		var arg string
		arg, s = nextArg(s)
		switch {
		case dashes:
			initArgs = append(initArgs, arg)
		case arg == "--":
			dashes = true
		default:
			params = append(params, arg)
		}
	}
}

// nextArg reads one parameter from the start of s (no leading space) and
// returns it, unquoted, and the rest of s.
func nextArg(s string) (arg, rest string) {
	quoted := s[0] == '"'
	if quoted {
		s = s[1:]
	}
	inQuote, equals, i := quoted, -1, 0
	for ; i < len(s); i++ {
		c := s[i]
		if IsSpace(c) && !inQuote {
			break
		}
		if equals < 0 && c == '=' {
			equals = i
		}
		if c == '"' {
			inQuote = !inQuote
		}
	}
	arg, rest = s[:i], s[i:]
	if len(rest) > 0 {
		rest = rest[1:]
	}
	last := len(arg) > 0 && arg[len(arg)-1] == '"'
	if equals >= 0 && equals+1 < len(arg) && arg[equals+1] == '"' {
		// The value opens with a quote: drop it, and a closing one.
		end := len(arg)
		if last && end > equals+2 {
			end--
		}
		arg = arg[:equals+1] + arg[equals+2:end]
		last = false
	}
	if quoted && last {
		arg = arg[:len(arg)-1]
	}
	return arg, rest
}

func skipSpaces(s string) string {
	for len(s) > 0 && IsSpace(s[0]) {
		s = s[1:]
	}
	return s
}

// IsSpace is the kernel's isspace (include/linux/ctype.h, lib/ctype.c):
// ASCII white space and byte 0xa0, the Latin-1 no-break space.
func IsSpace(c byte) bool {
	return c == ' ' || c >= '\t' && c <= '\r' || c == 0xa0
}
