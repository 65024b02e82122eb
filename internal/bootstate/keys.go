package bootstate

import (
	"errors"
	"fmt"
	"unicode/utf16"
	"unicode/utf8"
)

// DecodeKeys reads the "keys" member of a state file: what `wgboot pubkey`
// prints on the device, which has no encoding/json. It reads any JSON (not
// only what Encode writes) but keeps nothing of it but the keys; members
// it does not know are skipped.
func DecodeKeys(data []byte) ([]Key, error) {
	s := scanner{b: data}
	var keys []Key
	err := s.object(func(name string) error {
		if name != "keys" {
			return s.skip()
		}
		keys = []Key{}
		return s.array(func() error {
			var k Key
			err := s.object(func(field string) error {
				var err error
				switch field {
				case "tunnel":
					k.Tunnel, err = s.str()
				case "file":
					k.File, err = s.str()
				case "public_key":
					k.PublicKey, err = s.str()
				case "generated":
					k.Generated, err = s.boolean()
				default:
					err = s.skip()
				}
				return err
			})
			keys = append(keys, k)
			return err
		})
	})
	if err == nil {
		s.space()
		if s.i != len(s.b) {
			err = s.errorf("data after the top-level value")
		}
	}
	if err != nil {
		return nil, err
	}
	return keys, nil
}

// scanner reads JSON (RFC 8259) from b.
type scanner struct {
	b     []byte
	i     int
	depth int
}

// maxDepth bounds nesting, so that a hostile file cannot exhaust the stack.
const maxDepth = 64

var errSyntax = errors.New("state file: invalid JSON")

func (s *scanner) errorf(format string, args ...any) error {
	return fmt.Errorf("%w at byte %d: %s", errSyntax, s.i, fmt.Sprintf(format, args...))
}

func (s *scanner) space() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// next returns the next byte after white space, or 0 at the end.
func (s *scanner) next() byte {
	s.space()
	if s.i >= len(s.b) {
		return 0
	}
	return s.b[s.i]
}

func (s *scanner) expect(c byte) error {
	if s.next() != c {
		return s.errorf("want %q", c)
	}
	s.i++
	return nil
}

// object reads an object, calling member for each name with the scanner
// at its value.
func (s *scanner) object(member func(name string) error) error {
	if err := s.enter('{'); err != nil {
		return err
	}
	defer func() { s.depth-- }()
	if s.next() == '}' {
		s.i++
		return nil
	}
	for {
		name, err := s.str()
		if err != nil {
			return err
		}
		if err := s.expect(':'); err != nil {
			return err
		}
		if err := member(name); err != nil {
			return err
		}
		switch s.next() {
		case ',':
			s.i++
		case '}':
			s.i++
			return nil
		default:
			return s.errorf("want ',' or '}'")
		}
	}
}

// array reads an array, calling elem with the scanner at each element.
func (s *scanner) array(elem func() error) error {
	if err := s.enter('['); err != nil {
		return err
	}
	defer func() { s.depth-- }()
	if s.next() == ']' {
		s.i++
		return nil
	}
	for {
		if err := elem(); err != nil {
			return err
		}
		switch s.next() {
		case ',':
			s.i++
		case ']':
			s.i++
			return nil
		default:
			return s.errorf("want ',' or ']'")
		}
	}
}

func (s *scanner) enter(c byte) error {
	if err := s.expect(c); err != nil {
		return err
	}
	if s.depth++; s.depth > maxDepth {
		return s.errorf("nested more than %d deep", maxDepth)
	}
	return nil
}

// skip reads a value of any type.
func (s *scanner) skip() error {
	switch c := s.next(); {
	case c == '{':
		return s.object(func(string) error { return s.skip() })
	case c == '[':
		return s.array(s.skip)
	case c == '"':
		_, err := s.str()
		return err
	case c == 't' || c == 'f':
		_, err := s.boolean()
		return err
	case c == 'n':
		return s.literal("null")
	case c == '-' || c >= '0' && c <= '9':
		return s.number()
	}
	return s.errorf("want a value")
}

func (s *scanner) literal(lit string) error {
	s.space()
	if len(s.b)-s.i < len(lit) || string(s.b[s.i:s.i+len(lit)]) != lit {
		return s.errorf("want %s", lit)
	}
	s.i += len(lit)
	return nil
}

func (s *scanner) boolean() (bool, error) {
	if s.next() == 't' {
		return true, s.literal("true")
	}
	return false, s.literal("false")
}

// number reads a JSON number: -?int frac? exp?.
func (s *scanner) number() error {
	digits := func() int {
		n := 0
		for s.i < len(s.b) && s.b[s.i] >= '0' && s.b[s.i] <= '9' {
			s.i++
			n++
		}
		return n
	}
	s.space()
	if s.i < len(s.b) && s.b[s.i] == '-' {
		s.i++
	}
	start := s.i
	if n := digits(); n == 0 || n > 1 && s.b[start] == '0' {
		return s.errorf("bad number")
	}
	if s.i < len(s.b) && s.b[s.i] == '.' {
		s.i++
		if digits() == 0 {
			return s.errorf("bad number")
		}
	}
	if s.i < len(s.b) && (s.b[s.i] == 'e' || s.b[s.i] == 'E') {
		s.i++
		if s.i < len(s.b) && (s.b[s.i] == '+' || s.b[s.i] == '-') {
			s.i++
		}
		if digits() == 0 {
			return s.errorf("bad number")
		}
	}
	return nil
}

// str reads a string, undoing its escapes. Invalid UTF-8 becomes U+FFFD,
// as encoding/json decodes it.
func (s *scanner) str() (string, error) {
	if err := s.expect('"'); err != nil {
		return "", err
	}
	var out []byte
	for s.i < len(s.b) {
		c := s.b[s.i]
		switch {
		case c == '"':
			s.i++
			return string(out), nil
		case c < 0x20:
			return "", s.errorf("control character in a string")
		case c == '\\':
			if s.i+1 >= len(s.b) {
				return "", s.errorf("unterminated escape")
			}
			e := s.b[s.i+1]
			s.i += 2
			switch e {
			case '"', '\\', '/':
				out = append(out, e)
			case 'b':
				out = append(out, '\b')
			case 'f':
				out = append(out, '\f')
			case 'n':
				out = append(out, '\n')
			case 'r':
				out = append(out, '\r')
			case 't':
				out = append(out, '\t')
			case 'u':
				r, ok := s.hex4()
				if !ok {
					return "", s.errorf("bad \\u escape")
				}
				if utf16.IsSurrogate(r) {
					save := s.i
					r2, ok2 := rune(0), false
					if s.i+1 < len(s.b) && s.b[s.i] == '\\' && s.b[s.i+1] == 'u' {
						s.i += 2
						r2, ok2 = s.hex4()
					}
					if r = utf16.DecodeRune(r, r2); !ok2 || r == utf8.RuneError {
						s.i = save // a lone surrogate; what follows stands alone
						r = utf8.RuneError
					}
				}
				out = utf8.AppendRune(out, r)
			default:
				return "", s.errorf("bad escape")
			}
		default:
			r, n := utf8.DecodeRune(s.b[s.i:])
			if r == utf8.RuneError && n == 1 {
				out = utf8.AppendRune(out, utf8.RuneError)
			} else {
				out = append(out, s.b[s.i:s.i+n]...)
			}
			s.i += n
		}
	}
	return "", s.errorf("unterminated string")
}

func (s *scanner) hex4() (rune, bool) {
	if len(s.b)-s.i < 4 {
		return 0, false
	}
	var r rune
	for _, c := range s.b[s.i : s.i+4] {
		switch {
		case c >= '0' && c <= '9':
			r = r<<4 | rune(c-'0')
		case c >= 'a' && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case c >= 'A' && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			return 0, false
		}
	}
	s.i += 4
	return r, true
}
