package board

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"net/netip"
	"path"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
	"unicode/utf8"

	"github.com/BurntSushi/toml"

	"github.com/wgboot/wgboot/internal/dnsclient"
	"github.com/wgboot/wgboot/internal/secmem"
	"github.com/wgboot/wgboot/internal/wgkey"
)

// Parse decodes a profile. name is used in positions only. It reports
// syntax errors, wrong types, malformed values and unknown keys, all of
// them, not just the first. The profile is nil only when the TOML syntax
// is broken; otherwise it holds every field that decoded, with defaults for
// the keys left out, so that [Profile.Validate] can report more.
//
// Parse does not read key files and does not run the lint; see [Load].
//
// The profile keeps a copy of data; [Profile.Wipe] zeroes it.
func Parse(name string, data []byte) (*Profile, Diagnostics) {
	return parse(name, data, true)
}

// parse is Parse. Unless fast is false, for tests that compare the two
// paths, it first tries fastParse.
func parse(name string, data []byte, fast bool) (*Profile, Diagnostics) {
	buf := bytes.Clone(data)
	secmem.ClearRegisters() // the copy moved inline keys through them
	return parseOwned(name, buf, fast)
}

// parseOwned is parse of a buffer the package owns from now on: the
// profile's source, or zeroed here when there is no profile.
//
// fastParse reads plain profiles without errors several times faster;
// everything else goes through the toml package, the generic tree and the
// decoder.
func parseOwned(name string, buf []byte, fast bool) (*Profile, Diagnostics) {
	src := &source{name: name, buf: buf, data: view(buf)}
	if fast {
		if p, ok := fastParse(src.data); ok {
			p.src = src
			return p, nil
		}
	}
	text, secrets := redactSecrets(src.data)
	var tree any
	if _, err := toml.Decode(text, &tree); err != nil {
		d := syntaxDiagnostic(name, buf, err)
		clear(buf)
		return nil, Diagnostics{d}
	}
	root, _ := tree.(map[string]any)
	p := newProfile()
	p.src = src
	d := decoder{text: src.data, secrets: secrets}
	d.profile(root, p)
	src.bad = badPaths(d.r.ds)
	if src.bad == nil && len(d.suggested) > 0 {
		src.bad = make(map[string]bool)
	}
	for _, s := range d.suggested {
		if _, ok := src.bad[s]; !ok {
			src.bad[s] = false
		}
	}
	src.locate(d.r.ds)
	return p, d.r.ds
}

// Load reads the profile name from fsys, reads its key files with
// [Profile.ReadKeys] (relative key paths are taken relative to the
// profile's directory, absolute ones relative to the root of fsys) and
// runs [Profile.Validate]. This is what PID 1 does with the chosen profile.
// The profile is nil when the file cannot be read or its syntax is broken.
func Load(fsys fs.FS, name string) (*Profile, Diagnostics) {
	data, err := readProfile(fsys, name)
	if err != nil {
		return nil, Diagnostics{readDiagnostic(name, err)}
	}
	p, ds := parseOwned(name, data, true)
	if p == nil {
		return nil, ds
	}
	dir, err := fs.Sub(fsys, path.Dir(name))
	if err != nil {
		return nil, Diagnostics{readDiagnostic(name, err)}
	}
	ds = append(ds, p.ReadKeys(KeySource{Root: fsys, Dir: dir})...)
	ds = append(ds, p.Validate()...)
	ds.Sort()
	return p, ds
}

// LoadDir parses every *.toml file in dir of fsys, in name order, without
// reading key files or running the lint: a broken profile for another
// board must not stop this board from booting. Files that cannot be read
// or parsed are left out and reported.
func LoadDir(fsys fs.FS, dir string) ([]*Profile, Diagnostics) {
	entries, err := readDir(fsys, dir)
	if err != nil {
		return nil, Diagnostics{readDiagnostic(dir, err)}
	}
	var (
		profiles []*Profile
		ds       Diagnostics
	)
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".toml") {
			continue
		}
		name := path.Join(dir, e.Name())
		data, err := readProfile(fsys, name)
		if err != nil {
			ds = append(ds, readDiagnostic(name, err))
			continue
		}
		p, pds := parseOwned(name, data, true)
		ds = append(ds, pds...)
		if p != nil {
			profiles = append(profiles, p)
		}
	}
	return profiles, ds
}

// readProfile reads a profile file under the rules of key files: only
// regular files, at most maxProfileFile bytes (see readRegular).
func readProfile(fsys fs.FS, name string) ([]byte, error) {
	data, _, err := readRegular(fsys, name, maxProfileFile)
	switch {
	case errors.Is(err, errNotRegular):
		return nil, errors.New("not a regular file")
	case errors.Is(err, errTooLarge):
		return nil, fmt.Errorf("larger than %d MiB: not a profile", maxProfileFile>>20)
	}
	return data, err
}

func readDiagnostic(name string, err error) Diagnostic {
	return Diagnostic{
		Pos:  Position{File: name},
		Kind: ErrRead,
		Msg:  fmt.Sprintf("cannot read: %v", pathErr(err)),
	}
}

// syntaxDiagnostic turns a toml error into a diagnostic at its position.
func syntaxDiagnostic(name string, data []byte, err error) Diagnostic {
	d := Diagnostic{Pos: Position{File: name, Line: 1, Col: 1}, Kind: ErrSyntax}
	var pe toml.ParseError
	if !errors.As(err, &pe) {
		d.Msg = redact(err.Error())
		return d
	}
	if pe.Position.Line > 0 {
		d.Pos.Line = pe.Position.Line
		d.Pos.Col = max(pe.Position.Col, 1)
	}
	d.Msg = pe.Message
	if secretLine(data, pe.Position.Line) {
		d.Msg = "invalid TOML on a line that holds a secret (not shown); quote the key: private_key = \"...\""
	}
	d.Msg = redact(d.Msg)
	return d
}

// secretLine reports whether line n of data assigns an inline secret.
func secretLine(data []byte, n int) bool {
	for i := 1; i < n; i++ {
		j := bytes.IndexByte(data, '\n')
		if j < 0 {
			return false
		}
		data = data[j+1:]
	}
	if j := bytes.IndexByte(data, '\n'); j >= 0 {
		data = data[:j]
	}
	return bytes.Contains(data, []byte("private_key")) && !bytes.Contains(data, []byte("private_key_file")) ||
		bytes.Contains(data, []byte("preshared_key")) && !bytes.Contains(data, []byte("preshared_key_file"))
}

// redact shortens quoted fragments of a toml message: the toml package
// quotes offending tokens, and a token may be a key pasted unquoted.
func redact(msg string) string {
	var b strings.Builder
	for {
		i := strings.IndexAny(msg, `"'`)
		if i < 0 {
			b.WriteString(msg)
			return b.String()
		}
		q := msg[i]
		j := strings.IndexByte(msg[i+1:], q)
		if j < 0 {
			b.WriteString(msg)
			return b.String()
		}
		inner := msg[i+1 : i+1+j]
		b.WriteString(msg[:i+1])
		if len(inner) > 12 {
			k := 4
			for k > 0 && !utf8.RuneStart(inner[k]) {
				k--
			}
			inner = inner[:k] + "…"
		}
		b.WriteString(inner)
		b.WriteByte(q)
		msg = msg[i+2+j:]
	}
}

// badPaths returns the paths of errors found while decoding, for Validate
// to skip: true for the path and everything under it, false for an array
// that holds a bad element (only the array itself is skipped).
func badPaths(ds Diagnostics) map[string]bool {
	if len(ds) == 0 {
		return nil
	}
	bad := make(map[string]bool, len(ds))
	for _, d := range ds {
		if d.Severity != SeverityError {
			continue
		}
		bad[d.Path] = true
		if strings.HasSuffix(d.Path, "]") {
			if parent := parentPath(d.Path); !bad[parent] {
				bad[parent] = false
			}
		}
	}
	return bad
}

// decoder converts the generic tree from the toml package into a Profile.
// It is hand-written rather than reflective so that it can keep going
// after an error, name the exact field path, and stay fast for 10,000
// peers.
type decoder struct {
	r         report
	suggested []string // keys suggested for unknown ones
	// The toml package is given text with inline keys redacted
	// (redactSecrets): secrets says where each key's path finds its key
	// in text, the profile's own.
	text    string
	secrets map[string]secretSpan
}

// The keys of each table, for messages about unknown keys.
const (
	topKeys     = "board persist clock uplink tunnel handoff rescue"
	clockKeys   = "ntp"
	persistKeys = "device fstype random_seed save_clock"
	boardKeys   = "name match modules watchdog watchdog_timeout watchdog_handoff"
	uplinkKeys  = "interface mac address gateway carrier_timeout dhcp dhcp_timeout accept_ra ra_timeout dns dad"
	tunnelKeys  = "name private_key private_key_file generate_key listen_port fwmark mtu address table peer"
	peerKeys    = "public_key preshared_key preshared_key_file endpoint fallback_endpoints endpoint_timeout allowed_ips persistent_keepalive"
	handoffKeys = "root fstype init wait_handshake on_failure remote_fallback deadline"
	rescueKeys  = "authorized_keys_file timeout"
)

func (d *decoder) profile(m map[string]any, p *Profile) {
	root := fieldPath{}
	for k, v := range m {
		at := root.child(k)
		switch k {
		case "board":
			d.board(v, &at, &p.Board)
		case "persist":
			d.persist(v, &at, &p.Persist)
		case "clock":
			d.clock(v, &at, &p.Clock)
		case "uplink":
			d.uplink(v, &at, &p.Uplink)
		case "tunnel":
			ts := d.tables(v, &at, "[[tunnel]]")
			if len(ts) > 0 {
				p.Tunnels = make([]Tunnel, len(ts))
			}
			for i, t := range ts {
				tp := at.elem(i)
				p.Tunnels[i] = newTunnel()
				d.tunnel(t, &tp, &p.Tunnels[i])
			}
		case "handoff":
			d.handoff(v, &at, &p.Handoff)
		case "rescue":
			d.rescue(v, &at, &p.Rescue)
		case "peer":
			d.r.errorf(at.String(), ErrUnknownKey, "unknown key; peers belong to a tunnel: write [[tunnel.peer]]")
		default:
			d.unknown(&at, k, topKeys)
		}
	}
}

func (d *decoder) board(v any, at *fieldPath, b *Board) {
	m, ok := d.table(v, at)
	if !ok {
		return
	}
	for k, v := range m {
		kp := at.child(k)
		d.boardKey(k, v, &kp, b)
	}
}

// boardKey decodes key k of [board]; kp is its path. The fast path calls
// the ...Key methods directly.
func (d *decoder) boardKey(k string, v any, kp *fieldPath, b *Board) {
	switch k {
	case "name":
		b.Name = d.keep(v, kp)
	case "match":
		b.Match = d.strs(v, kp)
	case "modules":
		b.Modules = d.strs(v, kp)
	case "watchdog":
		b.Watchdog = d.keep(v, kp)
	case "watchdog_timeout":
		if t, ok := d.duration(v, kp); ok {
			b.WatchdogTimeout = t
		}
	case "watchdog_handoff":
		if s, ok := d.str(v, kp); ok {
			if w := WatchdogHandoff(s); w.Valid() {
				b.WatchdogHandoff = WatchdogHandoff(strings.Clone(s))
			} else {
				d.r.errorf(kp.String(), ErrInvalid, "%q: want keep (armed for the next stage) or disarm", s)
			}
		}
	default:
		d.unknown(kp, k, boardKeys)
	}
}

func (d *decoder) uplink(v any, at *fieldPath, u *Uplink) {
	m, ok := d.table(v, at)
	if !ok {
		return
	}
	for k, v := range m {
		kp := at.child(k)
		d.uplinkKey(k, v, &kp, u)
	}
}

// uplinkKey decodes key k of [uplink].
func (d *decoder) uplinkKey(k string, v any, kp *fieldPath, u *Uplink) {
	switch k {
	case "interface":
		u.Interface = d.keep(v, kp)
	case "mac":
		if s, ok := d.str(v, kp); ok {
			m, err := ParseMAC(s)
			if err != nil {
				d.r.errorf(kp.String(), ErrInvalid, "%q: %v", s, err)
				break
			}
			u.MAC = m
		}
	case "address":
		u.Address = d.prefixes(v, kp)
	case "gateway":
		u.Gateway = d.addrs(v, kp)
	case "carrier_timeout":
		if t, ok := d.duration(v, kp); ok {
			u.CarrierTimeout = t
		}
	case "dhcp":
		u.DHCP, _ = d.bool(v, kp)
	case "dhcp_timeout":
		if t, ok := d.duration(v, kp); ok {
			u.DHCPTimeout = t
		}
	case "accept_ra":
		u.AcceptRA, _ = d.bool(v, kp)
	case "ra_timeout":
		if t, ok := d.duration(v, kp); ok {
			u.RATimeout = t
		}
	case "dns":
		u.DNS = d.addrs(v, kp)
	case "dad":
		if b, ok := d.bool(v, kp); ok {
			u.NoDAD = !b
		}
	default:
		d.unknown(kp, k, uplinkKeys)
	}
}

func (d *decoder) tunnel(m map[string]any, at *fieldPath, t *Tunnel) {
	for k, v := range m {
		kp := at.child(k)
		d.tunnelKey(k, v, &kp, t)
	}
}

// tunnelKey decodes key k of a [[tunnel]].
func (d *decoder) tunnelKey(k string, v any, kp *fieldPath, t *Tunnel) {
	switch k {
	case "name":
		t.Name = d.keep(v, kp)
	case "private_key":
		t.inlineKey = true
		if s, fresh, ok := d.secret(v, kp); ok {
			key, err := wgkey.ParsePrivateKey(s)
			if fresh {
				wipeString(s)
			}
			if err != nil {
				d.r.errorf(kp.String(), ErrKey, "%v", err)
				break
			}
			t.PrivateKey = key
		}
	case "private_key_file":
		t.PrivateKeyFile = d.keep(v, kp)
	case "generate_key":
		t.GenerateKey, _ = d.bool(v, kp)
	case "listen_port":
		if n, ok := d.int(v, kp, 0, math.MaxUint16); ok {
			t.ListenPort = uint16(n)
		}
	case "fwmark":
		if n, ok := d.int(v, kp, 0, math.MaxUint32); ok {
			t.FwMark = uint32(n)
		}
	case "mtu":
		if n, ok := d.int(v, kp, 0, math.MaxInt32); ok {
			t.MTU = int(n)
		}
	case "address":
		t.Address = d.prefixes(v, kp)
	case "table":
		if tb, ok := d.table32(v, kp); ok {
			t.Table = tb
		}
	case "peer":
		ps := d.tables(v, kp, "[[tunnel.peer]]")
		if len(ps) > 0 {
			t.Peers = make([]Peer, len(ps))
		}
		for i, pm := range ps {
			pp := kp.elem(i)
			t.Peers[i] = newPeer()
			d.peer(pm, &pp, &t.Peers[i])
		}
	default:
		d.unknown(kp, k, tunnelKeys)
	}
}

func (d *decoder) peer(m map[string]any, at *fieldPath, p *Peer) {
	for k, v := range m {
		kp := at.child(k)
		d.peerKey(k, v, &kp, p)
	}
}

// peerKey decodes key k of a [[tunnel.peer]].
func (d *decoder) peerKey(k string, v any, kp *fieldPath, p *Peer) {
	switch k {
	case "public_key":
		if s, ok := d.str(v, kp); ok {
			d.publicKey(s, kp, p)
		}
	case "preshared_key":
		p.inlinePSK = true
		if s, fresh, ok := d.secret(v, kp); ok {
			key, err := wgkey.ParsePresharedKey(s)
			if fresh {
				wipeString(s)
			}
			if err != nil {
				d.r.errorf(kp.String(), ErrKey, "%v", err)
				break
			}
			p.PresharedKey = key
		}
	case "preshared_key_file":
		p.PresharedKeyFile = d.keep(v, kp)
	case "endpoint":
		if s, ok := d.str(v, kp); ok {
			d.peerEndpoint(s, kp, p)
		}
	case "fallback_endpoints":
		a := d.list(v, kp)
		for i, e := range a {
			ep := kp.elem(i)
			if s, ok := d.str(e, &ep); ok {
				if e, ok := d.endpoint(s, &ep); ok {
					p.Endpoints = append(p.Endpoints, e)
					continue
				}
			}
			// A bad element stays in the list, so that later paths
			// keep the file's indexes.
			p.Endpoints = append(p.Endpoints, Endpoint{})
		}
		p.fallbacks = len(a)
	case "endpoint_timeout":
		switch t, ok := d.duration(v, kp); {
		case ok && t == 0:
			d.r.errorf(kp.String(), ErrRange, "0: give how long each endpoint gets to answer, e.g. \"5s\"")
		case ok:
			p.EndpointTimeout = t
		}
	case "allowed_ips":
		p.AllowedIPs = d.prefixes(v, kp)
	case "persistent_keepalive":
		if n, ok := d.int(v, kp, 0, math.MaxUint16); ok {
			p.PersistentKeepalive = uint16(n)
		}
	default:
		d.unknown(kp, k, peerKeys)
	}
}

// publicKey decodes a peer's public_key, given as the string s.
func (d *decoder) publicKey(s string, kp *fieldPath, p *Peer) {
	key, err := wgkey.ParseKey(s)
	if err != nil {
		d.r.errorf(kp.String(), ErrKey, "%v", err)
		return
	}
	p.PublicKey = key
}

// peerEndpoint decodes a peer's endpoint, given as the string s.
func (d *decoder) peerEndpoint(s string, kp *fieldPath, p *Peer) {
	if e, ok := d.endpoint(s, kp); ok {
		// endpoint comes first, whichever key the file has first.
		p.Endpoints = append([]Endpoint{e}, p.Endpoints...)
		p.Endpoint = e.Addr
	}
}

func (d *decoder) clock(v any, at *fieldPath, c *Clock) {
	m, ok := d.table(v, at)
	if !ok {
		return
	}
	for k, v := range m {
		kp := at.child(k)
		d.clockKey(k, v, &kp, c)
	}
}

// clockKey decodes key k of [clock].
func (d *decoder) clockKey(k string, v any, kp *fieldPath, c *Clock) {
	switch k {
	case "ntp":
		a := d.list(v, kp)
		if len(a) == 0 {
			return
		}
		c.NTP = make([]Endpoint, len(a))
		for i, e := range a {
			ep := kp.elem(i)
			if s, ok := d.str(e, &ep); ok {
				c.NTP[i], _ = d.ntpServer(s, &ep)
			}
		}
	default:
		d.unknown(kp, k, clockKeys)
	}
}

// ntpServer parses an NTP server: an IP address or a host name, with a
// port or not (123). A host name follows the endpoints' rules
// (dnsclient.CheckHost): the ntp phase looks it up as the resolve phase
// does theirs.
func (d *decoder) ntpServer(s string, at *fieldPath) (Endpoint, bool) {
	var e Endpoint
	a, err := netip.ParseAddr(s)
	switch {
	case err == nil && a.Zone() != "":
		d.r.errorf(at.String(), ErrInvalid, "%q has a zone; leave it out", s)
		return Endpoint{}, false
	case err == nil:
		e.Addr = netip.AddrPortFrom(a, NTPPort)
	case !strings.Contains(s, ":"):
		if err := dnsclient.CheckHost(s); err != nil {
			d.r.errorf(at.String(), ErrInvalid, "%q: %v", s, err)
			return Endpoint{}, false
		}
		return Endpoint{Host: s, Port: NTPPort}, true
	default:
		var ok bool
		if e, ok = d.endpoint(s, at); !ok {
			return Endpoint{}, false
		}
	}
	if a := e.Addr.Addr(); e.Host == "" && (a.IsUnspecified() || a.IsMulticast()) || e.Port == 0 && e.Addr.Port() == 0 {
		d.r.errorf(at.String(), ErrInvalid, "%q cannot be an NTP server", s)
		return Endpoint{}, false
	}
	return e, true
}

func (d *decoder) persist(v any, at *fieldPath, ps *Persist) {
	m, ok := d.table(v, at)
	if !ok {
		return
	}
	for k, v := range m {
		kp := at.child(k)
		d.persistKey(k, v, &kp, ps)
	}
}

// persistKey decodes key k of [persist].
func (d *decoder) persistKey(k string, v any, kp *fieldPath, ps *Persist) {
	switch k {
	case "device":
		ps.Device = d.keep(v, kp)
	case "fstype":
		ps.FSType = d.keep(v, kp)
	case "random_seed":
		ps.RandomSeed, _ = d.bool(v, kp)
	case "save_clock":
		ps.SaveClock, _ = d.bool(v, kp)
	default:
		d.unknown(kp, k, persistKeys)
	}
}

func (d *decoder) handoff(v any, at *fieldPath, h *Handoff) {
	m, ok := d.table(v, at)
	if !ok {
		return
	}
	for k, v := range m {
		kp := at.child(k)
		d.handoffKey(k, v, &kp, h)
	}
}

// handoffKey decodes key k of [handoff].
func (d *decoder) handoffKey(k string, v any, kp *fieldPath, h *Handoff) {
	switch k {
	case "root":
		h.Root = d.keep(v, kp)
	case "fstype":
		h.FSType = d.keep(v, kp)
	case "init":
		h.Init = d.keep(v, kp)
	case "wait_handshake":
		if t, ok := d.duration(v, kp); ok {
			h.WaitHandshake = t
		}
	case "on_failure", "remote_fallback":
		if s, ok := d.str(v, kp); ok {
			fallback := k == "remote_fallback"
			if want := badAction(OnFailure(s), fallback); want != "" {
				d.r.errorf(kp.String(), ErrInvalid, "unknown action %q: want %s", s, want)
			} else if fallback {
				h.RemoteFallback = OnFailure(strings.Clone(s))
			} else {
				h.OnFailure = OnFailure(strings.Clone(s))
			}
		}
	case "deadline":
		if t, ok := d.duration(v, kp); ok {
			h.Deadline = t
		}
	default:
		d.unknown(kp, k, handoffKeys)
	}
}

// table expects a TOML table.
func (d *decoder) table(v any, at *fieldPath) (map[string]any, bool) {
	m, ok := v.(map[string]any)
	if !ok {
		d.r.errorf(at.String(), ErrType, "want a table, got %s", typeName(v))
	}
	return m, ok
}

// tables expects an array of tables, written [[x]] or x = [{...}], and
// returns them in order. An element that is not a table is reported and
// returned as nil, an empty table, to keep later indexes right.
func (d *decoder) tables(v any, at *fieldPath, header string) []map[string]any {
	switch v := v.(type) {
	case []map[string]any:
		return v
	case []any:
		ms := make([]map[string]any, len(v))
		for i, e := range v {
			m, ok := e.(map[string]any)
			if !ok {
				ep := at.elem(i)
				d.r.errorf(ep.String(), ErrType, "want a table, got %s", typeName(e))
			}
			ms[i] = m
		}
		return ms
	case map[string]any:
		d.r.errorf(at.String(), ErrType, "want an array of tables: write %s, with two brackets", header)
	default:
		d.r.errorf(at.String(), ErrType, "want an array of tables (%s), got %s", header, typeName(v))
	}
	return nil
}

// keep returns a string the profile keeps: a copy, so that wiping the
// profile's text leaves it intact.
func (d *decoder) keep(v any, at *fieldPath) string {
	s, _ := d.str(v, at)
	return strings.Clone(s)
}

// secret returns the text of an inline key: from the profile's own text
// when the toml package was given it redacted. fresh says the text was
// unescaped into a string of its own, for the caller to wipe.
func (d *decoder) secret(v any, at *fieldPath) (s string, fresh, ok bool) {
	s, ok = d.str(v, at)
	if !ok || d.secrets == nil {
		return s, false, ok
	}
	sp, found := d.secrets[at.String()]
	if !found {
		return s, false, ok
	}
	s = d.text[sp.start:sp.end]
	if !sp.escaped {
		return s, false, true
	}
	u, _ := unescape(s) // redactable checked it
	s, _ = u.(string)
	return s, true, true
}

func (d *decoder) str(v any, at *fieldPath) (string, bool) {
	s, ok := v.(string)
	if !ok {
		d.r.errorf(at.String(), ErrType, "want a string, got %s", typeName(v))
	}
	return s, ok
}

// list expects an array and returns its elements.
func (d *decoder) list(v any, at *fieldPath) []any {
	a, ok := v.([]any)
	if !ok {
		if _, isString := v.(string); isString {
			d.r.errorf(at.String(), ErrType, "want an array, e.g. [%q]", v)
		} else {
			d.r.errorf(at.String(), ErrType, "want an array, got %s", typeName(v))
		}
	}
	return a
}

// A bad element of an array stays as the zero value in the slices below,
// so that the indexes in paths reported later still match the file.

func (d *decoder) strs(v any, at *fieldPath) []string {
	a := d.list(v, at)
	if len(a) == 0 {
		return nil
	}
	out := make([]string, len(a))
	for i, e := range a {
		ep := at.elem(i)
		out[i] = d.keep(e, &ep)
	}
	return out
}

func (d *decoder) prefixes(v any, at *fieldPath) []netip.Prefix {
	a := d.list(v, at)
	if len(a) == 0 {
		return nil
	}
	out := make([]netip.Prefix, len(a))
	for i, e := range a {
		ep := at.elem(i)
		s, ok := d.str(e, &ep)
		if !ok {
			continue
		}
		p, err := parsePrefix(s)
		if err != nil {
			if a, aerr := netip.ParseAddr(s); aerr == nil {
				d.r.errorf(ep.String(), ErrInvalid, "%q has no prefix length; write %s/%d for a single address", s, a.WithZone(""), a.BitLen())
			} else {
				d.r.errorf(ep.String(), ErrInvalid, "%q is not an IP prefix such as 10.0.0.2/24", s)
			}
			continue
		}
		out[i] = p
	}
	return out
}

func (d *decoder) addrs(v any, at *fieldPath) []netip.Addr {
	a := d.list(v, at)
	if len(a) == 0 {
		return nil
	}
	out := make([]netip.Addr, len(a))
	for i, e := range a {
		ep := at.elem(i)
		s, ok := d.str(e, &ep)
		if !ok {
			continue
		}
		addr, err := netip.ParseAddr(s)
		if err != nil {
			d.r.errorf(ep.String(), ErrInvalid, "%q is not an IP address", s)
			continue
		}
		if addr.Zone() != "" {
			d.r.errorf(ep.String(), ErrInvalid, "%q has a zone; the uplink interface is implied, leave it out", s)
			continue
		}
		out[i] = addr
	}
	return out
}

// endpoint parses host:port, ip:port or [ipv6]:port: a host name is
// resolved at boot (see package dnsclient for the names it takes).
func (d *decoder) endpoint(s string, at *fieldPath) (Endpoint, bool) {
	ap, err := parseAddrPort(s)
	if err == nil {
		if ap.Addr().Zone() != "" {
			d.r.errorf(at.String(), ErrInvalid, "%q has a zone; leave it out", s)
			return Endpoint{}, false
		}
		return Endpoint{Addr: ap}, true
	}
	i := strings.LastIndexByte(s, ':')
	host, port := s, ""
	if i >= 0 {
		host, port = s[:i], s[i+1:]
	}
	switch {
	case strings.Count(s, ":") > 1 && !strings.HasPrefix(s, "["):
		d.r.errorf(at.String(), ErrInvalid, "%q: write an IPv6 endpoint in brackets, e.g. [fd00::1]:51820", s)
	case i < 0:
		d.r.errorf(at.String(), ErrInvalid, "%q has no port; write host:port, e.g. hub.example.net:51820 or 192.0.2.1:51820", s)
	case strings.HasPrefix(host, "["):
		d.r.errorf(at.String(), ErrInvalid, "%q is not an endpoint such as [2001:db8::1]:51820", s)
	default:
		n, perr := strconv.ParseUint(port, 10, 16)
		if perr != nil || port[0] == '+' {
			d.r.errorf(at.String(), ErrInvalid, "%q: the port %q is not a number from 1 to 65535", s, port)
			return Endpoint{}, false
		}
		if err := dnsclient.CheckHost(host); err != nil {
			d.r.errorf(at.String(), ErrInvalid, "%q: %v", s, err)
			return Endpoint{}, false
		}
		return Endpoint{Host: host, Port: uint16(n)}, true
	}
	return Endpoint{}, false
}

func (d *decoder) int(v any, at *fieldPath, lo, hi int64) (int64, bool) {
	n, ok := v.(int64)
	if !ok {
		d.r.errorf(at.String(), ErrType, "want an integer, got %s", typeName(v))
		return 0, false
	}
	if n < lo || n > hi {
		d.r.errorf(at.String(), ErrRange, "%d is out of range %d–%d", n, lo, hi)
		return 0, false
	}
	return n, true
}

// duration accepts a Go duration string such as "10s" or "1m30s", or 0.
func (d *decoder) duration(v any, at *fieldPath) (time.Duration, bool) {
	switch v := v.(type) {
	case int64:
		if v == 0 {
			return 0, true
		}
		d.r.errorf(at.String(), ErrType, "a duration needs a unit: write \"%ds\"", v)
	case string:
		t, err := time.ParseDuration(v)
		if err != nil {
			d.r.errorf(at.String(), ErrInvalid, "%q is not a duration such as \"10s\", \"1m30s\" or \"500ms\"", v)
			return 0, false
		}
		if t < 0 {
			d.r.errorf(at.String(), ErrRange, "duration %q is negative", v)
			return 0, false
		}
		return t, true
	default:
		d.r.errorf(at.String(), ErrType, "want a duration string such as \"10s\", got %s", typeName(v))
	}
	return 0, false
}

// bool accepts true or false.
func (d *decoder) bool(v any, at *fieldPath) (bool, bool) {
	b, ok := v.(bool)
	if !ok {
		d.r.errorf(at.String(), ErrType, "want true or false, got %s", typeName(v))
	}
	return b, ok
}

// table32 accepts "main", "off" or a table number.
func (d *decoder) table32(v any, at *fieldPath) (Table, bool) {
	switch v := v.(type) {
	case string:
		switch v {
		case "main":
			return TableMain, true
		case "off":
			return TableOff, true
		case "auto":
			d.r.errorf(at.String(), ErrInvalid, `"auto" is wg-quick's; write "main", or a table number with a fwmark for policy routing`)
		default:
			d.r.errorf(at.String(), ErrInvalid, `%q: want "main", "off" or a table number`, v)
		}
	case int64:
		if v == 0 {
			d.r.errorf(at.String(), ErrRange, `table 0 means no table: write "off"`)
			return 0, false
		}
		if v < 0 || v > math.MaxUint32 {
			d.r.errorf(at.String(), ErrRange, "%d is out of range 1–%d", v, uint32(math.MaxUint32))
			return 0, false
		}
		return Table(v), true
	default:
		d.r.errorf(at.String(), ErrType, `want "main", "off" or a table number, got %s`, typeName(v))
	}
	return 0, false
}

// unknown reports a key the schema does not have, with a suggestion. The
// suggested key is then treated as bad, so that Validate does not also
// call it missing.
func (d *decoder) unknown(at *fieldPath, k string, keys string) {
	known := strings.Fields(keys)
	if s := suggest(k, known); s != "" {
		d.r.errorf(at.String(), ErrUnknownKey, "unknown key; did you mean %s?", s)
		sibling := at.parent.child(s)
		d.suggested = append(d.suggested, sibling.String())
		return
	}
	d.r.errorf(at.String(), ErrUnknownKey, "unknown key; want one of %s", strings.Join(known, ", "))
}

// suggest returns the known key closest to k: the same letters ignoring
// case and separators (wg-quick's AllowedIPs for allowed_ips), or at most
// two edits away.
func suggest(k string, known []string) string {
	norm := func(s string) string {
		return strings.NewReplacer("_", "", "-", "").Replace(strings.ToLower(s))
	}
	nk := norm(k)
	for _, c := range known {
		if norm(c) == nk {
			return c
		}
	}
	best, bestDist := "", 3
	for _, c := range known {
		if dist := editDistance(k, c, bestDist); dist < bestDist {
			best, bestDist = c, dist
		}
	}
	return best
}

// editDistance is the Levenshtein distance of a and b, or limit when it is
// at least limit. Keys are short; inputs longer than 64 bytes are not
// compared.
func editDistance(a, b string, limit int) int {
	if len(a) > 64 || len(b) > 64 {
		return limit
	}
	if d := len(a) - len(b); d >= limit || -d >= limit {
		return limit
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return min(prev[len(b)], limit)
}

// typeName names the TOML type of a decoded value, for an error message:
// not inlined into the nine that use it (/init -1.3 KB xz on amd64).
//
//go:noinline
func typeName(v any) string {
	switch v.(type) {
	case string:
		return "a string"
	case int64:
		return "an integer"
	case float64:
		return "a float"
	case bool:
		return "a boolean"
	case time.Time:
		return "a date-time"
	case []any, []map[string]any:
		return "an array"
	case map[string]any:
		return "a table"
	}
	return "an unsupported value"
}

// readDir is fs.ReadDir (the entries sorted by name; the same errors)
// with sort.Slice, whose code /init has anyway, instead of the generic
// slices.SortFunc that fs.ReadDir and os.ReadDir instantiate for
// []fs.DirEntry: /init without that copy is 4.1 KB xz smaller on amd64.
func readDir(fsys fs.FS, dir string) ([]fs.DirEntry, error) {
	if !fs.ValidPath(dir) {
		return nil, &fs.PathError{Op: "readdir", Path: dir, Err: fs.ErrInvalid} // as os.DirFS's ReadDir
	}
	f, err := fsys.Open(dir)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	d, ok := f.(fs.ReadDirFile)
	if !ok {
		return nil, &fs.PathError{Op: "readdir", Path: dir, Err: errors.New("not implemented")}
	}
	entries, err := d.ReadDir(-1)
	if pe, ok := err.(*fs.PathError); ok && len(entries) == 0 && pe.Err == syscall.ENOTDIR {
		// os.ReadDir opens the directory with O_DIRECTORY: a file is
		// refused by the open, with the name as the caller gave it.
		err = &fs.PathError{Op: "open", Path: dir, Err: pe.Err}
	}
	sort.Slice(entries, func(i, j int) bool { return entries[i].Name() < entries[j].Name() })
	return entries, err
}
