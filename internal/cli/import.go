package cli

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"io"
	"math"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"github.com/wgboot/wgboot/board"
	"github.com/wgboot/wgboot/internal/dnsclient"
	"github.com/wgboot/wgboot/internal/wgkey"
)

// defaultPolicyTable is the table wg-quick(8) routes a default route
// through, with a fwmark of the same number, when the interface has no
// fwmark of its own (Table = auto). It takes the next number when 51820
// already has routes; at boot no table has any.
const defaultPolicyTable = 51820

// maxImportSize bounds what import reads: a hub with 10,000 peers is about
// 1.5 MB.
const maxImportSize = 64 << 20

// Import converts the wg-quick configuration at path to a profile on
// stdout. The reference is what `wg-quick up` makes of the file: wg(8)
// reads its keys (wg-quick strip + wg setconf), ip(8) its Address, MTU and
// Table. Where they accept a file, Import converts it with the same
// meaning or refuses it saying why; where they refuse it, so does Import.
//
// What a profile cannot express (DNS, the hook commands, SaveConfig) is
// reported on stderr as a warning, never dropped silently. The [board],
// [uplink] and [handoff] tables have no wg-quick counterpart: they are
// written empty or with defaults, for the user to fill in.
//
// A file that cannot be converted faithfully is reported as "file:line:
// message" lines on stderr, nothing is written to stdout, and Import
// returns ExitFail. Key material is never printed on stderr.
func Import(stdout, stderr io.Writer, path string) int {
	data, err := readImport(path)
	if err != nil {
		fmt.Fprintf(stderr, "%s: cannot read: %v\n", path, err)
		return ExitFail
	}
	c := converter{file: path}
	p := c.convert(data)
	if !c.failed() {
		c.lint(p)
	}
	if c.failed() {
		c.print(stderr)
		return ExitFail
	}
	if !p.Tunnels[0].PrivateKey.IsZero() {
		c.add(0, false, "warning: the private key is now inline in the profile and would be baked into the image; write it to a file (mode 0600) and use private_key_file")
	}
	c.add(0, false, "note: fill in [board] name and match, [uplink] interface and address, and [handoff], then run wgboot check")
	c.print(stderr)
	out, err := board.MarshalSecrets(p)
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", path, err)
		return ExitFail
	}
	header := "# Converted from %s by wgboot import.\n# Fill in [board], [uplink] and [handoff].\n\n"
	if !p.Tunnels[0].PrivateKey.IsZero() {
		header = "# Converted from %s by wgboot import.\n# Fill in [board], [uplink] and [handoff]; move private_key to a key file.\n\n"
	}
	fmt.Fprintf(stdout, header, filepath.Base(path))
	if _, err := stdout.Write(out); err != nil {
		fmt.Fprintf(stderr, "wgboot import: write: %v\n", err)
		return ExitFail
	}
	return ExitOK
}

// readImport reads at most maxImportSize bytes of path.
func readImport(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, unwrapPath(err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxImportSize+1))
	if err != nil {
		return nil, unwrapPath(err)
	}
	if len(data) > maxImportSize {
		return nil, fmt.Errorf("larger than %d MiB", maxImportSize>>20)
	}
	return data, nil
}

// message is one line for stderr.
type message struct {
	line int // 0: about the whole file
	text string
	err  bool
}

// converter turns wg-quick text into a profile, collecting messages.
type converter struct {
	file string
	line int // the line being read; 0 after the last
	msgs []message

	name     string // the interface, from the file name
	section  section
	quick    bool           // wg-quick's interface_section: its own keys are read
	headerAs string         // the current section's header as written
	seen     map[string]int // scalar keys of the current section → line

	privateKey     wgkey.PrivateKey
	privateKeyLine int
	privateKeyBad  bool // a PrivateKey line that did not parse
	keyHookPath    string
	keyHookLine    int
	keyHookName    string
	listenPort     uint16
	fwmark         uint32
	mtu            int
	mtuSet         bool
	address        []netip.Prefix
	table          string // as written; "" is auto
	tableLine      int
	dns            []string
	dnsLine        int
	hostEndpoint   bool // an Endpoint is a host name
	sections       []*peerSection
	peerLines      []int // the first [Peer] line of each peer of the profile
}

// section is the part of the file wg(8) is reading.
type section int

const (
	sectionNone section = iota
	sectionInterface
	sectionPeer
	sectionUnknown // a header wg(8) rejects; its lines are not reported again
)

// peerSection is what one [Peer] section says. wg(8) sends each section
// to the kernel in turn, so two sections with one public key are merged
// there (see mergePeers).
type peerSection struct {
	line         int
	key          wgkey.Key
	keyOK        bool
	keyBad       bool // a PublicKey line that did not parse
	psk          wgkey.PresharedKey
	hasPSK       bool
	endpoint     board.Endpoint
	hasEndpoint  bool
	keepalive    uint16
	hasKeepalive bool
	allowed      []allowed
}

type allowed struct {
	p    netip.Prefix // masked
	line int
}

func (c *converter) add(line int, err bool, format string, args ...any) {
	c.msgs = append(c.msgs, message{line: line, text: hideKeys(fmt.Sprintf(format, args...)), err: err})
}

// hideKeys replaces what looks like a key in a message: messages echo
// values (ListenPort = x), and a key pasted into the wrong field must not
// reach a terminal or a log. A run of 40 or more base64 characters with
// upper and lower case letters and digits is taken for one.
func hideKeys(s string) string {
	isB64 := func(c byte) bool {
		return isDigit(c) || c|0x20 >= 'a' && c|0x20 <= 'z' || c == '+' || c == '/' || c == '='
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		j := i
		for j < len(s) && isB64(s[j]) {
			j++
		}
		run := s[i:j]
		if len(run) >= 40 && strings.ContainsAny(run, "0123456789") &&
			strings.ContainsFunc(run, unicode.IsUpper) && strings.ContainsFunc(run, unicode.IsLower) {
			run = "(hidden: it looks like a key)"
		}
		b.WriteString(run)
		if j < len(s) {
			b.WriteByte(s[j])
			j++
		}
		i = j
	}
	return b.String()
}

func (c *converter) errorf(format string, args ...any) { c.add(c.line, true, format, args...) }

func (c *converter) warnf(format string, args ...any) {
	c.add(c.line, false, "warning: "+format, args...)
}

func (c *converter) failed() bool {
	return slices.ContainsFunc(c.msgs, func(m message) bool { return m.err })
}

// print writes the messages in line order, whole-file ones last; after
// an error, only the errors.
func (c *converter) print(w io.Writer) {
	if c.failed() {
		c.msgs = slices.DeleteFunc(c.msgs, func(m message) bool { return !m.err })
	}
	slices.SortStableFunc(c.msgs, func(a, b message) int {
		if (a.line == 0) != (b.line == 0) {
			if a.line == 0 {
				return 1
			}
			return -1
		}
		return cmp.Compare(a.line, b.line)
	})
	for _, m := range c.msgs {
		if m.line > 0 {
			fmt.Fprintf(w, "%s:%d: %s\n", c.file, m.line, m.text)
		} else {
			fmt.Fprintf(w, "%s: %s\n", c.file, m.text)
		}
	}
}

// interfaceNameRE is wg-quick's rule for the file name: the interface name
// followed by .conf (src/wg-quick/linux.bash, parse_options).
var interfaceNameRE = regexp.MustCompile(`^[a-zA-Z0-9_=+.-]{1,15}\.conf$`)

var utf8BOM = []byte{0xef, 0xbb, 0xbf}

// convert parses a wg-quick file into a profile with one tunnel.
func (c *converter) convert(data []byte) *board.Profile {
	base := filepath.Base(c.file)
	c.name = strings.TrimSuffix(base, ".conf")
	if !interfaceNameRE.MatchString(base) {
		c.add(0, true, "wg-quick names the interface after the file, which must be an interface name (1 to 15 of a-z A-Z 0-9 _ = + . -) followed by .conf; rename the file, e.g. wg0.conf")
	}
	c.seen = map[string]int{}
	if bytes.HasPrefix(data, utf8BOM) {
		c.line = 1
		c.errorf("the file starts with a UTF-8 byte order mark (some Windows editors write one), which wg(8) rejects as part of the first line; save the file without it")
		data = data[len(utf8BOM):]
	}
	// wg(8) reads lines with getline: a line ends at '\n' only, and the
	// last one needs none.
	for len(data) > 0 {
		c.line++
		raw := data
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			raw, data = data[:i], data[i+1:]
		} else {
			data = nil
		}
		c.readLine(string(raw))
	}
	c.line = 0

	t := board.Tunnel{Name: c.name, MTU: board.DefaultMTU, Table: board.TableMain,
		ListenPort: c.listenPort, FwMark: c.fwmark, Address: c.address}
	if c.mtuSet {
		t.MTU = c.mtu
	} else {
		c.add(0, false, "note: no MTU: wg-quick sets the MTU of the route to the endpoints less 80 at each start; written as mtu = %d, which is that for a 1500-byte uplink", board.DefaultMTU)
	}
	c.privateKeyOf(&t)
	t.Peers = c.mergePeers()
	c.tableOf(&t)
	c.dnsNote()
	p := &board.Profile{
		Handoff: board.Handoff{
			Init:      board.DefaultInit,
			OnFailure: board.DefaultOnFailure,
			Deadline:  board.DefaultDeadline,
		},
		Uplink:  board.Uplink{CarrierTimeout: board.DefaultCarrierTimeout},
		Tunnels: []board.Tunnel{t},
	}
	return p
}

// Keys of each part of the file. wg(8) reads the first two (src/config.c,
// process_line); wg-quick reads its own in [Interface] before passing the
// rest to wg (linux.bash, parse_options).
var (
	interfaceKeys = []string{"PrivateKey", "ListenPort", "FwMark"}
	peerKeys      = []string{"PublicKey", "PresharedKey", "AllowedIPs", "Endpoint", "PersistentKeepalive"}
	quickKeys     = []string{"Address", "DNS", "MTU", "Table", "PreUp", "PreDown", "PostUp", "PostDown", "SaveConfig"}
)

// amneziaKeys are the obfuscation settings of AmneziaWG, a fork whose
// files look like wg-quick's; WireGuard has none of them.
var amneziaKeys = []string{"Jc", "Jmin", "Jmax", "S1", "S2", "S3", "S4", "H1", "H2", "H3", "H4", "I1", "I2", "I3", "I4", "I5", "J1", "J2", "J3", "Itime"}

// keyIn returns the spelling in keys of name, compared without case, or "".
func keyIn(keys []string, name string) string {
	for _, k := range keys {
		if strings.EqualFold(k, name) {
			return k
		}
	}
	return ""
}

// readLine reads one line as both readers do. wg-quick cuts the line at
// '#', takes the text before the first '=' as the key and the rest as the
// value, both trimmed, and keeps its own keys while in [Interface]. wg(8)
// cuts at '#' too, then deletes every blank wherever it is
// (config_read_line), so "Listen Port = 51820" is ListenPort to wg but not
// "Add ress" to wg-quick.
func (c *converter) readLine(raw string) {
	if strings.IndexByte(raw, 0) >= 0 {
		c.errorf("the line has a NUL byte, which wg-quick drops and wg(8) ends the line at; remove it")
		return
	}
	text := raw
	if i := strings.IndexByte(text, '#'); i >= 0 {
		text = text[:i]
	}
	wgLine := deleteBlanks(text)
	key, value, hasEq := strings.Cut(text, "=")
	key, value = trimBlanks(key), trimBlanks(value)
	if !hasEq {
		value = key // wg-quick's ${stripped#*=} is all of it
	}
	if strings.HasPrefix(key, "[") {
		c.quick = strings.EqualFold(key, "[Interface]")
	}
	if c.quick {
		if k := keyIn(quickKeys, key); k != "" {
			c.quickKey(k, key, value, hasEq)
			return
		}
	}
	switch {
	case wgLine == "":
	case strings.EqualFold(wgLine, "[Interface]"), strings.EqualFold(wgLine, "[Peer]"):
		c.startSection(wgLine, key)
	case wgLine[0] == '[':
		if safeName(wgLine) {
			c.errorf("unknown section %s: want [Interface] or [Peer]", wgLine)
		} else {
			c.errorf("unknown section: want [Interface] or [Peer]")
		}
		c.section = sectionUnknown
	default:
		c.wgKey(key, wgLine)
	}
}

func (c *converter) startSection(wgLine, spelled string) {
	c.headerAs = spelled
	c.seen = map[string]int{}
	if strings.EqualFold(wgLine, "[Interface]") {
		c.section = sectionInterface
		return
	}
	c.section = sectionPeer
	c.sections = append(c.sections, &peerSection{line: c.line})
}

// safeName reports whether a key as written may be echoed: short, and
// without base64's '+' and '/', so that a key pasted on a line of its own
// is never printed.
func safeName(s string) bool {
	if s == "" || len(s) > 24 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(isDigit(c) || c|0x20 >= 'a' && c|0x20 <= 'z' || c == ' ' || c == '\t' || c == '_' || c == '-' || c == '.' || c == '[' || c == ']') {
			return false
		}
	}
	return true
}

// wgKey handles a line that wg(8) reads. spelled is the key as written,
// for messages.
func (c *converter) wgKey(spelled, wgLine string) {
	var keys []string
	switch c.section {
	case sectionInterface:
		keys = interfaceKeys
	case sectionPeer:
		keys = peerKeys
	}
	// wg matches "Key=" at the start of the line, without case, and wants a
	// value after it (get_value: the key must be shorter than the line).
	for _, k := range keys {
		if len(wgLine) > len(k)+1 && strings.EqualFold(wgLine[:len(k)+1], k+"=") {
			value := wgLine[len(k)+1:]
			if r := unicodeSpace(value); r != 0 {
				c.errorf("%s: the value has a %s; wg(8) deletes only ASCII blanks, so it would be part of the value", spelled, spaceName(r))
				switch k {
				case "PrivateKey":
					c.privateKeyBad = true
				case "PublicKey":
					c.sections[len(c.sections)-1].keyBad = true
				}
				return
			}
			if c.section == sectionInterface {
				c.interfaceKey(k, spelled, value)
			} else {
				c.peerKey(c.sections[len(c.sections)-1], k, spelled, value)
			}
			return
		}
	}
	c.unrecognized(spelled, wgLine)
}

// unrecognized says why wg(8) rejects a line ("Line unrecognized").
func (c *converter) unrecognized(spelled, wgLine string) {
	name, _, hasEq := strings.Cut(wgLine, "=")
	if c.section == sectionUnknown {
		return
	}
	if !hasEq || !safeName(spelled) {
		// Not echoed: a stray line may be a key pasted on its own.
		c.errorf("want Key = Value")
		return
	}
	where := map[section]string{sectionInterface: "[Interface]", sectionPeer: "[Peer]"}
	switch {
	case keyIn(interfaceKeys, name) != "" && c.section == sectionInterface,
		keyIn(peerKeys, name) != "" && c.section == sectionPeer:
		c.errorf("%s has no value, which wg(8) rejects", spelled)
	case keyIn(quickKeys, name) != "" && c.section == sectionInterface && !c.quick:
		c.errorf("%s: wg-quick reads its own keys only after a header written [Interface], not %s; wg(8) then rejects the line", spelled, c.headerAs)
	case keyIn(quickKeys, name) != "" && c.section == sectionInterface:
		c.errorf("%s: wg-quick's own keys cannot contain blanks, so wg-quick does not read it as %s and wg(8) rejects the line", spelled, keyIn(quickKeys, name))
	case c.section == sectionNone && (keyIn(interfaceKeys, name) != "" || keyIn(peerKeys, name) != "" || keyIn(quickKeys, name) != ""):
		c.errorf("%s is outside of [Interface] and [Peer]", spelled)
	case keyIn(interfaceKeys, name) != "" || keyIn(quickKeys, name) != "":
		c.errorf("%s belongs in [Interface], not %s", spelled, where[c.section])
	case keyIn(peerKeys, name) != "":
		c.errorf("%s belongs in [Peer], not %s", spelled, where[c.section])
	case c.section == sectionNone:
		c.errorf("unknown key %s outside of [Interface] and [Peer]", spelled)
	case keyIn(amneziaKeys, name) != "":
		c.errorf("unknown %s key %s: an AmneziaWG obfuscation setting, which WireGuard does not have; a WireGuard peer cannot talk to an AmneziaWG server", where[c.section], spelled)
	default:
		c.errorf("unknown %s key %s", where[c.section], spelled)
	}
}

// once warns when a scalar key repeats; the last value is used.
func (c *converter) once(key string) {
	if first, dup := c.seen[key]; dup {
		c.warnf("%s was already given on line %d; the last value is used, as wg-quick and wg do", key, first)
	}
	c.seen[key] = c.line
}

func (c *converter) interfaceKey(key, spelled, value string) {
	c.once(key)
	switch key {
	case "PrivateKey":
		k, err := wgkey.ParsePrivateKey(value)
		switch {
		case err != nil:
			c.errorf("%s: %v", spelled, err)
			c.privateKeyBad = true
		case k.IsZero():
			c.errorf("%s is all zeros, which wg(8) takes as no private key at all", spelled)
			c.privateKeyBad = true
		default:
			c.privateKey, c.privateKeyLine = k, c.line
		}
	case "ListenPort":
		if sp, ok := c.port(spelled, value); ok {
			c.listenPort = sp
		}
	case "FwMark":
		n, ok := wgNumber(value, true, math.MaxUint32)
		if !ok {
			c.errorf("%s = %s: wg(8) takes off, a decimal number or hex after a lowercase 0x, from 0 to 4294967295", spelled, value)
			return
		}
		c.fwmark = uint32(n)
	}
}

// port reads ListenPort as getaddrinfo(3) reads wg's service argument.
func (c *converter) port(spelled, value string) (uint16, bool) {
	sp := readService(value)
	switch {
	case !sp.numeric && value[0] != '-':
		c.errorf("%s = %s: wg(8) looks a name up in /etc/services; write the port number", spelled, value)
	case !sp.numeric:
		c.errorf("%s = %s: want a port number from 0 to 65535", spelled, value)
	case sp.wraps:
		c.errorf("%s = %s is above 65535; wg(8) would silently use %d (its low 16 bits)", spelled, value, sp.port)
	default:
		if !sp.plain {
			c.warnf("%s = %s read as %d, as wg(8) reads it", spelled, value, sp.port)
		}
		return sp.port, true
	}
	return 0, false
}

func (c *converter) peerKey(s *peerSection, key, spelled, value string) {
	if key != "AllowedIPs" {
		c.once(key)
	}
	switch key {
	case "PublicKey":
		k, err := wgkey.ParseKey(value)
		switch {
		case err != nil:
			c.errorf("%s: %v", spelled, err)
			s.keyBad = true
		case k.IsZero():
			c.errorf("%s is all zeros, which is no peer's key", spelled)
			s.keyBad = true
		default:
			s.key, s.keyOK = k, true
		}
	case "PresharedKey":
		k, err := wgkey.ParsePresharedKey(value)
		if err != nil {
			c.errorf("%s: %v", spelled, err)
			return
		}
		// All zeros is what wg(8) sends to mean no preshared key.
		s.psk, s.hasPSK = k, true
	case "AllowedIPs":
		c.allowedIPs(s, spelled, value)
	case "Endpoint":
		if ep, ok := c.endpoint(spelled, value); ok {
			s.endpoint, s.hasEndpoint = ep, true
			c.hostEndpoint = c.hostEndpoint || ep.Host != ""
		}
	case "PersistentKeepalive":
		n, ok := wgNumber(value, false, math.MaxUint16)
		if !ok {
			c.errorf("%s = %s: wg(8) takes off or a decimal number of seconds from 0 to 65535", spelled, value)
			return
		}
		s.keepalive, s.hasKeepalive = uint16(n), true
	}
}

// allowedIPs reads a comma-separated list as wg(8) does: every entry must
// be a prefix, so an empty one (a trailing comma) is an error. Host bits
// are cleared as the kernel clears them, with wg's warning.
func (c *converter) allowedIPs(s *peerSection, spelled, value string) {
	for _, e := range strings.Split(value, ",") {
		if e == "" {
			c.errorf("%s: an empty entry (a comma too many), which wg(8) rejects", spelled)
			continue
		}
		if e[0] == '+' || e[0] == '-' {
			c.errorf("%s: %s: '+' and '-' are `wg set`'s way to add and remove prefixes; in a file, wg(8) up to v1.0.20210914 rejects them and later versions apply them to nothing", spelled, e)
			continue
		}
		pfx, ok := allowedIP(e)
		if !ok {
			c.errorf("%s: %s is not an address or a prefix such as 10.0.0.0/24 or fd00::/64", spelled, e)
			continue
		}
		if m := pfx.Masked(); m != pfx {
			c.warnf("%s: %s has host bits set; written as %s, which is what wg uses", spelled, e, m)
			pfx = m
		}
		s.allowed = append(s.allowed, allowed{p: pfx, line: c.line})
	}
}

// endpoint reads Endpoint as wg(8)'s parse_endpoint splits it and
// getaddrinfo(3) reads the parts, then asks endpointForProfile what a
// profile can say.
func (c *converter) endpoint(spelled, value string) (board.Endpoint, bool) {
	host, port, bad := endpointSyntax(value)
	if bad != "" {
		c.errorf("%s %s %s", spelled, value, bad)
		return board.Endpoint{}, false
	}
	addr, kind, plain := endpointHost(host)
	switch kind {
	case hostInvalid:
		c.errorf("%s %s: %s is neither an IP address nor a host name", spelled, value, host)
		return board.Endpoint{}, false
	case hostZoned:
		c.errorf("%s %s: a link-local address with a zone (%%%s), which names an interface of the machine the file was written for; a profile endpoint cannot carry one", spelled, value, addr.Zone())
		return board.Endpoint{}, false
	}
	sp := readService(port)
	switch {
	case !sp.numeric && port[0] != '-':
		c.errorf("%s %s: the port %s is a service name, which wg(8) looks up in /etc/services; write the number", spelled, value, port)
		return board.Endpoint{}, false
	case !sp.numeric:
		c.errorf("%s %s: %s is not a port number", spelled, value, port)
		return board.Endpoint{}, false
	case sp.wraps:
		c.errorf("%s %s: the port is above 65535; wg(8) would silently use %d (its low 16 bits)", spelled, value, sp.port)
		return board.Endpoint{}, false
	}
	// A name is kept as written: only its port can be spelled oddly.
	return c.endpointForProfile(spelled, value, host, addr, kind, (plain || kind == hostName) && sp.plain, sp.port)
}

// endpointForProfile is the one place that decides what a profile's
// endpoint can hold: an address, or a host name that the boot resolves
// (wg(8) resolves it when the file is loaded). A name the boot's resolver
// cannot ask for is refused, saying why.
func (c *converter) endpointForProfile(spelled, value, host string, addr netip.Addr, kind hostKind, plain bool, port uint16) (board.Endpoint, bool) {
	if kind == hostName {
		if err := dnsclient.CheckHost(host); err != nil {
			c.errorf("%s %s: wg(8) would resolve %s, but the boot cannot look it up: %v", spelled, value, host, err)
			return board.Endpoint{}, false
		}
		ep := board.Endpoint{Host: host, Port: port}
		if !plain {
			c.warnf("%s %s read as %s, as wg(8) reads it", spelled, value, ep)
		}
		c.add(c.line, false, "note: %s %s: kept as a host name, which the boot resolves (A and AAAA) through nameserver= on the kernel command line, [uplink] dns or the DHCP lease's name servers (dhcp = true): give the profile one of them", spelled, value)
		return ep, true
	}
	ap := netip.AddrPortFrom(addr, port)
	if !plain {
		c.warnf("%s %s read as %s, as wg(8) reads it", spelled, value, ap)
	}
	return board.Endpoint{Addr: ap}, true
}

// quickKey handles a key wg-quick reads itself. spelled is the key as
// written, for messages.
func (c *converter) quickKey(key, spelled, value string, hasEq bool) {
	if !hasEq {
		c.errorf("want Key = Value")
		return
	}
	if r := unicodeSpace(value); r != 0 && key != "PreUp" && key != "PostUp" && key != "PreDown" && key != "PostDown" {
		c.errorf("%s: the value has a %s, which wg-quick does not take for a blank", spelled, spaceName(r))
		return
	}
	switch key {
	case "Address":
		// `ADDRESSES+=( ${value//,/ } )`: commas and blanks both separate.
		for _, w := range strings.FieldsFunc(value, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' }) {
			pfx, plain, ok := ipPrefix(w)
			if !ok {
				c.errorf("%s: %s is not an IP address with an optional prefix length", spelled, w)
				continue
			}
			if !plain {
				c.warnf("%s: %s read as %s, as ip(8) reads it", spelled, w, pfx)
			}
			c.address = append(c.address, pfx)
		}
	case "DNS":
		if c.dnsLine == 0 {
			c.dnsLine = c.line
		}
		c.dns = append(c.dns, strings.FieldsFunc(value, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' })...)
	case "MTU":
		c.once(key)
		if value == "" {
			c.mtuSet = false // unset: wg-quick computes one
			return
		}
		n, ok := ipUnsigned(value)
		if !ok {
			c.errorf("%s = %s: want a number, as ip(8) reads it", spelled, value)
			return
		}
		if !plainDecimal(value) {
			c.warnf("%s = %s read as %d, as ip(8) reads it", spelled, value, n)
		}
		c.mtu, c.mtuSet = int(min(n, math.MaxInt32)), true
	case "Table":
		c.once(key)
		c.table, c.tableLine = value, c.line
	case "PreUp", "PostUp", "PreDown", "PostDown":
		if value == "" {
			return // wg-quick runs an empty command: nothing
		}
		if path, ok := keyHook(value, c.name); ok && (key == "PreUp" || key == "PostUp") {
			if c.keyHookLine != 0 {
				c.errorf("%s sets the private key from a file again (also line %d); keep one", spelled, c.keyHookLine)
				return
			}
			if !strings.HasPrefix(path, "/") {
				c.errorf("%s: the private key file %s is relative to the directory wg-quick is started in; write its absolute path", spelled, path)
				return
			}
			c.keyHookPath, c.keyHookLine, c.keyHookName = path, c.line, spelled
			return
		}
		// The command is not echoed: hooks sometimes pipe keys around.
		c.warnf("%s dropped: wgboot runs no hook commands; do that work in the real root", spelled)
	case "SaveConfig":
		c.once(key)
		// read_bool runs while nocasematch is on: True and FALSE count.
		switch {
		case strings.EqualFold(value, "true"):
			c.warnf("%s = %s dropped: wg-quick writes the running configuration back to the file when the interface goes down; a profile is never written", spelled, value)
		case strings.EqualFold(value, "false"):
		default:
			c.errorf("%s = %s: wg-quick takes only true or false", spelled, value)
		}
	}
}

// keyHook recognises the idiom wg-quick(8) documents for a private key
// kept in a file, `PostUp = wg set %i private-key /path` (PreUp in newer
// manuals), and returns the path with %i replaced as wg-quick replaces it.
// Anything more (a second command, a redirection, a variable) is a hook
// like any other.
func keyHook(cmd, iface string) (string, bool) {
	f := strings.FieldsFunc(cmd, func(r rune) bool { return r == ' ' || r == '\t' })
	if len(f) != 5 || f[1] != "set" || f[3] != "private-key" {
		return "", false
	}
	if f[0] != "wg" && f[0] != "/usr/bin/wg" && f[0] != "/bin/wg" && f[0] != "/usr/local/bin/wg" {
		return "", false
	}
	if f[2] != "%i" && f[2] != iface {
		return "", false
	}
	path := strings.ReplaceAll(f[4], "%i", iface)
	if path == "" || strings.ContainsAny(path, "\"'\\$`;&|<>(){}*?[]~!#") {
		return "", false
	}
	return path, true
}

// privateKeyOf sets the tunnel's private key from PrivateKey or from the
// key file hook.
func (c *converter) privateKeyOf(t *board.Tunnel) {
	switch {
	case c.keyHookLine != 0 && c.privateKeyLine != 0:
		c.add(c.keyHookLine, true, "%s sets the private key from a file, and PrivateKey on line %d sets it too; keep one", c.keyHookName, c.privateKeyLine)
	case c.keyHookLine != 0:
		t.PrivateKeyFile = c.keyHookPath
		c.add(c.keyHookLine, false, "note: %s = wg set %%i private-key %s written as private_key_file = %q; the key file must be at that path in the image", c.keyHookName, c.keyHookPath, c.keyHookPath)
	case c.privateKeyLine != 0:
		t.PrivateKey = c.privateKey
	case c.privateKeyBad:
	default:
		c.add(0, true, "[Interface] has no PrivateKey (nor PostUp = wg set %%i private-key FILE); the interface would have no key")
	}
}

// mergePeers applies the [Peer] sections in order, as wg(8) sends them
// and the kernel applies them: a section with a public key already seen
// updates that peer (its AllowedIPs replace the earlier ones, since every
// section asks for replace-allowed-ips; endpoint, preshared key and
// keepalive change only when given), and a prefix already allowed for
// another peer moves to this one. A peer with the interface's own public
// key is ignored, as the kernel ignores it.
func (c *converter) mergePeers() []board.Peer {
	var self wgkey.Key
	if !c.privateKey.IsZero() {
		self = c.privateKey.PublicKey()
	}
	var (
		peers []board.Peer
		lines []int // each peer's first section
		index = map[wgkey.Key]int{}
		owner = map[netip.Prefix]int{}
	)
	for _, s := range c.sections {
		if !s.keyOK {
			if !s.keyBad {
				c.add(s.line, true, "[Peer] has no PublicKey, which wg(8) rejects")
			}
			continue
		}
		if s.key == self && !self.IsZero() {
			c.add(s.line, false, "warning: this [Peer] has the interface's own public key; the kernel ignores such a peer (so one file can serve every node), and so does the profile")
			continue
		}
		i, dup := index[s.key]
		if dup {
			c.add(s.line, false, "warning: this [Peer] has the public key of the [Peer] on line %d; wg merges them as written: this section's AllowedIPs replace that one's, and its Endpoint, PresharedKey and PersistentKeepalive apply where given", lines[i])
			for _, a := range peers[i].AllowedIPs {
				delete(owner, a)
			}
			peers[i].AllowedIPs = nil
		} else {
			i = len(peers)
			index[s.key] = i
			peers = append(peers, board.Peer{PublicKey: s.key})
			lines = append(lines, s.line)
		}
		p := &peers[i]
		for _, a := range s.allowed {
			if j, taken := owner[a.p]; taken {
				if j == i {
					continue // listed twice: the kernel holds it once
				}
				c.add(a.line, false, "warning: %s is also in the AllowedIPs of the [Peer] on line %d; WireGuard gives a prefix to the last peer listing it, so it is this peer's", a.p, lines[j])
				peers[j].AllowedIPs = slices.DeleteFunc(peers[j].AllowedIPs, func(q netip.Prefix) bool { return q == a.p })
			}
			owner[a.p] = i
			p.AllowedIPs = append(p.AllowedIPs, a.p)
		}
		if s.hasPSK {
			p.PresharedKey = s.psk
		}
		switch {
		case !s.hasEndpoint:
		case s.endpoint.Host != "":
			p.Endpoints = []board.Endpoint{s.endpoint}
		default:
			p.Endpoint = s.endpoint.Addr
		}
		if s.hasKeepalive {
			p.PersistentKeepalive = s.keepalive
		}
	}
	c.peerLines = lines
	return peers
}

// tableOf maps Table to the profile's table, keeping what wg-quick does
// with it (linux.bash, add_route and add_default). wg-quick compares Table
// with "off" and "auto" case-sensitively and gives anything else to
// `ip route add … table VALUE`, which knows main, default, local and
// unspec, or a number in base 0.
func (c *converter) tableOf(t *board.Tunnel) {
	var routes, defaults, others []netip.Prefix
	for _, p := range t.Peers {
		for _, a := range p.AllowedIPs {
			routes = append(routes, a)
			if a.Bits() == 0 {
				defaults = append(defaults, a)
			} else {
				others = append(others, a)
			}
		}
	}
	at := func(ok bool, format string, args ...any) { c.add(c.tableLine, !ok, format, args...) }
	v := c.table
	switch v {
	case "", "auto":
		if len(defaults) == 0 {
			t.Table = board.TableMain
			return
		}
		c.autoTable(t, defaults, others)
		return
	case "off":
		t.Table = board.TableOff
		return
	}
	n, ok := map[string]uint32{"main": 254, "default": 253, "local": 255, "unspec": 0}[v]
	if !ok {
		n, ok = ipUnsigned(v)
		if ok && !plainDecimal(v) {
			at(true, "warning: Table = %s read as %d, as ip(8) reads it", v, n)
		}
	}
	switch {
	case !ok && (strings.EqualFold(v, "off") || strings.EqualFold(v, "auto") || keyIn([]string{"main", "default", "local", "unspec"}, v) != ""):
		at(false, "Table = %s: wg-quick compares Table case-sensitively, so this is neither off nor auto but a table name, which ip(8) does not know; write %s", v, strings.ToLower(v))
	case !ok:
		at(false, "Table = %s: a table name from /etc/iproute2/rt_tables, which early boot does not have; write the table's number", v)
	case n == 0:
		// The kernel puts a route for table 0 (RT_TABLE_UNSPEC) into main.
		at(true, "note: Table = %s: ip(8) adds routes for table 0 to the main table; written as table = \"main\"", v)
		t.Table = board.TableMain
	case n == uint32(board.TableMain):
		t.Table = board.TableMain
	case t.FwMark != 0 && len(routes) > 0:
		at(false, "Table = %s with FwMark = %d: wg-quick only adds routes to table %d, but a profile with both a table number and a fwmark also gets wg-quick's policy rules for a default route (not fwmark %d lookup %d; lookup main suppress_prefixlength 0); drop FwMark or convert by hand", v, t.FwMark, n, t.FwMark, n)
	default:
		t.Table = board.Table(n)
	}
}

// autoTable is Table = auto with a default route: wg-quick's add_default
// routes each /0 through a table of its own, numbered like the fwmark if
// the interface has one and 51820 otherwise (then setting that fwmark),
// with the rules `not fwmark T lookup T` and `lookup main
// suppress_prefixlength 0`. Its other prefixes go to the main table.
func (c *converter) autoTable(t *board.Tunnel, defaults, others []netip.Prefix) {
	n := t.FwMark
	if n == 0 {
		n = defaultPolicyTable
	}
	if n == uint32(board.TableMain) || n == 255 {
		c.add(0, true, "FwMark = %d with a default route: wg-quick would use the fwmark as its routing table, which is the kernel's %s table; a profile cannot say that", n, map[uint32]string{254: "main", 255: "local"}[n])
		return
	}
	t.Table, t.FwMark = board.Table(n), n
	c.add(c.tableLine, false, "note: Table = auto with a default route: written as table = %d and fwmark = %d with wg-quick's policy rules (wg-quick takes the fwmark as the table if there is one, else 51820 or the next number without routes)", n, n)
	if len(others) == 0 {
		return
	}
	list := make([]string, 0, 3)
	for i, p := range others {
		if i == 3 {
			list = append(list, fmt.Sprintf("and %d more", len(others)-3))
			break
		}
		list = append(list, p.String())
	}
	c.add(c.tableLine, false, "warning: wg-quick routes only %s through table %d and puts the other allowed IPs (%s) into the main table; a profile has one table per tunnel, so they go to table %d too. What changes: a wider route in the main table (a LAN route such as 10.0.0.0/8) now takes their traffic, since the main table is looked up first for all but its default route; and WireGuard's own packets to them now leave through the main table instead of looping into the tunnel",
		joinPrefixes(defaults), n, strings.Join(list, ", "), n)
}

func joinPrefixes(ps []netip.Prefix) string {
	s := make([]string, len(ps))
	for i, p := range ps {
		s[i] = p.String()
	}
	slices.Sort(s)
	return strings.Join(slices.Compact(s), " and ")
}

// dnsNote says what happens to DNS.
func (c *converter) dnsNote() {
	if len(c.dns) == 0 {
		return
	}
	var servers, search []string
	for _, d := range c.dns {
		// wg-quick's test: digits and dots, or a ':', make a server.
		if strings.Trim(d, "0123456789.") == "" || strings.Contains(d, ":") {
			servers = append(servers, d)
		} else {
			search = append(search, d)
		}
	}
	what := "name servers " + strings.Join(servers, ", ")
	if len(search) > 0 {
		what += " and search domains " + strings.Join(search, ", ")
	}
	c.add(c.dnsLine, false, "warning: DNS dropped (%s): wg-quick hands them to resolvconf while the tunnel is up, for the system's name lookups (not for endpoints); wgboot sets up no resolver, so configure them in the system that boots next", what)
	if c.hostEndpoint {
		// wg(8) resolves Endpoint with the host's resolver before the
		// tunnel is up, never with DNS: neither does the boot.
		c.add(c.dnsLine, false, "note: DNS is not made [uplink] dns: it answers inside the tunnel, and the endpoint's host name is resolved before the tunnel is up")
	}
}

// lint runs the profile's checks on the converted tunnel. An error means
// the profile would be refused, so the conversion fails; the tables that
// wg-quick has no counterpart for are left to the user and not checked.
func (c *converter) lint(p *board.Profile) {
	for _, d := range p.Validate() {
		if !strings.HasPrefix(d.Path, "tunnel[") || errors.Is(d, board.ErrSecret) {
			continue
		}
		line := c.lineOf(d.Path)
		if strings.HasSuffix(d.Path, ".endpoint") && (d.Severity == board.SeverityWarning || errors.Is(d, board.ErrLoop)) {
			// These depend on the uplink, which is not filled in yet.
			if d.Severity == board.SeverityError {
				c.add(line, false, "warning: converted profile: %v; wgboot check reports it as an error until an [uplink] address puts the endpoint on a more specific network", d)
			}
			continue
		}
		c.add(line, d.Severity == board.SeverityError, "converted profile: %v", d)
	}
}

// lineOf finds the [Peer] section line of a diagnostic's path.
func (c *converter) lineOf(path string) int {
	rest, ok := strings.CutPrefix(path, "tunnel[0].peer[")
	if !ok {
		return 0
	}
	end := strings.IndexByte(rest, ']')
	if end < 0 {
		return 0
	}
	i, err := strconv.Atoi(rest[:end])
	if err != nil || i < 0 || i >= len(c.peerLines) {
		return 0
	}
	return c.peerLines[i]
}
