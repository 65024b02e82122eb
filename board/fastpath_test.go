package board

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"

	"github.com/BurntSushi/toml"
)

// profileFiles returns every profile in testdata and profiles.
func profileFiles(tb testing.TB) map[string][]byte {
	tb.Helper()
	out := make(map[string][]byte)
	for _, pattern := range []string{"testdata/valid/*.toml", "testdata/invalid/*.toml", "profiles/*.toml"} {
		files, _ := filepath.Glob(pattern)
		for _, file := range files {
			data, err := os.ReadFile(file)
			if err != nil {
				tb.Fatal(err)
			}
			out[file] = data
		}
	}
	if len(out) < 20 {
		tb.Fatalf("found only %d profiles", len(out))
	}
	return out
}

// fastPathValues are values at the edges of the subset, some inside, most
// outside it or invalid TOML, for a string, an array and an integer key.
var fastPathValues = []string{
	`"x"`, `'x'`, `""`, `''`, `7`, `-0`, `+0`, `+7`, `-9223372036854775808`, `9223372036854775808`,
	`007`, `-01`, `1_000`, `0x1f`, `1.5`, `1e3`, `inf`, `nan`, `true`, `false`, `1979-05-27`, `07:32:00`,
	`"\b\t\n\f\r\"\\ \u00e9 \U0001F600 é"`, `"\e"`, `"\x41"`, `"\uD800"`, `"\u12"`, `"\u12g4"`, `"\U00110000"`,
	`"\ "`, `"x\"`, `"x\`, "\"tab\tin\"", "\"nul\x00\"", "\"del\x7f\"", "\"bad\xff\"", "'lit\\n'",
	`"""x"""`, `'''x'''`, "\"\"\"\nx\"\"\"", `"x`, `'x`, "\"x\ny\"",
	`[]`, `[ ]`, `["a",]`, `[,]`, `["a",,"b"]`, `["a" "b"]`, `["a", 7]`, `[["a"]]`, `[{}]`, `{}`, `[`,
	"[\n  \"x\", # c\n  'y',\r\n  # c\n  \"z\"\n]", "[\"a\" # c\r]", "[\"a\"\r]", "[\"a\" # c\x01\n]",
	`"x" # c`, "\"x\" # c\x01", "\"x\" # é", "\"x\" #\x7f", `"x" y`, ``,
}

// fastPathDocs are documents at the edges of the subset.
var fastPathDocs = []string{
	"",
	"\n\r\n# c\n",
	"# bad\xff\n",
	"\xef\xbb\xbf[board]\n",
	"a = 1\n",
	"[board]\r\nname = 'x'\r\n",
	"[board]\rname = 'x'\n",
	"[board]\nname = 'x'\r",
	"[board]\nname = 'x'\nname = 'y'\n",
	"[board]\nname = 'x'\nmodules = []\n[board]\n",
	"[board]\nname.x = 'x'\n",
	"[board]\n\"name\" = 'x'\n",
	"[board]\nname='x'\n",
	"[board]\n\tname\t=\t'x'\t\n",
	"[board]\nname = \n",
	"[board]\nname 'x'\n",
	"[board]\n= 'x'\n",
	"[board] name = 'x'\n",
	"[board] # c\n",
	"[ board ]\n",
	"[[board]]\n",
	"[board.x]\n",
	"[board]]\n",
	"[board\n",
	"[]\n",
	"[uplink]\n[handoff]\n[board]\n",
	"[tunnel]\n",
	"[[tunnel]]\n[tunnel]\n",
	"[[tunnel.peer]]\n",
	"[[tunnel]]\n[[ tunnel . peer ]]\n[[tunnel.peer]]\n[[tunnel]]\n[[tunnel.peer]]\n",
	"[[tunnel]]\n[[tunnel.peer] ]\n",
	"[[tunnel]]\n[ [tunnel.peer]]\n",
	"[[tunnel]]\n[[tunnel.peer.x]]\n",
	"[[tunnel]]\n[tunnel.peer]\n",
	"[[tunnel]]\npeer = []\n",
	"[[tunnel]]\npeer = []\n[[tunnel.peer]]\n",
	"[[tunnel]]\n[[tunnel.peer]]\npeer = 1\n",
	"[[tunnel]]\nname = 'wg0'\n[[tunnel.peer]]\nname = 'x'\n",
	"[[tunnel]]\nmtu = 1420\nlisten_port = 0\nfwmark = 4294967295\ntable = 51820\n",
	"[[tunnel]]\nmtu = -1\n",
	"[[tunnel]]\ntable = 0\n",
	"[[tunnel]]\n[[tunnel.peer]]\nallowed_ips = ['10.0.0.0/8', \"fd00::/8\"]\npersistent_keepalive = 25\nendpoint = '192.0.2.1:1'\n",
	"[[tunnel]]\n[[tunnel.peer]]\nallowed_ips = ['10.0.0.1']\n",
	"[[tunnel]]\n[[tunnel.peer]]\nendpoint = 'host:1'\n",
	"[handoff]\ndeadline = '10s'\nwait_handshake = 0\non_failure = 'halt'\n",
	"[handoff]\ndeadline = 10\n",
	"[handoff]\non_failure = 'explode'\n",
	"[uplink]\ninterface = 'eth0'\naddress = ['192.0.2.2/24']\ngateway = ['192.0.2.1']\ncarrier_timeout = '1s'\n",
	"[uplink]\ngateway = ['fe80::1%eth0']\n",
	"[persist]\ndevice = 'LABEL=wgboot'\nfstype = \"ext4\"\n[board]\n",
	"[persist]\n[persist]\n",
	"[persist]\ndevice = 1\n",
	"[[tunnel]]\ngenerate_key = true\n",
	"[[tunnel]]\ngenerate_key = false # c\n",
	"[[tunnel]]\ngenerate_key=true\nname = 'x'\n",
	"[[tunnel]]\ngenerate_key = truex\n",
	"[[tunnel]]\ngenerate_key = tru\n",
	"[[tunnel]]\ngenerate_key = True\n",
	"[[tunnel]]\ngenerate_key = 'true'\n",
	"[[tunnel]]\ngenerate_key = [true]\n",
	"[[tunnel]]\nmtu = true\n",
	"[board]\nmatch = [true, 'x']\n",
	"[uplink]\ndhcp = true\naccept_ra = false # c\ndad = false\ndns = ['192.0.2.53']\n",
	"[uplink]\ndhcp = trueish\n", "[uplink]\ndhcp = True\n", "[uplink]\ndhcp = [true]\n", "[uplink]\ndhcp = false,\n",
	"[uplink]\ndhcp = tru\n", "[uplink]\ndhcp = true", "[uplink]\ndhcp = 'true'\n",
}

// fastPathCases returns fastPathDocs and every value of fastPathValues in
// a document.
func fastPathCases() []string {
	cases := append([]string(nil), fastPathDocs...)
	for _, v := range fastPathValues {
		cases = append(cases, "[board]\nname = "+v+"\n", "[board]\nmatch = "+v, "[[tunnel]]\nfwmark = "+v, "[uplink]\ndhcp = "+v+"\n")
	}
	return cases
}

// TestFastPath checks fastParse against the slow path on the profiles and
// on the edge cases: whatever the fast path accepts, decodes the same.
func TestFastPath(t *testing.T) {
	inputs := profileFiles(t)
	for i, c := range fastPathCases() {
		inputs["case "+strings.Repeat("I", i)] = []byte(c)
	}
	inputs["hub"] = hubProfile(20)
	accepted := 0
	for name, data := range inputs {
		if checkFastPath(t, data) {
			accepted++
			continue
		}
		plain := strings.HasPrefix(name, "profiles/") || strings.HasPrefix(name, "testdata/valid/") || name == "hub"
		if plain && name != "testdata/valid/inline-tables.toml" {
			t.Errorf("%s: fast path refused a plain profile", name)
		}
	}
	t.Logf("fast path accepted %d of %d inputs", accepted, len(inputs))
}

// checkFastPath reports whether fastParse accepts data, and fails t when
// the slow path does not decode it to the same profile.
func checkFastPath(t *testing.T, data []byte) bool {
	t.Helper()
	fast, ok := fastParse(string(data))
	if !ok {
		return false
	}
	var tree any
	if _, err := toml.Decode(string(data), &tree); err != nil {
		t.Fatalf("fast path accepted %q, toml.Decode did not: %v", data, err)
	}
	slow, ds := parse("slow.toml", data, false)
	if slow == nil || len(ds) > 0 {
		t.Fatalf("fast path accepted %q, the slow path reports %v", data, ds)
	}
	if !reflect.DeepEqual(stripped(fast), stripped(slow)) || !sameSecrets(fast, slow) {
		t.Fatalf("fast path decoded %q as\n%+v\nwant\n%+v", data, stripped(fast), stripped(slow))
	}
	return true
}

// TestFastPathParse checks that Parse and Validate give the same results
// with and without the fast path, diagnostics included.
func TestFastPathParse(t *testing.T) {
	inputs := profileFiles(t)
	inputs["hub"] = hubProfile(50)
	for name, data := range inputs {
		p1, ds1 := parse(name, data, true)
		p2, ds2 := parse(name, data, false)
		if !reflect.DeepEqual(ds1, ds2) {
			t.Errorf("%s: Parse diagnostics differ:\nfast %v\nslow %v", name, ds1, ds2)
		}
		if (p1 == nil) != (p2 == nil) {
			t.Fatalf("%s: one profile is nil", name)
		}
		if p1 == nil {
			continue
		}
		if !reflect.DeepEqual(stripped(p1), stripped(p2)) || !sameSecrets(p1, p2) || !reflect.DeepEqual(p1.src, p2.src) {
			t.Errorf("%s: profiles differ", name)
		}
		if v1, v2 := p1.Validate(), p2.Validate(); !reflect.DeepEqual(v1, v2) {
			t.Errorf("%s: Validate diagnostics differ:\nfast %v\nslow %v", name, v1, v2)
		}
	}
}

// FuzzFastPath checks that whatever fastParse accepts, toml.Decode accepts
// too, and the slow path decodes to the same profile.
func FuzzFastPath(f *testing.F) {
	for _, data := range profileFiles(f) {
		f.Add(data)
	}
	for _, c := range fastPathCases() {
		f.Add([]byte(c))
	}
	for _, c := range fastPeerDocs() {
		f.Add([]byte(c))
	}
	f.Add(hubProfile(3))
	f.Fuzz(func(t *testing.T, data []byte) {
		checkFastPath(t, data)
	})
}

// TestParse_boundedMemory: 4,000 tunnels whose header is spelled
// [[ tunnel ]] once made the fast path reserve room for every later peer
// in each tunnel (933 MiB). Parsing must stay linear in the input.
func TestParse_boundedMemory(t *testing.T) {
	var b strings.Builder
	b.WriteString("[board]\nname = \"many\"\n")
	for i := range 4000 {
		fmt.Fprintf(&b, "[[ tunnel ]]\nname = \"wg%d\"\nprivate_key_file = \"k\"\n[[tunnel.peer]]\npublic_key = %q\n", i, peerPublic)
	}
	data := []byte(b.String())
	for _, fast := range []bool{true, false} {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		p, ds := parse("many.toml", data, fast)
		runtime.ReadMemStats(&after)
		if p == nil || ds.HasErrors() || len(p.Tunnels) != 4000 {
			t.Fatalf("parse(fast=%v): %v", fast, ds)
		}
		// The toml package's path needs about 40 times the input.
		t.Logf("parse(fast=%v): %d KiB for %d KiB of input", fast, (after.TotalAlloc-before.TotalAlloc)>>10, len(data)>>10)
		if got, limit := after.TotalAlloc-before.TotalAlloc, uint64(64*len(data)); got > limit {
			t.Errorf("parse(fast=%v) of %d bytes allocated %d MiB, want at most %d MiB", fast, len(data), got>>20, limit>>20)
		}
	}
}

// TestParse_peersDoNotAlias: the tunnels' peers share one array; an
// append to one tunnel's peers must not overwrite the next tunnel's.
func TestParse_peersDoNotAlias(t *testing.T) {
	doc := "[[tunnel]]\nname = \"wg0\"\n[[tunnel.peer]]\npersistent_keepalive = 1\n" +
		"[[tunnel]]\nname = \"wg1\"\n[[tunnel.peer]]\npersistent_keepalive = 2\n"
	p, ok := fastParse(doc)
	if !ok {
		t.Fatal("fastParse refused")
	}
	p.Tunnels[0].Peers = append(p.Tunnels[0].Peers, Peer{PersistentKeepalive: 9})
	if got := p.Tunnels[1].Peers[0].PersistentKeepalive; got != 2 {
		t.Errorf("tunnel[1].peer[0] keepalive = %d after an append to tunnel[0]'s peers, want 2", got)
	}
}

// fastPeerValues are values of a peer's public_key, endpoint and
// allowed_ips, which the fast path reads unboxed (fastPeerKey) when they
// are plain strings, and hands back to value and peerKey otherwise.
var fastPeerValues = []string{
	`"AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA="`, `"AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA"`,
	`"\u0041QIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA="`, `'AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA='`,
	`"192.0.2.1:51820"`, `"[2001:db8::1]:51820"`, `"hub.example.net:51820"`, `"192.0.2.1"`, `"192.0.2.1:51820\t"`,
	`"192.0.2.1:5182\u0030"`, `"fe80::1%eth0"`, `"`, `"x`, `""`, `1`, `true`,
	`["10.0.0.1/32"]`, `["10.0.0.1/32", "fd00::1/128", "10.1.0.0/24"]`, `[]`, `[ ]`, `["10.0.0.1/32",]`,
	"[\n  \"10.0.0.1/32\", # c\n  \"fd00::1/128\"\n]", `["10.0.0.1"]`, `["10.0.0.1/33"]`, `["10.0.0.1/32", "x"]`,
	`["10.0.0.1/32" "fd00::1/128"]`, `["10.0.0.1/32", 1]`, `['10.0.0.1/32']`, `["10.0.0.\u0031/32"]`, `[,]`,
	`["10.0.0.1/32"`, `["10.0.0.1/32`, `"10.0.0.1/32"`, `["1.1.1.1/32", "2.2.2.2/32", "3.3.3.3/32", "4.4.4.4/32", "5.5.5.5/32", "6.6.6.6/32", "7.7.7.7/32", "8.8.8.8/32", "9.9.9.9/32"]`,
	`["fe80::1%eth0/64"]`, `["010.0.0.1/32"]`, `["10.0.0.1/032"]`, `[["10.0.0.1/32"]]`,
}

// fastPeerDocs puts every fastPeerValues value under each of the keys.
func fastPeerDocs() []string {
	var docs []string
	for _, k := range []string{"public_key", "endpoint", "allowed_ips"} {
		for _, v := range fastPeerValues {
			docs = append(docs, "[[tunnel]]\nname = \"wg0\"\nprivate_key_file = \"k\"\n[[tunnel.peer]]\n"+k+" = "+v+"\npersistent_keepalive = 25\n[[tunnel.peer]]\n"+k+" = "+v+"\n")
		}
	}
	return docs
}

// TestFastPathPeerValues checks the peers' values read by fastPeerKey
// against the toml package's path: the same profile and the same
// diagnostics (file:line:col and wording), whichever path reads them.
func TestFastPathPeerValues(t *testing.T) {
	accepted := 0
	for _, doc := range fastPeerDocs() {
		if checkFastPath(t, []byte(doc)) {
			accepted++
		}
		p1, ds1 := parse("p.toml", []byte(doc), true)
		p2, ds2 := parse("p.toml", []byte(doc), false)
		if !reflect.DeepEqual(ds1, ds2) {
			t.Errorf("%q: Parse diagnostics differ:\nfast %v\nslow %v", doc, ds1, ds2)
		}
		if (p1 == nil) != (p2 == nil) {
			t.Fatalf("%q: one profile is nil", doc)
		}
		if p1 != nil && !reflect.DeepEqual(stripped(p1), stripped(p2)) {
			t.Errorf("%q: profiles differ:\nfast %+v\nslow %+v", doc, stripped(p1), stripped(p2))
		}
	}
	if accepted < 15 {
		t.Errorf("the fast path accepted only %d of %d peer documents", accepted, len(fastPeerDocs()))
	}
}
