package bootstate

import (
	"bytes"
	"encoding/json"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// nasty holds every kind of string the escaper treats differently.
var nasty = []string{
	"",
	"plain ASCII / with ~ and DEL \x7f",
	`quote " backslash \ slash /`,
	"controls \x00\x01\x07\b\t\n\v\f\r\x0e\x1b\x1f end",
	"html <script>&amp;</script>",
	"line\u2028separator and paragraph\u2029separator",
	"UTF-8 é ü ÿ € 𝄞 😀 and a real U+FFFD \ufffd",
	"lone continuation \x80, truncated \xe2\x82, overlong \xc0\xaf, surrogate \xed\xa0\x80, too big \xf4\x90\x80\x80, \xff\xfe",
	"\xff",
	"trailing truncated \xf0\x9f\x98",
}

func cases() map[string]*State {
	t0 := time.Date(2026, 12, 7, 5, 29, 3, 123456789, time.UTC)
	east := time.FixedZone("", 2*3600+30*60)
	full := &State{
		Version: "v1.2-3-gabcdef-dirty", Board: "qemu-arm64", Profile: "/etc/wgboot/profiles/qemu-arm64.toml",
		ProfileFrom: "image", Fallback: Fallback{Profile: "persist/wgboot/profiles/a.toml", Reason: "tunnels: tunnel wg0: EEXIST"},
		Persist: Persist{Device: "LABEL=wgboot", Path: "/dev/vda1", FSType: "ext4"},
		Keys: []Key{{Tunnel: "wg0", File: "/persist/wg0.key", PublicKey: "ww8qAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", Generated: true},
			{Tunnel: "wg1", File: "keys/wg1.key", PublicKey: "b"}},
		Ready: false, Failure: "handshake: no handshake with every peer within 3s", Policy: "shell",
		PeakRSSKB: 3484, StartUptimeNS: 1_234_567_890, WrittenNS: 1_734_567_890,
		Phases: []Phase{
			{Name: "mounts", Start: 0, Dur: 11 * time.Millisecond},
			{Name: "handshake", Start: 400 * time.Millisecond, Dur: 3 * time.Second, Err: "no handshake"},
		},
		Tunnels: []Tunnel{
			{Name: "wg0", Index: 3, PublicKey: "ww8qAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", ListenPort: 51820, Peers: []Peer{
				{PublicKey: "xkSiuuwzFSr9eB4uyyHVhGU4hlPxfL8VN1fLD/W8J2c=", Endpoint: "192.168.50.1:51820",
					AllowedIPs: []string{"10.77.0.0/24", "fd77::/64"}, LastHandshake: t0},
				{PublicKey: "b", Endpoint: "[2001:db8::1]:51820", AllowedIPs: []string{}, LastHandshake: t0.In(east),
					EndpointFrom: "hub2.example.net:51820", EndpointsTried: []string{"192.0.2.1:51820", "[2001:db8::1]:51820"}},
				{PublicKey: "c", LastHandshake: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)},
			}},
			{Name: "wg1", Index: math.MaxInt32, Peers: []Peer{}},
			{Name: "wg2", Index: math.MinInt32, ListenPort: -1},
		},
		Names: []Name{
			{Host: "hub.example.net", Server: "192.0.2.53:53", CNAMEs: []string{"edge.example."}, Addrs: []string{"192.0.2.1", "2001:db8::1"}, TTL: 300},
			{Host: "hub2.example.net", Err: "no such host (NXDOMAIN)"},
			{Host: "empty.example", Addrs: []string{}, CNAMEs: []string{}, TTL: -1},
		},
		Uplink: &Uplink{Interface: "eth0", Index: 2, MTU: 1400, AcceptRA: true,
			Addresses: []string{"192.0.2.14/24", "2001:db8::5054:ff:fe12:3456/64", "fe80::5054:ff:fe12:3456/64"},
			Gateways:  []string{"192.0.2.1", "fe80::1"},
			DHCP: &Lease{Address: "192.0.2.14/24", ServerID: "192.0.2.1", Router: "192.0.2.1",
				Routes: []string{"10.0.0.0/8 via 192.0.2.254", "198.51.100.0/24 on-link"}, DNS: []string{"192.0.2.53"},
				MTU: 1400, LeaseTimeS: 3600, RenewS: 1800, RebindS: 3150, Obtained: t0.In(east), ObtainedUptimeNS: 1_300_000_000},
		},
		DNSServers: []string{"192.0.2.53", "2001:db8::53"},
	}
	c := map[string]*State{
		"zero":          {},
		"persist error": {Persist: Persist{Device: "LABEL=wgboot", FSType: "vfat", Error: "no such device"}},
		"no phases":     {Version: "v", Phases: []Phase{}, Tunnels: []Tunnel{}},
		"full":          full,
		"extreme ints": {PeakRSSKB: math.MinInt, StartUptimeNS: math.MinInt64, WrittenNS: math.MaxInt64, Phases: []Phase{{Start: -1, Dur: math.MaxInt64}},
			Uplink: &Uplink{Index: math.MinInt32, MTU: -1, DHCP: &Lease{LeaseTimeS: math.MaxInt64, RenewS: math.MinInt64, ObtainedUptimeNS: math.MinInt64}}},
		"empty uplink":   {Uplink: &Uplink{}, DNSServers: []string{}},
		"infinite lease": {Uplink: &Uplink{Interface: "eth0", DHCP: &Lease{Address: "192.0.2.14/24", LeaseTimeS: 4294967295, RenewS: 4294967295, RebindS: 4294967295}}},
		"duties, some fields": {Version: "v",
			Watchdog:   Watchdog{Device: "/dev/watchdog0", Handoff: "disarmed"},
			Clock:      Clock{Source: "saved", Saved: t0.In(east), StepNS: math.MinInt64},
			RandomSeed: RandomSeed{Error: "read-only file system"},
		},
		"duties, zero bits": {RandomSeed: RandomSeed{Renewed: true}, Clock: Clock{Source: "ntp", NTPServer: "[2001:db8::1]:123", NTPHost: "pool.ntp.org"}},
	}
	for i, s := range nasty {
		st := &State{Version: s, Board: s, Profile: s, Failure: s, Policy: s, ProfileFrom: s,
			Fallback: Fallback{Profile: s, Reason: s}, Persist: Persist{Device: s, Path: s, FSType: s, Error: s},
			Uplink: &Uplink{Interface: s, Addresses: []string{s}, Gateways: []string{s, s},
				DHCP: &Lease{Address: s, ServerID: s, Router: s, Routes: []string{s}, DNS: []string{s}}},
			DNSServers: []string{s},
			Watchdog:   Watchdog{Device: s, Identity: s, Handoff: s, Error: s},
			Clock:      Clock{Source: s, NTPServer: s, NTPHost: s, Error: s},
			RandomSeed: RandomSeed{Error: s},
			Keys:       []Key{{Tunnel: s, File: s, PublicKey: s}},
			Phases:     []Phase{{Name: s, Err: s}},
			Tunnels: []Tunnel{{Name: s, PublicKey: s, Peers: []Peer{{PublicKey: s, Endpoint: s, AllowedIPs: []string{s, s},
				EndpointFrom: s, EndpointsTried: []string{s}}}}},
			Names: []Name{{Host: s, Server: s, CNAMEs: []string{s}, Addrs: []string{s, s}, Err: s}},
		}
		c["strings "+string(rune('a'+i))] = st
	}
	return c
}

func marshalIndent(t *testing.T, s *State) []byte {
	t.Helper()
	if !rescueTag {
		// Only a rescue image's /init writes the rescue member.
		c := *s
		c.Rescue = Rescue{}
		s = &c
	}
	want, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		t.Fatalf("encoding/json: %v", err)
	}
	return want
}

// TestEncodeMatchesEncodingJSON: the state file is byte for byte what
// encoding/json wrote before Encode existed.
func TestEncodeMatchesEncodingJSON(t *testing.T) {
	for name, s := range cases() {
		t.Run(name, func(t *testing.T) {
			got, want := Encode(s), marshalIndent(t, s)
			if !bytes.Equal(got, want) {
				t.Errorf("Encode differs from json.MarshalIndent\ngot:\n%s\nwant:\n%s", got, want)
			}
		})
	}
}

// TestEncodeEveryField fills every field of every type with a non-zero
// value by reflection, so that a field added to the types but not to
// Encode fails here.
func TestEncodeEveryField(t *testing.T) {
	var s State
	fill(reflect.ValueOf(&s).Elem())
	if got, want := Encode(&s), marshalIndent(t, &s); !bytes.Equal(got, want) {
		t.Errorf("Encode differs from json.MarshalIndent\ngot:\n%s\nwant:\n%s", got, want)
	}
}

func fill(v reflect.Value) {
	switch v.Kind() {
	case reflect.String:
		v.SetString("s")
	case reflect.Int, reflect.Int32, reflect.Int64:
		v.SetInt(7)
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Pointer:
		v.Set(reflect.New(v.Type().Elem()))
		fill(v.Elem())
	case reflect.Slice:
		v.Set(reflect.MakeSlice(v.Type(), 2, 2))
		for i := range v.Len() {
			fill(v.Index(i))
		}
	case reflect.Struct:
		if v.Type() == reflect.TypeFor[time.Time]() {
			v.Set(reflect.ValueOf(time.Date(2026, 12, 7, 1, 2, 3, 4, time.UTC)))
			return
		}
		for i := range v.NumField() {
			fill(v.Field(i))
		}
	default:
		panic("fill: add a case for " + v.Type().String())
	}
}

// TestEncodeRoundTrip: what Encode writes, encoding/json reads back as the
// same state, with strings that were not UTF-8 repaired byte by byte.
func TestEncodeRoundTrip(t *testing.T) {
	for name, s := range cases() {
		t.Run(name, func(t *testing.T) {
			data := Encode(s)
			var got State
			if err := json.Unmarshal(data, &got); err != nil {
				t.Fatalf("does not decode: %v\n%s", err, data)
			}
			want := normalize(s)
			got = normalize(&got)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("round trip\ngot:  %+v\nwant: %+v", got, want)
			}
		})
	}
}

// normalize is s as JSON can carry it: strings valid UTF-8, times in UTC,
// an empty tunnel list absent.
func normalize(s *State) State {
	n := *s
	n.Version, n.Board, n.Profile, n.Failure, n.Policy = repair(s.Version), repair(s.Board), repair(s.Profile), repair(s.Failure), repair(s.Policy)
	w := &n.Watchdog
	w.Device, w.Identity, w.Handoff, w.Error = repair(w.Device), repair(w.Identity), repair(w.Handoff), repair(w.Error)
	c := &n.Clock
	c.Source, c.NTPServer, c.NTPHost, c.Error = repair(c.Source), repair(c.NTPServer), repair(c.NTPHost), repair(c.Error)
	c.Saved, c.SavedNow = c.Saved.UTC(), c.SavedNow.UTC()
	n.RandomSeed.Error = repair(n.RandomSeed.Error)
	n.ProfileFrom = repair(s.ProfileFrom)
	n.Fallback = Fallback{repair(s.Fallback.Profile), repair(s.Fallback.Reason)}
	n.Persist = Persist{repair(s.Persist.Device), repair(s.Persist.Path), repair(s.Persist.FSType), repair(s.Persist.Error)}
	if s.Keys != nil {
		n.Keys = make([]Key, len(s.Keys))
		for i, k := range s.Keys {
			n.Keys[i] = Key{repair(k.Tunnel), repair(k.File), repair(k.PublicKey), k.Generated}
		}
	}
	n.DNSServers = repairAll(s.DNSServers)
	if s.Uplink != nil {
		u := *s.Uplink
		u.Interface, u.Addresses, u.Gateways = repair(u.Interface), repairAll(u.Addresses), repairAll(u.Gateways)
		if u.DHCP != nil {
			l := *u.DHCP
			l.Address, l.ServerID, l.Router = repair(l.Address), repair(l.ServerID), repair(l.Router)
			l.Routes, l.DNS = repairAll(l.Routes), repairAll(l.DNS)
			l.Obtained = l.Obtained.UTC()
			if !rfc3339OK(l.Obtained) {
				l.Obtained = time.Time{}
			}
			u.DHCP = &l
		}
		n.Uplink = &u
	}
	if len(s.Tunnels) == 0 {
		n.Tunnels = nil
	} else {
		n.Tunnels = make([]Tunnel, len(s.Tunnels))
	}
	for i, tu := range s.Tunnels {
		tu.Name, tu.PublicKey = repair(tu.Name), repair(tu.PublicKey)
		if tu.Peers != nil {
			ps := make([]Peer, len(tu.Peers))
			for j, p := range tu.Peers {
				p.PublicKey, p.Endpoint, p.EndpointFrom = repair(p.PublicKey), repair(p.Endpoint), repair(p.EndpointFrom)
				p.EndpointsTried = repairAll(p.EndpointsTried)
				if p.AllowedIPs != nil {
					ips := make([]string, len(p.AllowedIPs))
					for k, a := range p.AllowedIPs {
						ips[k] = repair(a)
					}
					p.AllowedIPs = ips
				}
				p.LastHandshake = p.LastHandshake.UTC()
				ps[j] = p
			}
			tu.Peers = ps
		}
		n.Tunnels[i] = tu
	}
	if len(s.Names) == 0 {
		n.Names = nil
	} else {
		n.Names = make([]Name, len(s.Names))
	}
	for i, nm := range s.Names {
		nm.Host, nm.Server, nm.Err = repair(nm.Host), repair(nm.Server), repair(nm.Err)
		nm.CNAMEs, nm.Addrs = repairAll(nm.CNAMEs), repairAll(nm.Addrs)
		n.Names[i] = nm
	}
	if s.Phases != nil {
		n.Phases = make([]Phase, len(s.Phases))
		for i, p := range s.Phases {
			p.Name, p.Err = repair(p.Name), repair(p.Err)
			n.Phases[i] = p
		}
	}
	return n
}

// repairAll is repair for an omitempty list: empty is absent.
func repairAll(ss []string) []string {
	if len(ss) == 0 {
		return nil
	}
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = repair(s)
	}
	return out
}

// repair replaces every byte that is not part of a UTF-8 sequence with
// U+FFFD, as a JSON encoder must (and encoding/json does).
func repair(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 {
			b.WriteRune(utf8.RuneError)
		} else {
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	return b.String()
}

// TestEncodeUnwritableHandshake: a handshake or lease time encoding/json
// refuses is left out, and the rest of the state is still written.
func TestEncodeUnwritableHandshake(t *testing.T) {
	for _, at := range []time.Time{
		time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(2026, 1, 1, 0, 0, 0, 0, time.FixedZone("", 24*3600)),
	} {
		s := &State{Version: "v", Tunnels: []Tunnel{{Name: "wg0", Peers: []Peer{{PublicKey: "k", LastHandshake: at}}}},
			Uplink: &Uplink{DHCP: &Lease{Obtained: at}}}
		if _, err := json.Marshal(s); err == nil {
			t.Fatalf("%v: encoding/json accepts it; the test is wrong", at)
		}
		got := Encode(s)
		s.Tunnels[0].Peers[0].LastHandshake = time.Time{}
		s.Uplink.DHCP.Obtained = time.Time{}
		if want := marshalIndent(t, s); !bytes.Equal(got, want) {
			t.Errorf("%v:\ngot:\n%s\nwant:\n%s", at, got, want)
		}
	}
}

// FuzzEncode compares Encode with encoding/json for arbitrary strings,
// numbers and handshake times: the same bytes, and a decoding that gives
// back every string, repaired where it was not UTF-8.
func FuzzEncode(f *testing.F) {
	for _, s := range nasty {
		f.Add(s, int64(1), int64(1_700_000_000), int64(5), 0)
	}
	f.Add("", int64(math.MaxInt64), int64(math.MinInt64), int64(-1), 86399)
	f.Add("x", int64(math.MinInt64), int64(253402300800), int64(0), -3600)
	f.Fuzz(func(t *testing.T, s string, n, sec, nsec int64, off int) {
		hs := time.Unix(sec, nsec).In(time.FixedZone("", off%(26*3600)))
		st := &State{Version: s, Board: s, Profile: s, Failure: s, Policy: s, ProfileFrom: s,
			Fallback: Fallback{Profile: s, Reason: s}, Persist: Persist{Device: s, Path: s, FSType: s, Error: s},
			Keys:      []Key{{Tunnel: s, File: s, PublicKey: s}},
			PeakRSSKB: int(n), StartUptimeNS: time.Duration(n), WrittenNS: time.Duration(-n),
			Uplink: &Uplink{Interface: s, Index: int32(n), MTU: int(n), Addresses: []string{s}, Gateways: []string{s, s},
				DHCP: &Lease{Address: s, ServerID: s, Router: s, Routes: []string{s}, DNS: []string{s}, LeaseTimeS: n, ObtainedUptimeNS: time.Duration(n)}},
			DNSServers: []string{s},
			Watchdog:   Watchdog{Device: s, Identity: s, Handoff: s, Error: s},
			Clock:      Clock{Source: s, NTPServer: s, NTPHost: s, Error: s},
			RandomSeed: RandomSeed{Error: s},
			Phases:     []Phase{{Name: s, Start: time.Duration(n), Dur: time.Duration(n / 3), Err: s}},
			Tunnels: []Tunnel{{Name: s, Index: int32(n), PublicKey: s, ListenPort: int(n),
				Peers: []Peer{{PublicKey: s, Endpoint: s, AllowedIPs: []string{s}, LastHandshake: hs,
					EndpointFrom: s, EndpointsTried: []string{s}}}}},
			Names: []Name{{Host: s, Server: s, CNAMEs: []string{s}, Addrs: []string{s}, TTL: int(n), Err: s}},
		}
		st.Uplink.DHCP.Obtained = hs
		got := Encode(st)
		if !json.Valid(got) {
			t.Fatalf("not valid JSON:\n%s", got)
		}
		want, err := json.MarshalIndent(st, "", "  ")
		if err != nil {
			// encoding/json refuses the time; Encode leaves it out.
			st.Tunnels[0].Peers[0].LastHandshake = time.Time{}
			st.Uplink.DHCP.Obtained = time.Time{}
			if want, err = json.MarshalIndent(st, "", "  "); err != nil {
				t.Fatal(err)
			}
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("Encode differs from json.MarshalIndent\ngot:\n%s\nwant:\n%s", got, want)
		}
		var d State
		if err := json.Unmarshal(got, &d); err != nil {
			t.Fatal(err)
		}
		p := d.Tunnels[0].Peers[0]
		r := repair(s)
		u := d.Uplink
		nm := d.Names[0]
		for _, v := range []string{d.Version, d.Phases[0].Name, d.Phases[0].Err, d.Tunnels[0].Name, p.PublicKey, p.AllowedIPs[0],
			u.Interface, u.Addresses[0], u.Gateways[1], u.DHCP.Address, u.DHCP.Routes[0], u.DHCP.DNS[0], d.DNSServers[0],
			p.EndpointsTried[0], nm.Host, nm.CNAMEs[0], nm.Addrs[0]} {
			if v != r {
				t.Fatalf("decoded %q, want %q (from %q)", v, r, s)
			}
		}
		if s != "" && (d.Board != r || d.Profile != r || d.Failure != r || d.Policy != r || p.Endpoint != r ||
			p.EndpointFrom != r || nm.Server != r || nm.Err != r) {
			t.Fatalf("an omitempty field decoded differently: %+v", d)
		}
		if d.StartUptimeNS != time.Duration(n) || d.Tunnels[0].Index != int32(n) {
			t.Fatalf("numbers: %+v", d)
		}
	})
}

// TestNoSecretFields: the state file has no field a key could go in.
func TestNoSecretFields(t *testing.T) {
	var s State
	fill(reflect.ValueOf(&s).Elem())
	data := Encode(&s)
	for _, bad := range []string{"private", "preshared", "secret"} {
		if bytes.Contains(bytes.ToLower(data), []byte(bad)) {
			t.Errorf("state file has a %q field:\n%s", bad, data)
		}
	}
}

// TestEncodeRescue: a rescue image's /init (the rescue tag) writes the
// rescue member when it has one, and the default /init never does (it
// has no code for it). Host tools read it with encoding/json either way.
func TestEncodeRescue(t *testing.T) {
	s := &State{Phases: []Phase{}, Rescue: Rescue{Listen: []string{"10.77.0.2:22"}, HostKey: "SHA256:x", Retries: 2, Error: "e"}}
	got := Encode(s)
	var d State
	if err := json.Unmarshal(got, &d); err != nil {
		t.Fatalf("%v\n%s", err, got)
	}
	want := Rescue{}
	if rescueTag {
		want = s.Rescue
	}
	if !reflect.DeepEqual(d.Rescue, want) {
		t.Errorf("rescue tag %v: the rescue member reads back as %+v, want %+v\n%s", rescueTag, d.Rescue, want, got)
	}
	if got := Encode(&State{Phases: []Phase{}}); bytes.Contains(got, []byte(`"rescue"`)) {
		t.Errorf("an empty rescue member is written:\n%s", got)
	}
}

// BenchmarkEncode10k writes the state of a 10,000-peer hub, the largest
// state file a boot writes (once, at its end).
func BenchmarkEncode10k(b *testing.B) {
	t0 := time.Date(2026, 12, 7, 5, 29, 3, 123456789, time.UTC)
	peers := make([]Peer, 10000)
	for i := range peers {
		peers[i] = Peer{PublicKey: "xkSiuuwzFSr9eB4uyyHVhGU4hlPxfL8VN1fLD/W8J2c=", Endpoint: "192.168.50.1:51820",
			AllowedIPs: []string{"10.77.0.0/24", "fd77::/64"}, LastHandshake: t0}
	}
	s := &State{Version: "v1", Board: "hub", Phases: []Phase{{Name: "mounts", Dur: time.Millisecond}},
		Tunnels: []Tunnel{{Name: "wg0", Index: 3, PublicKey: "ww8qAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", ListenPort: 51820, Peers: peers}}}
	b.ReportAllocs()
	for b.Loop() {
		Encode(s)
	}
}

// TestNewlineDeep: nesting deeper than the indent constant still indents
// two spaces a level.
func TestNewlineDeep(t *testing.T) {
	for depth := range 12 {
		e := encoder{depth: depth}
		e.newline()
		if want := "\n" + strings.Repeat("  ", depth); string(e.buf) != want {
			t.Errorf("depth %d: %q, want %q", depth, e.buf, want)
		}
	}
}
