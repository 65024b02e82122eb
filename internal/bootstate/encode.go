package bootstate

import (
	"strconv"
	"time"
	"unicode/utf8"
)

// Encode renders s as indented JSON: the bytes json.MarshalIndent(s, "",
// "  ") gives, without linking encoding/json (and the reflection-driven
// encoder it brings) into PID 1. Strings are escaped as encoding/json
// escapes them: RFC 8259's quote, backslash and control characters, also
// <, > and &, U+2028 and U+2029, and every byte that is not UTF-8 becomes
// U+FFFD. Encode never fails: a handshake time encoding/json would refuse
// (see Peer) is left out.
func Encode(s *State) []byte {
	e := encoder{buf: make([]byte, 0, 1024)}
	e.begin('{')
	e.str("version", s.Version)
	e.optStr("board", s.Board)
	e.optStr("profile", s.Profile)
	e.optStr("profile_from", s.ProfileFrom)
	if s.Fallback != (Fallback{}) {
		e.key("fallback")
		e.begin('{')
		e.str("profile", s.Fallback.Profile)
		e.str("reason", s.Fallback.Reason)
		e.end('}')
	}
	if s.Persist != (Persist{}) {
		e.key("persist")
		e.begin('{')
		e.str("device", s.Persist.Device)
		e.optStr("path", s.Persist.Path)
		e.str("fstype", s.Persist.FSType)
		e.optStr("error", s.Persist.Error)
		e.end('}')
	}
	if s.Uplink != nil {
		e.key("uplink")
		e.uplink(s.Uplink)
	}
	e.optStrs("dns_servers", s.DNSServers)
	if len(s.Keys) > 0 {
		e.key("keys")
		e.begin('[')
		for _, k := range s.Keys {
			e.elem()
			e.begin('{')
			e.str("tunnel", k.Tunnel)
			e.str("file", k.File)
			e.str("public_key", k.PublicKey)
			e.optTrue("generated", k.Generated)
			e.end('}')
		}
		e.end(']')
	}
	if len(s.Tunnels) > 0 {
		e.key("tunnels")
		e.begin('[')
		for i := range s.Tunnels {
			e.elem()
			e.tunnel(&s.Tunnels[i])
		}
		e.end(']')
	}
	if len(s.Names) > 0 {
		e.key("names")
		e.begin('[')
		for i := range s.Names {
			e.elem()
			e.name(&s.Names[i])
		}
		e.end(']')
	}
	e.key("phases")
	if s.Phases == nil {
		e.buf = append(e.buf, "null"...)
	} else {
		e.begin('[')
		for i := range s.Phases {
			e.elem()
			e.phase(&s.Phases[i])
		}
		e.end(']')
	}
	e.bool("ready", s.Ready)
	e.optStr("failure", s.Failure)
	e.optStr("policy", s.Policy)
	e.rescue(&s.Rescue) // a rescue image's /init only (rescue.go)
	e.int("init_peak_rss_kb", int64(s.PeakRSSKB))
	if s.Watchdog != (Watchdog{}) {
		e.watchdog(&s.Watchdog)
	}
	if s.Clock != (Clock{}) {
		e.clock(&s.Clock)
	}
	if s.RandomSeed != (RandomSeed{}) {
		e.randomSeed(&s.RandomSeed)
	}
	e.int("start_uptime_ns", int64(s.StartUptimeNS))
	e.int("written_uptime_ns", int64(s.WrittenNS))
	e.end('}')
	return e.buf
}

func (e *encoder) uplink(u *Uplink) {
	e.begin('{')
	e.str("interface", u.Interface)
	e.int("ifindex", int64(u.Index))
	e.int("mtu", int64(u.MTU))
	e.optStrs("addresses", u.Addresses)
	e.optStrs("gateways", u.Gateways)
	if u.DHCP != nil {
		e.key("dhcp")
		e.lease(u.DHCP)
	}
	e.optTrue("accept_ra", u.AcceptRA)
	e.end('}')
}

func (e *encoder) lease(l *Lease) {
	e.begin('{')
	e.str("address", l.Address)
	e.optStr("server_id", l.ServerID)
	e.optStr("router", l.Router)
	e.optStrs("routes", l.Routes)
	e.optStrs("dns", l.DNS)
	e.optInt("mtu", int64(l.MTU))
	e.int("lease_time_s", l.LeaseTimeS)
	e.int("renew_s", l.RenewS)
	e.int("rebind_s", l.RebindS)
	e.time("obtained", l.Obtained)
	e.int("obtained_uptime_ns", int64(l.ObtainedUptimeNS))
	e.end('}')
}

func (e *encoder) tunnel(t *Tunnel) {
	e.begin('{')
	e.str("name", t.Name)
	e.int("ifindex", int64(t.Index))
	e.str("public_key", t.PublicKey)
	e.int("listen_port", int64(t.ListenPort))
	e.key("peers")
	if t.Peers == nil {
		e.buf = append(e.buf, "null"...)
	} else {
		e.begin('[')
		for i := range t.Peers {
			e.elem()
			e.peer(&t.Peers[i])
		}
		e.end(']')
	}
	e.end('}')
}

func (e *encoder) peer(p *Peer) {
	e.begin('{')
	e.str("public_key", p.PublicKey)
	e.optStr("endpoint", p.Endpoint)
	e.key("allowed_ips")
	if p.AllowedIPs == nil {
		e.buf = append(e.buf, "null"...)
	} else {
		e.begin('[')
		for _, a := range p.AllowedIPs {
			e.elem()
			e.buf = appendString(e.buf, a)
		}
		e.end(']')
	}
	e.time("last_handshake", p.LastHandshake)
	e.optStr("endpoint_from", p.EndpointFrom)
	e.optStrs("endpoints_tried", p.EndpointsTried)
	e.end('}')
}

func (e *encoder) name(n *Name) {
	e.begin('{')
	e.str("host", n.Host)
	e.optStr("server", n.Server)
	e.optStrs("cnames", n.CNAMEs)
	e.optStrs("addresses", n.Addrs)
	e.optInt("ttl_s", int64(n.TTL))
	e.optStr("error", n.Err)
	e.end('}')
}

// time writes an omitzero time member, left out also when it has no RFC
// 3339 form (see Peer).
func (e *encoder) time(name string, t time.Time) {
	if t.IsZero() || !rfc3339OK(t) {
		return
	}
	e.key(name)
	e.buf = append(e.buf, '"')
	e.buf = t.AppendFormat(e.buf, time.RFC3339Nano)
	e.buf = append(e.buf, '"')
}

func (e *encoder) phase(p *Phase) {
	e.begin('{')
	e.str("name", p.Name)
	e.int("start_ns", int64(p.Start))
	e.int("duration_ns", int64(p.Dur))
	e.optStr("error", p.Err)
	e.end('}')
}

// rfc3339OK reports whether t has an RFC 3339 form, as time.Time's
// MarshalJSON requires: a four-digit year and a zone offset under 24 hours.
func rfc3339OK(t time.Time) bool {
	_, off := t.Zone()
	y := t.Year()
	return y >= 0 && y <= 9999 && off > -86400 && off < 86400
}

// encoder writes indented JSON, two spaces a level.
type encoder struct {
	buf   []byte
	depth int
	empty bool // nothing inside the object or array begun last
}

// indent is a newline and the indentation of 8 levels, deeper than the
// state file nests: newline appends a prefix of it in one go.
const indent = "\n                "

func (e *encoder) newline() {
	if n := 1 + 2*e.depth; n <= len(indent) {
		e.buf = append(e.buf, indent[:n]...)
		return
	}
	e.buf = append(e.buf, '\n')
	for range e.depth {
		e.buf = append(e.buf, "  "...)
	}
}

func (e *encoder) begin(c byte) {
	e.buf = append(e.buf, c)
	e.depth++
	e.empty = true
}

// end closes an object or array: "{}" and "[]" when empty, as
// encoding/json writes them.
func (e *encoder) end(c byte) {
	e.depth--
	if !e.empty {
		e.newline()
	}
	e.buf = append(e.buf, c)
	e.empty = false
}

// elem starts a member or an array element on its own line.
func (e *encoder) elem() {
	if !e.empty {
		e.buf = append(e.buf, ',')
	}
	e.empty = false
	e.newline()
}

// key starts a member; names are ASCII without anything to escape.
func (e *encoder) key(name string) {
	e.elem()
	e.buf = append(e.buf, '"')
	e.buf = append(e.buf, name...)
	e.buf = append(e.buf, `": `...)
}

func (e *encoder) str(name, v string) {
	e.key(name)
	e.buf = appendString(e.buf, v)
}

// strs writes a non-empty array of strings.
func (e *encoder) strs(name string, vs []string) {
	e.key(name)
	e.begin('[')
	for _, v := range vs {
		e.elem()
		e.buf = appendString(e.buf, v)
	}
	e.end(']')
}

func (e *encoder) int(name string, v int64) {
	e.key(name)
	e.buf = strconv.AppendInt(e.buf, v, 10)
}

// The opt* methods write a member unless its value is empty, as
// encoding/json's omitempty: "", an empty array, 0, false.

func (e *encoder) optStr(name, v string) {
	if v != "" {
		e.str(name, v)
	}
}

func (e *encoder) optStrs(name string, vs []string) {
	if len(vs) > 0 {
		e.strs(name, vs)
	}
}

func (e *encoder) optInt(name string, v int64) {
	if v != 0 {
		e.int(name, v)
	}
}

func (e *encoder) optTrue(name string, v bool) {
	if v {
		e.bool(name, true)
	}
}

const hexDigits = "0123456789abcdef"

// appendString appends s as a JSON string (RFC 8259 section 7), escaped
// the way encoding/json escapes by default.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			i++
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			case '<', '>', '&':
				// Not required by RFC 8259; encoding/json escapes them
				// so that JSON is safe inside HTML.
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			default:
				if c < 0x20 {
					b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
				} else {
					b = append(b, c)
				}
			}
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			// Not UTF-8: JSON text must be, so the byte becomes the
			// replacement character.
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			// Valid JSON, but line terminators in JavaScript.
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
		default:
			b = append(b, s[i:i+n]...)
		}
		i += n
	}
	return append(b, '"')
}
