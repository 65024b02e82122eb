package board

import (
	"bytes"
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"time"
	"unicode/utf8"
)

// MarshalSecrets encodes p as a TOML profile that [Parse] reads back
// unchanged. Keys with a default are always written; other zero values are
// left out. Key files are written as paths; a private or preshared key
// that was inline in the profile, or that p holds without a key file (as
// `import` of a wg-quick file builds it), is written inline as private_key
// or preshared_key: use it only when the user asked for a profile with
// keys in it.
func MarshalSecrets(p *Profile) ([]byte, error) {
	var e encoder
	e.header("[board]")
	e.str("name", p.Board.Name)
	e.strs("match", p.Board.Match)
	e.strs("modules", p.Board.Modules)
	if p.Board.Watchdog != "" {
		e.str("watchdog", p.Board.Watchdog)
		e.duration("watchdog_timeout", p.Board.WatchdogTimeout)
		e.str("watchdog_handoff", string(p.Board.WatchdogHandoff))
	}

	if p.Persist != (Persist{}) {
		e.header("[persist]")
		e.str("device", p.Persist.Device)
		e.str("fstype", p.Persist.FSType)
		if p.Persist.RandomSeed {
			e.bool("random_seed", true)
		}
		if p.Persist.SaveClock {
			e.bool("save_clock", true)
		}
	}

	if len(p.Clock.NTP) > 0 {
		e.header("[clock]")
		ntp := make([]string, len(p.Clock.NTP))
		for i, s := range p.Clock.NTP {
			ntp[i] = s.String()
		}
		e.strs("ntp", ntp)
	}

	e.header("[uplink]")
	if !p.Uplink.MAC.IsZero() {
		e.str("mac", p.Uplink.MAC.String())
	}
	if p.Uplink.Interface != "" || p.Uplink.MAC.IsZero() {
		e.str("interface", p.Uplink.Interface)
	}
	e.prefixes("address", p.Uplink.Address)
	if len(p.Uplink.Gateway) > 0 {
		e.addrs("gateway", p.Uplink.Gateway)
	}
	e.duration("carrier_timeout", p.Uplink.CarrierTimeout)
	if u := &p.Uplink; u.DHCP {
		e.bool("dhcp", true)
		e.duration("dhcp_timeout", u.DHCPTimeout)
	}
	if u := &p.Uplink; u.AcceptRA {
		e.bool("accept_ra", true)
		e.duration("ra_timeout", u.RATimeout)
	}
	if len(p.Uplink.DNS) > 0 {
		e.addrs("dns", p.Uplink.DNS)
	}
	if p.Uplink.NoDAD {
		e.bool("dad", false)
	}

	for i := range p.Tunnels {
		e.tunnel(&p.Tunnels[i])
	}

	h := &p.Handoff
	e.header("[handoff]")
	if h.Root != "" {
		e.str("root", h.Root)
	}
	if h.FSType != "" {
		e.str("fstype", h.FSType)
	}
	e.str("init", h.Init)
	if h.WaitHandshake != 0 {
		e.duration("wait_handshake", h.WaitHandshake)
	}
	e.str("on_failure", string(h.OnFailure))
	if h.RemoteFallback != DefaultRemoteFallback && h.RemoteFallback != "" {
		e.str("remote_fallback", string(h.RemoteFallback))
	}
	e.duration("deadline", h.Deadline)
	if r := &p.Rescue; r.AuthorizedKeysFile != "" || (r.Timeout != DefaultRescueTimeout && r.Timeout != 0) {
		e.header("[rescue]")
		if r.AuthorizedKeysFile != "" {
			e.str("authorized_keys_file", r.AuthorizedKeysFile)
		}
		e.duration("timeout", r.Timeout)
	}
	if e.err != nil {
		return nil, e.err
	}
	return e.b.Bytes(), nil
}

// encoder writes TOML; the first error sticks and is returned by
// MarshalSecrets.
type encoder struct {
	b   bytes.Buffer
	err error
}

func (e *encoder) tunnel(t *Tunnel) {
	e.header("[[tunnel]]")
	e.str("name", t.Name)
	if t.PrivateKeyFile != "" {
		e.str("private_key_file", t.PrivateKeyFile)
	}
	if t.GenerateKey {
		e.bool("generate_key", true)
	}
	if !t.PrivateKey.IsZero() && (t.inlineKey || t.PrivateKeyFile == "") {
		e.str("private_key", t.PrivateKey.Reveal())
	}
	if t.ListenPort != 0 {
		e.int("listen_port", int64(t.ListenPort))
	}
	if t.FwMark != 0 {
		e.int("fwmark", int64(t.FwMark))
	}
	e.int("mtu", int64(t.MTU))
	e.prefixes("address", t.Address)
	switch t.Table {
	case TableMain:
		e.str("table", "main")
	case TableOff:
		e.str("table", "off")
	default:
		e.int("table", int64(t.Table))
	}
	for i := range t.Peers {
		e.peer(&t.Peers[i])
	}
}

func (e *encoder) peer(p *Peer) {
	e.header("[[tunnel.peer]]")
	if !p.PublicKey.IsZero() {
		e.str("public_key", p.PublicKey.String())
	}
	if p.PresharedKeyFile != "" {
		e.str("preshared_key_file", p.PresharedKeyFile)
	}
	if !p.PresharedKey.IsZero() && (p.inlinePSK || p.PresharedKeyFile == "") {
		e.str("preshared_key", p.PresharedKey.Reveal())
	}
	eps := p.EndpointList()
	if len(eps) > p.fallbacks {
		e.str("endpoint", eps[0].String())
		eps = eps[1:]
	}
	if len(eps) > 0 {
		list := make([]string, len(eps))
		for i, ep := range eps {
			list[i] = ep.String()
		}
		e.strs("fallback_endpoints", list)
	}
	// Written where it matters or was changed: a hub's thousands of
	// peers without fallbacks need no line each. Zero is a profile
	// built in code that left the default.
	timeout := p.EndpointTimeout
	if timeout == 0 {
		timeout = DefaultEndpointTimeout
	}
	if len(eps) > 0 || timeout != DefaultEndpointTimeout {
		e.duration("endpoint_timeout", timeout)
	}
	e.prefixes("allowed_ips", p.AllowedIPs)
	if p.PersistentKeepalive != 0 {
		e.int("persistent_keepalive", int64(p.PersistentKeepalive))
	}
}

func (e *encoder) header(h string) {
	if e.b.Len() > 0 {
		e.b.WriteByte('\n')
	}
	e.b.WriteString(h)
	e.b.WriteByte('\n')
}

func (e *encoder) key(k string) {
	e.b.WriteString(k)
	e.b.WriteString(" = ")
}

func (e *encoder) str(k, v string) {
	e.key(k)
	e.quote(v)
	e.b.WriteByte('\n')
}

func (e *encoder) int(k string, v int64) {
	e.key(k)
	e.b.WriteString(strconv.FormatInt(v, 10))
	e.b.WriteByte('\n')
}

func (e *encoder) bool(k string, v bool) {
	e.key(k)
	e.b.WriteString(strconv.FormatBool(v))
	e.b.WriteByte('\n')
}

func (e *encoder) duration(k string, d time.Duration) {
	e.str(k, formatDuration(d))
}

func (e *encoder) strs(k string, v []string) {
	e.key(k)
	e.b.WriteByte('[')
	for i, s := range v {
		if i > 0 {
			e.b.WriteString(", ")
		}
		e.quote(s)
	}
	e.b.WriteString("]\n")
}

func (e *encoder) prefixes(k string, v []netip.Prefix) {
	s := make([]string, len(v))
	for i, p := range v {
		s[i] = p.String()
	}
	e.strs(k, s)
}

func (e *encoder) addrs(k string, v []netip.Addr) {
	s := make([]string, len(v))
	for i, a := range v {
		s[i] = a.String()
	}
	e.strs(k, s)
}

// quote writes s as a TOML basic string.
func (e *encoder) quote(s string) {
	if !utf8.ValidString(s) {
		if e.err == nil {
			e.err = errors.New("encode profile: string is not valid UTF-8")
		}
		return
	}
	e.b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"':
			e.b.WriteString(`\"`)
		case r == '\\':
			e.b.WriteString(`\\`)
		case r == '\n':
			e.b.WriteString(`\n`)
		case r == '\t':
			e.b.WriteString(`\t`)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&e.b, `\u%04X`, r)
		default:
			e.b.WriteRune(r)
		}
	}
	e.b.WriteByte('"')
}

// formatDuration writes whole seconds as "60s" rather than Go's "1m0s",
// which reads better in a profile; anything finer uses Go's form.
func formatDuration(d time.Duration) string {
	if d%time.Second == 0 {
		return strconv.FormatInt(int64(d/time.Second), 10) + "s"
	}
	return d.String()
}
