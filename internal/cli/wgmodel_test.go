package cli

import (
	"net/netip"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/wgboot/wgboot/internal/wgkey"
)

// wgModel is a model, in Go, of what `wg-quick strip FILE | wg setconf`
// makes of a file, written from wireguard-tools' sources (linux.bash
// parse_options; src/config.c config_read_line, process_line and the
// parse_* functions; the kernel's set_peer) line by line and apart from
// import's converter, so that FuzzImport can hold import to it. It shares
// only the value parsers of wgsyntax.go (strtoul, inet_aton, allowed IPs,
// getaddrinfo's ports), which TestStrtoul and friends pin to measured
// values; TestWGModelReference checks the whole model against wg itself.
//
// It models neither `wg-quick up` (ip(8) refusing an address, a table or
// an MTU) nor the resolver: an endpoint or port that needs a lookup makes
// the result indeterminate.
type modelResult struct {
	ok            bool
	why           string
	indeterminate bool // needs a resolver, /etc/services or a named interface
	// named: an endpoint is a host name, which dev has as "host:port"
	// (wg resolves it; a profile keeps it for the boot to resolve).
	named    bool
	dev      wgDevice // after wg setconf
	upFwMark uint32   // the fwmark after wg-quick up
}

// wgModel runs the model on the file named base (only its name matters).
func wgModel(base string, data []byte) modelResult {
	fail := func(why string) modelResult { return modelResult{why: why} }
	// parse_options: the file name, then each line as `read -r` gives it
	// (NULs dropped, a last line without newline kept).
	if !interfaceNameRE.MatchString(filepath.Base(base)) {
		return fail("wg-quick: the config file must be a valid interface name, followed by .conf")
	}
	lines := strings.Split(strings.ReplaceAll(string(data), "\x00", ""), "\n")
	if lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	var (
		wgConfig []string
		inIface  bool
		table    string
	)
	for _, line := range lines {
		stripped, _, _ := strings.Cut(line, "#")
		key, value, _ := strings.Cut(stripped, "=")
		if !strings.Contains(stripped, "=") {
			value = stripped
		}
		key, value = modelTrim(key), modelTrim(value)
		if strings.HasPrefix(key, "[") {
			inIface = false
		}
		if strings.EqualFold(key, "[Interface]") {
			inIface = true
		}
		if inIface {
			switch strings.ToLower(key) {
			case "address", "mtu", "dns", "preup", "predown", "postup", "postdown":
				continue
			case "table":
				table = value
				continue
			case "saveconfig":
				if !strings.EqualFold(value, "true") && !strings.EqualFold(value, "false") {
					return fail("wg-quick: `" + value + "' is neither true nor false")
				}
				continue
			}
		}
		wgConfig = append(wgConfig, line)
	}

	// wg setconf: config_read_line and process_line.
	type mpeer struct {
		key          wgkey.Key
		hasKey       bool
		psk          string
		hasPSK       bool
		endpoint     string
		keepalive    int
		hasKeepalive bool
		allowed      []netip.Prefix
	}
	var (
		section int // 0 none, 1 interface, 2 peer
		priv    string
		port    int
		fwmark  uint32
		peers   []*mpeer
		indet   bool
		named   bool
	)
	for _, line := range wgConfig {
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = line[:i]
		}
		var b strings.Builder
		for i := 0; i < len(line); i++ {
			if c := line[i]; !(c == ' ' || c >= '\t' && c <= '\r') {
				b.WriteByte(c)
			}
		}
		line = b.String()
		if line == "" {
			continue
		}
		if strings.EqualFold(line, "[Interface]") {
			section = 1
			continue
		}
		if strings.EqualFold(line, "[Peer]") {
			section = 2
			peers = append(peers, &mpeer{})
			continue
		}
		value, key := "", ""
		match := func(k string) bool {
			if len(line) > len(k)+1 && strings.EqualFold(line[:len(k)+1], k+"=") {
				key, value = k, line[len(k)+1:]
				return true
			}
			return false
		}
		switch {
		case section == 1 && (match("ListenPort") || match("FwMark") || match("PrivateKey")):
		case section == 2 && (match("Endpoint") || match("PublicKey") || match("AllowedIPs") || match("PersistentKeepalive") || match("PresharedKey")):
		default:
			return fail("Line unrecognized: `" + line + "'")
		}
		var p *mpeer
		if section == 2 {
			p = peers[len(peers)-1]
		}
		switch key {
		case "ListenPort":
			sp := readService(value)
			switch {
			case sp.numeric:
				port = int(sp.port)
			case value[0] == '-' || !isServiceName(value):
				return fail("ListenPort: not a port")
			default:
				indet = true // a name from /etc/services
			}
		case "FwMark":
			n, ok := wgNumber(value, true, 1<<32-1)
			if !ok {
				return fail("Fwmark is neither 0/off nor 0-0xffffffff")
			}
			fwmark = uint32(n)
		case "PrivateKey":
			k, err := wgkey.ParsePrivateKey(value)
			if err != nil {
				return fail("Key is not the correct length or format")
			}
			priv = k.Reveal()
		case "PublicKey":
			k, err := wgkey.ParseKey(value)
			if err != nil {
				return fail("Key is not the correct length or format")
			}
			p.key, p.hasKey = k, true
		case "PresharedKey":
			k, err := wgkey.ParsePresharedKey(value)
			if err != nil {
				return fail("Key is not the correct length or format")
			}
			p.psk, p.hasPSK = k.Reveal(), true
			if k.IsZero() {
				p.psk = ""
			}
		case "PersistentKeepalive":
			n, ok := wgNumber(value, false, 65535)
			if !ok {
				return fail("Persistent keepalive interval is neither 0/off nor 1-65535")
			}
			p.keepalive, p.hasKeepalive = int(n), true
		case "AllowedIPs":
			// Every [Peer] replaces its allowed IPs; a line adds to them.
			for _, e := range strings.Split(value, ",") {
				pfx, ok := allowedIP(e)
				if !ok {
					return fail("AllowedIP is not in the correct format")
				}
				p.allowed = append(p.allowed, pfx.Masked())
			}
		case "Endpoint":
			ep, ok, in := modelEndpoint(value)
			if !ok {
				return fail("Unable to parse endpoint")
			}
			indet = indet || in
			named = named || in && ep != "" && !isAddrPort(ep)
			p.endpoint = ep
		}
	}
	for _, p := range peers {
		if !p.hasKey {
			return fail("A peer is missing a public key")
		}
	}

	// The kernel: the device's own key first, then each peer in turn.
	dev := wgDevice{PrivateKey: priv, ListenPort: port, FwMark: fwmark, Peers: map[string]wgPeer{}}
	var self wgkey.Key
	if priv != "" {
		k, _ := wgkey.ParsePrivateKey(priv)
		self = k.PublicKey()
	}
	type state struct {
		psk, endpoint string
		keepalive     int
		allowed       []netip.Prefix
	}
	byKey := map[wgkey.Key]*state{}
	owner := map[netip.Prefix]wgkey.Key{}
	for _, p := range peers {
		if priv != "" && p.key == self {
			continue
		}
		s := byKey[p.key]
		if s == nil {
			s = &state{}
			byKey[p.key] = s
		}
		for _, a := range s.allowed {
			delete(owner, a)
		}
		s.allowed = nil
		for _, a := range p.allowed {
			if o, ok := owner[a]; ok && o != p.key {
				byKey[o].allowed = slices.DeleteFunc(byKey[o].allowed, func(q netip.Prefix) bool { return q == a })
			}
			if !slices.Contains(s.allowed, a) {
				s.allowed = append(s.allowed, a)
			}
			owner[a] = p.key
		}
		if p.hasPSK {
			s.psk = p.psk
		}
		if p.endpoint != "" {
			s.endpoint = p.endpoint
		}
		if p.hasKeepalive {
			s.keepalive = p.keepalive
		}
	}
	hasDefault := false
	for k, s := range byKey {
		var ips []string
		for _, a := range s.allowed {
			ips = append(ips, a.String())
			hasDefault = hasDefault || a.Bits() == 0
		}
		slices.Sort(ips)
		dev.Peers[k.String()] = wgPeer{PresharedKey: s.psk, Endpoint: s.endpoint, AllowedIPs: strings.Join(ips, ","), Keepalive: s.keepalive}
	}
	// wg-quick up's add_default sets a fwmark (51820 on a fresh system)
	// when Table is auto, a /0 is routed and the interface has none.
	up := dev.FwMark
	if (table == "" || table == "auto") && hasDefault && up == 0 {
		up = defaultPolicyTable
	}
	return modelResult{ok: true, indeterminate: indet, named: named, dev: dev, upFwMark: up}
}

// modelTrim is wg-quick's ${v##*([[:space:]])} and ${v%%*([[:space:]])}.
func modelTrim(s string) string {
	return strings.TrimFunc(s, func(r rune) bool { return r == ' ' || r >= '\t' && r <= '\r' })
}

// isServiceName reports whether s might be in /etc/services; what glibc
// does with anything else is not modelled.
func isServiceName(s string) bool {
	return isHostName(s) || s != "" && strings.Trim(s, "0123456789") == "" // digits are numeric anyway
}

// modelEndpoint is parse_endpoint and getaddrinfo: the endpoint as wg
// showconf prints it, or indeterminate when it needs a lookup.
func modelEndpoint(v string) (ep string, ok, indeterminate bool) {
	var host, port string
	if strings.HasPrefix(v, "[") {
		end := strings.IndexByte(v, ']')
		if end < 0 || len(v) < end+3 || v[end+1] != ':' {
			return "", false, false
		}
		host, port = v[1:end], v[end+2:]
	} else {
		i := strings.LastIndexByte(v, ':')
		if i < 0 || i == len(v)-1 {
			return "", false, false
		}
		host, port = v[:i], v[i+1:]
	}
	sp := readService(port)
	indet := false
	if !sp.numeric {
		if port[0] == '-' || !isServiceName(port) {
			return "", false, false
		}
		indet = true
	}
	if strings.Contains(host, ":") {
		a, err := netip.ParseAddr(host)
		if err != nil || !a.Is6() {
			return "", false, false
		}
		if a.Zone() != "" {
			return "", true, true // the zone names an interface, which may not exist
		}
		return netip.AddrPortFrom(a, sp.port).String(), true, indet
	}
	if a, ok := inetAton(host); ok {
		return netip.AddrPortFrom(a, sp.port).String(), true, indet
	}
	if isHostName(host) && sp.numeric {
		return host + ":" + strconv.Itoa(int(sp.port)), true, true
	}
	if isHostName(host) {
		return "", true, true
	}
	// glibc asks the resolver for anything else too; it fails, but the
	// error depends on the resolver.
	return "", true, true
}

func isAddrPort(s string) bool {
	_, err := netip.ParseAddrPort(s)
	return err == nil
}
