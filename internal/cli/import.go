package cli

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/wgboot/wgboot/board"
	"github.com/wgboot/wgboot/internal/wgkey"
)

// defaultPolicyTable is the table and fwmark wg-quick picks first when it
// routes a default route through the tunnel (wg-quick(8), Table = auto).
const defaultPolicyTable = 51820

// Import converts the wg-quick configuration at path to a profile on
// stdout. What a profile cannot express (DNS, PreUp/PostUp/PreDown/
// PostDown, SaveConfig) is reported on stderr as a warning, never dropped
// silently. The [board], [uplink] and [handoff] tables have no wg-quick
// counterpart: they are written empty or with defaults, for the user to
// fill in. Because wg-quick files hold the private key inline, so does the
// profile, with a warning recommending private_key_file.
//
// Problems that make a faithful conversion impossible (a host name as
// endpoint, an unknown key, a malformed value) are printed as
// "file:line: message" on stderr, nothing is written to stdout, and Import
// returns ExitFail.
func Import(stdout, stderr io.Writer, path string) int {
	data, err := os.ReadFile(path)
	if err != nil {
		fmt.Fprintf(stderr, "%s: cannot read: %v\n", path, unwrapPath(err))
		return ExitFail
	}
	name := strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
	c := converter{file: path}
	p := c.convert(name, data)
	for _, w := range c.warnings {
		fmt.Fprintln(stderr, w)
	}
	if len(c.errs) > 0 {
		for _, e := range c.errs {
			fmt.Fprintln(stderr, e)
		}
		return ExitFail
	}
	out, err := board.MarshalSecrets(p)
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", path, err)
		return ExitFail
	}
	for _, d := range p.Validate() {
		// Only the converted tunnel is worth reporting here; the tables
		// wg-quick has no counterpart for are covered by the note below,
		// and endpoint warnings depend on the uplink not yet filled in.
		if !strings.HasPrefix(d.Path, "tunnel[") || errors.Is(d, board.ErrSecret) ||
			d.Severity == board.SeverityWarning && strings.HasSuffix(d.Path, ".endpoint") {
			continue
		}
		fmt.Fprintf(stderr, "%s: converted profile: %v\n", path, d)
	}
	fmt.Fprintf(stderr, "%s: warning: the private key is now inline in the profile and would be baked into the image; write it to a file (mode 0600) and use private_key_file\n", path)
	fmt.Fprintf(stderr, "%s: note: fill in [board] name and match, [uplink] interface and address, and [handoff], then run wgboot check\n", path)
	fmt.Fprintf(stdout, "# Converted from %s by wgboot import.\n# Fill in [board], [uplink] and [handoff]; move private_key to a key file.\n\n", filepath.Base(path))
	if _, err := stdout.Write(out); err != nil {
		fmt.Fprintf(stderr, "wgboot import: write: %v\n", err)
		return ExitFail
	}
	return ExitOK
}

// converter turns wg-quick text into a profile, collecting messages.
type converter struct {
	file     string
	line     int
	warnings []string
	errs     []string

	seen   map[string]int // scalar keys of the current section → line
	sawKey bool           // a PrivateKey line, valid or not
}

func (c *converter) warnf(format string, args ...any) {
	c.warnings = append(c.warnings, fmt.Sprintf("%s:%d: warning: ", c.file, c.line)+fmt.Sprintf(format, args...))
}

func (c *converter) errorf(format string, args ...any) {
	c.errs = append(c.errs, fmt.Sprintf("%s:%d: ", c.file, c.line)+fmt.Sprintf(format, args...))
}

// convert parses a wg-quick file. Section and key names are matched
// without regard to case, as wg(8) does.
func (c *converter) convert(name string, data []byte) *board.Profile {
	p := &board.Profile{
		Handoff: board.Handoff{
			Init:      board.DefaultInit,
			OnFailure: board.DefaultOnFailure,
			Deadline:  board.DefaultDeadline,
		},
		Uplink: board.Uplink{CarrierTimeout: board.DefaultCarrierTimeout},
	}
	t := board.Tunnel{Name: name, MTU: board.DefaultMTU, Table: board.DefaultTable}
	var (
		section  string
		table    = "auto"
		fwmarkOK bool
	)
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	for sc.Scan() {
		c.line++
		raw := sc.Text()
		line := raw
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = line[:i]
		}
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		if strings.HasPrefix(line, "[") {
			switch strings.ToLower(line) {
			case "[interface]":
				section = "interface"
			case "[peer]":
				section = "peer"
				t.Peers = append(t.Peers, board.Peer{})
			default:
				c.errorf("unknown section: want [Interface] or [Peer]")
				section = "?"
			}
			c.seen = make(map[string]int)
			continue
		}
		key, value, ok := strings.Cut(line, "=")
		key = strings.ToLower(strings.TrimSpace(key))
		if !ok || key == "" || strings.Trim(key, "abcdefghijklmnopqrstuvwxyz") != "" {
			// Not echoed: a stray line may be a key pasted on its own.
			c.errorf("want Key = Value")
			continue
		}
		value = strings.TrimSpace(value)
		switch section {
		case "":
			c.errorf("%s is outside of [Interface] and [Peer]", key)
		case "interface":
			c.interfaceKey(&t, key, value, &table, &fwmarkOK)
		case "peer":
			c.peerKey(&t.Peers[len(t.Peers)-1], key, value)
		}
	}
	if err := sc.Err(); err != nil {
		c.errorf("%v", err)
	}
	c.line = 0
	if !c.sawKey {
		c.errs = append(c.errs, c.file+": [Interface] has no PrivateKey")
	}
	c.table(&t, table, fwmarkOK)
	p.Tunnels = []board.Tunnel{t}
	return p
}

// once warns when a scalar key repeats; wg(8) keeps the last value.
func (c *converter) once(key string) {
	if first, dup := c.seen[key]; dup {
		c.warnf("%s was already given on line %d; the last value is used, as wg does", key, first)
	}
	c.seen[key] = c.line
}

func (c *converter) interfaceKey(t *board.Tunnel, key, value string, table *string, fwmarkOK *bool) {
	switch key {
	case "privatekey":
		c.once(key)
		c.sawKey = true
		k, err := wgkey.ParsePrivateKey(value)
		if err != nil {
			c.errorf("PrivateKey: %v", err)
			return
		}
		t.PrivateKey = k
	case "listenport":
		c.once(key)
		if n, ok := c.uint(key, value, math.MaxUint16, false); ok {
			t.ListenPort = uint16(n)
		}
	case "fwmark":
		c.once(key)
		if n, ok := c.uint(key, value, math.MaxUint32, true); ok {
			t.FwMark = uint32(n)
			*fwmarkOK = true
		}
	case "mtu":
		c.once(key)
		if n, ok := c.uint(key, value, math.MaxUint16, false); ok {
			t.MTU = int(n)
		}
	case "address":
		for _, s := range splitList(value) {
			if pfx, ok := c.prefix("Address", s, false); ok {
				t.Address = append(t.Address, pfx)
			}
		}
	case "table":
		c.once(key)
		*table = value
	case "dns":
		c.warnf("DNS = %s dropped: early boot has no resolver configuration", strings.Join(splitList(value), ", "))
	case "preup", "postup", "predown", "postdown":
		// The command is not echoed: hooks sometimes pipe keys around.
		c.warnf("%s dropped: wgboot runs no hook commands; do that work in the real root", canonical(key))
	case "saveconfig":
		c.warnf("SaveConfig dropped: a profile is read-only")
	default:
		c.errorf("unknown [Interface] key %s", canonical(key))
	}
}

func (c *converter) peerKey(p *board.Peer, key, value string) {
	switch key {
	case "publickey":
		c.once(key)
		k, err := wgkey.ParseKey(value)
		if err != nil {
			c.errorf("PublicKey: %v", err)
			return
		}
		p.PublicKey = k
	case "presharedkey":
		c.once(key)
		k, err := wgkey.ParsePresharedKey(value)
		if err != nil {
			c.errorf("PresharedKey: %v", err)
			return
		}
		p.PresharedKey = k
	case "allowedips":
		for _, s := range splitList(value) {
			if pfx, ok := c.prefix("AllowedIPs", s, true); ok {
				p.AllowedIPs = append(p.AllowedIPs, pfx)
			}
		}
	case "endpoint":
		c.once(key)
		ap, err := netip.ParseAddrPort(value)
		if err != nil {
			host, _, _ := strings.Cut(value, ":")
			if _, aerr := netip.ParseAddr(strings.Trim(host, "[]")); aerr != nil && !strings.HasPrefix(value, "[") {
				c.errorf("Endpoint %s: host names cannot be resolved during early boot; use the peer's IP address", value)
			} else {
				c.errorf("Endpoint %s is not host:port or [IPv6]:port", value)
			}
			return
		}
		p.Endpoint = ap
	case "persistentkeepalive":
		c.once(key)
		if n, ok := c.uint(key, value, math.MaxUint16, true); ok {
			p.PersistentKeepalive = uint16(n)
		}
	default:
		c.errorf("unknown [Peer] key %s", canonical(key))
	}
}

// table maps wg-quick's Table to the profile's. With Table = auto (the
// default) and a default route, wg-quick routes through a table and fwmark
// of 51820 with policy rules; the profile says the same explicitly.
func (c *converter) table(t *board.Tunnel, table string, fwmarkSet bool) {
	switch strings.ToLower(table) {
	case "off":
		t.Table = board.TableOff
		return
	case "main":
		t.Table = board.TableMain
		return
	case "auto":
	default:
		n, err := strconv.ParseUint(table, 10, 32)
		if err != nil || n == 0 {
			c.errs = append(c.errs, fmt.Sprintf("%s: Table = %s: a named table cannot be resolved; use its number", c.file, table))
			return
		}
		t.Table = board.Table(n)
		return
	}
	hasDefault := false
	for _, p := range t.Peers {
		for _, a := range p.AllowedIPs {
			if a.Bits() == 0 {
				hasDefault = true
			}
		}
	}
	if !hasDefault {
		t.Table = board.TableMain
		return
	}
	t.Table = defaultPolicyTable
	if !fwmarkSet || t.FwMark == 0 {
		t.FwMark = defaultPolicyTable
	}
	c.warnings = append(c.warnings, fmt.Sprintf("%s: warning: a default route with Table = auto: written as table = %d and fwmark = %d, the policy routing wg-quick sets up", c.file, t.Table, t.FwMark))
}

// uint parses a decimal (or, with hexOff, 0x-hex or "off") number.
func (c *converter) uint(key, value string, limit uint64, hexOff bool) (uint64, bool) {
	if hexOff && strings.EqualFold(value, "off") {
		return 0, true
	}
	base := 10
	digits := value
	if hexOff && (strings.HasPrefix(value, "0x") || strings.HasPrefix(value, "0X")) {
		base, digits = 16, value[2:]
	}
	n, err := strconv.ParseUint(digits, base, 64)
	if err != nil || n > limit {
		c.errorf("%s = %s: want a number from 0 to %d", canonical(key), value, limit)
		return 0, false
	}
	return n, true
}

// prefix parses an address with an optional length. A bare address means
// one host, as for ip(8) and wg(8). For allowed IPs, host bits are
// cleared as wg(8) clears them, with a warning.
func (c *converter) prefix(key, s string, mask bool) (netip.Prefix, bool) {
	var (
		pfx netip.Prefix
		err error
	)
	if strings.Contains(s, "/") {
		pfx, err = netip.ParsePrefix(s)
	} else {
		var a netip.Addr
		a, err = netip.ParseAddr(s)
		if err == nil {
			pfx = netip.PrefixFrom(a, a.BitLen())
		}
	}
	if err != nil {
		c.errorf("%s: %s is not an IP address or prefix", key, s)
		return netip.Prefix{}, false
	}
	if mask && pfx.Masked() != pfx {
		c.warnf("%s: %s has host bits set; written as %s, which is what wg uses", key, pfx, pfx.Masked())
		pfx = pfx.Masked()
	}
	return pfx, true
}

// splitList splits a comma-separated wg-quick value.
func splitList(v string) []string {
	var out []string
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// canonical returns wg-quick's spelling of a lower-cased key.
func canonical(key string) string {
	for _, k := range []string{"PrivateKey", "ListenPort", "FwMark", "MTU", "Address", "Table", "DNS",
		"PreUp", "PostUp", "PreDown", "PostDown", "SaveConfig", "PublicKey", "PresharedKey",
		"AllowedIPs", "Endpoint", "PersistentKeepalive"} {
		if strings.EqualFold(k, key) {
			return k
		}
	}
	return key
}
