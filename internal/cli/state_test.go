package cli

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wgboot/wgboot/internal/bootstate"
)

// TestUsageDispatches: every command the usage lists runs, and every
// command is in the usage.
func TestUsageDispatches(t *testing.T) {
	_, out, _ := run(t, "help")
	listed := map[string]bool{}
	for _, l := range strings.Split(out, "\n") {
		rest, ok := strings.CutPrefix(l, "  wgboot ")
		if !ok {
			continue
		}
		name, _, _ := strings.Cut(rest, " ")
		listed[name] = true
		// Every command given a flag it does not know answers with a
		// usage error of its own, not "unknown command".
		var o, e bytes.Buffer
		Run(&o, &e, []string{name, "-no-such-flag"})
		if strings.Contains(e.String(), "unknown command") {
			t.Errorf("usage lists %q, which does not dispatch", name)
		}
	}
	for _, c := range commands() {
		if !listed[c.name] {
			t.Errorf("command %q is not in the usage:\n%s", c.name, out)
		}
	}
	for _, want := range []string{"check", "import", "timeline", "state", "version", "help"} {
		if !listed[want] {
			t.Errorf("usage lacks %s", want)
		}
	}
	if listed["show"] {
		t.Error("the host command lists show, which is the device's")
	}
}

// TestUsageCheckSynopsis: the usage's check line is docs/profile.md's
// synopsis, and each flag in it is one check takes: the usage had lost
// -image, which check -image rescue takes, and the device's retry.
func TestUsageCheckSynopsis(t *testing.T) {
	doc, err := os.ReadFile("../../docs/profile.md")
	if err != nil {
		t.Fatal(err)
	}
	var synopsis string
	for _, l := range strings.Split(string(doc), "\n") {
		if strings.HasPrefix(l, "wgboot check [") {
			synopsis = l
		}
	}
	_, out, _ := run(t, "help")
	if synopsis == "" || !strings.Contains(out, synopsis) {
		t.Errorf("the usage lacks docs/profile.md's synopsis %q:\n%s", synopsis, out)
	}
	for _, f := range strings.Fields(synopsis) {
		name, ok := strings.CutPrefix(strings.TrimSuffix(f, "]"), "[-")
		if !ok {
			continue
		}
		var o, e bytes.Buffer
		Check(&o, &e, []string{"-" + name + "=x", "no-such.toml"})
		if strings.Contains(e.String(), "not defined") {
			t.Errorf("the synopsis names -%s, which check does not take: %s", name, e.String())
		}
	}
	if !strings.Contains(out, "retry") {
		t.Errorf("the usage does not say the device's wgboot has retry:\n%s", out)
	}
}

func writeStateFile(t *testing.T, s *bootstate.State) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "state.json")
	if err := os.WriteFile(path, bootstate.Encode(s), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// writeRescueStateFile writes s as a rescue image's /init does, rescue
// member and all: the host's bootstate.Encode (built without the rescue
// tag) leaves that member out, and encoding/json writes the same bytes
// as the rescue build's Encode (bootstate's tests, -tags=rescue).
func writeRescueStateFile(t *testing.T, s *bootstate.State) string {
	t.Helper()
	data, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "state.json")
	if err := os.WriteFile(path, append(data, '\n'), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestState(t *testing.T) {
	path := writeStateFile(t, &bootstate.State{
		Version: "v1", Board: "qemu-amd64", Profile: "/etc/wgboot/profiles/qemu-amd64.toml",
		Failure: "handshake: no handshake with every peer within 3s", Policy: "shell", PeakRSSKB: 3484,
		Phases: []bootstate.Phase{{Name: "handshake", Start: 400 * time.Millisecond, Dur: 3 * time.Second, Err: "no handshake"}},
		Uplink: &bootstate.Uplink{Interface: "eth0", Index: 2, MTU: 1492, Addresses: []string{"192.168.50.102/24"}, Gateways: []string{"192.168.50.1"},
			DHCP: &bootstate.Lease{Address: "192.168.50.102/24", ServerID: "192.168.50.1", Router: "192.168.50.1",
				Routes: []string{"0.0.0.0/0 via 192.168.50.1"}, DNS: []string{"192.168.50.1"}, LeaseTimeS: 3600}},
		DNSServers: []string{"192.0.2.53", "192.168.50.1"},
		Tunnels: []bootstate.Tunnel{{Name: "wg0", Index: 3, PublicKey: "PUB", ListenPort: 51820, Peers: []bootstate.Peer{
			{PublicKey: "PEER", Endpoint: "192.168.50.1:51820", AllowedIPs: []string{"10.77.0.0/24"},
				LastHandshake: time.Date(2026, 12, 7, 5, 29, 3, 0, time.FixedZone("", 3600))},
			{PublicKey: "PEER2", Endpoint: "203.0.113.7:51820", EndpointFrom: "203.0.113.7:51820",
				EndpointsTried: []string{"192.0.2.1:51820", "203.0.113.7:51820"}, AllowedIPs: []string{"10.78.0.0/24"}},
		}}},
		Watchdog:   bootstate.Watchdog{Device: "/dev/watchdog0", Identity: "Software Watchdog", TimeoutS: 60, Handoff: "armed"},
		Clock:      bootstate.Clock{Source: "ntp", NTPServer: "192.0.2.123:123", StepNS: int64(24 * time.Hour)},
		RandomSeed: bootstate.RandomSeed{CreditedBits: 256, Renewed: true},
		Names: []bootstate.Name{
			{Host: "hub.example.net", Server: "192.0.2.53:53", CNAMEs: []string{"edge.example."}, Addrs: []string{"192.0.2.1", "2001:db8::1"}, TTL: 60},
			{Host: "hub2.example.net", Err: "no such host (NXDOMAIN)"},
		},
	})
	code, out, stderr := run(t, "state", path)
	if code != ExitOK {
		t.Fatalf("state: exit %d: %s", code, stderr)
	}
	for _, want := range []string{
		"wgboot v1: board qemu-amd64, profile /etc/wgboot/profiles/qemu-amd64.toml, ready false\n",
		"failure: handshake: no handshake with every peer within 3s (policy shell)\n",
		"  handshake  at    400ms took       3s  no handshake\n",
		"uplink eth0 (index 2): mtu 1492, addresses [192.168.50.102/24], gateways [192.168.50.1]\n",
		"  dhcp lease 192.168.50.102/24 from 192.168.50.1 for 1h0m0s, router 192.168.50.1, routes [0.0.0.0/0 via 192.168.50.1], name servers [192.168.50.1]\n",
		"name servers [192.0.2.53 192.168.50.1]\n",
		"tunnel wg0 (index 3): public key PUB, port 51820\n",
		"  peer PEER endpoint 192.168.50.1:51820 allowed [10.77.0.0/24] handshake 2026-12-07 04:29:03Z\n",
		"  peer PEER2 endpoint 203.0.113.7:51820 (203.0.113.7:51820) after 192.0.2.1:51820 allowed [10.78.0.0/24] handshake never\n",
		"name hub.example.net: 192.0.2.1 2001:db8::1 via CNAME edge.example. (from 192.0.2.53:53, TTL 60s)\n",
		"name hub2.example.net: no such host (NXDOMAIN)\n",
		"init peak RSS 3484 KiB\n",
		"watchdog /dev/watchdog0 (Software Watchdog): timeout 60s, armed at handoff\n",
		"clock: ntp from 192.0.2.123:123, set forward 24h0m0s\n",
		"random seed: 256 bits credited, renewed true\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("state lacks %q:\n%s", want, out)
		}
	}
	if code, _, _ := run(t, "state", filepath.Join(t.TempDir(), "missing.json")); code != ExitFail {
		t.Errorf("state of a missing file: exit %d, want %d", code, ExitFail)
	}
	bad := filepath.Join(t.TempDir(), "bad.json")
	os.WriteFile(bad, []byte("{"), 0o644)
	if code, _, stderr := run(t, "state", bad); code != ExitFail || !strings.Contains(stderr, "bad.json") {
		t.Errorf("state of a broken file: exit %d, stderr %q", code, stderr)
	}
	if code, _, _ := run(t, "state", "a", "b"); code != ExitUsage {
		t.Errorf("state with two files: exit %d, want %d", code, ExitUsage)
	}
}

// TestStateFleet: where the profile came from, the fallback, the config
// partition and the keys made at first boot.
func TestStateFleet(t *testing.T) {
	path := writeRescueStateFile(t, &bootstate.State{
		Version: "v1", Board: "qemu-amd64", Profile: "etc/wgboot/profiles/qemu-amd64.toml", Ready: true,
		ProfileFrom: "image", Fallback: bootstate.Fallback{Profile: "persist/wgboot/profiles/site.toml", Reason: "invalid: tunnel[0].mtu: 9 is out of range"},
		Persist: bootstate.Persist{Device: "LABEL=wgboot", Path: "/dev/vda1", FSType: "ext4"},
		Keys:    []bootstate.Key{{Tunnel: "wg0", File: "/persist/wg0.key", PublicKey: "PUB", Generated: true}},
		Failure: "init /sbin/init not found", Policy: "remote",
		Rescue: bootstate.Rescue{Listen: []string{"10.77.0.2:22", "[fd77::2]:22"}, HostKey: "SHA256:abc", Retries: 2},
	})
	code, out, stderr := run(t, "state", path)
	if code != ExitOK {
		t.Fatalf("state: exit %d: %s", code, stderr)
	}
	for _, want := range []string{
		"profile from the image\n",
		"fell back from persist/wgboot/profiles/site.toml: invalid: tunnel[0].mtu: 9 is out of range\n",
		"persist LABEL=wgboot (ext4) on /dev/vda1\n",
		"key of tunnel wg0 in /persist/wg0.key: public key PUB (new: made at this boot)\n",
		"failure: init /sbin/init not found (policy remote)\n",
		"remote rescue: ssh on 10.77.0.2:22 [fd77::2]:22, host key SHA256:abc\n",
		"remote rescue: failed retries: 2 (the failure above is the last one's)\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("state lacks %q:\n%s", want, out)
		}
	}
}

func TestTimeline(t *testing.T) {
	path := writeStateFile(t, &bootstate.State{Version: "test", StartUptimeNS: 900 * time.Millisecond, WrittenNS: 1100 * time.Millisecond,
		Phases: []bootstate.Phase{{Name: "mounts", Dur: 2 * time.Millisecond}, {Name: "profile", Start: 2 * time.Millisecond, Dur: 30 * time.Millisecond}}})
	console := filepath.Join(t.TempDir(), "console.log")
	os.WriteFile(console, []byte("[    0.700000] Run /init as init process\n"), 0o644)
	code, out, stderr := run(t, "timeline", "-console", console, "-title", "T <1>", path)
	if code != ExitOK {
		t.Fatalf("timeline: exit %d: %s", code, stderr)
	}
	if err := xml.Unmarshal([]byte(out), new(struct{})); err != nil {
		t.Errorf("not XML: %v", err)
	}
	for _, want := range []string{">T &lt;1&gt;<", ">exec, Go runtime<", ">profile<"} {
		if !strings.Contains(out, want) {
			t.Errorf("SVG lacks %q", want)
		}
	}
	for _, args := range [][]string{{"timeline"}, {"timeline", "a", "b"}, {"timeline", "-x", path}} {
		if code, _, _ := run(t, args...); code != ExitUsage {
			t.Errorf("%q: exit %d, want %d", args, code, ExitUsage)
		}
	}
	if code, _, _ := run(t, "timeline", filepath.Join(t.TempDir(), "missing.json")); code != ExitFail {
		t.Errorf("timeline of a missing file: exit %d, want %d", code, ExitFail)
	}
	if code, _, _ := run(t, "timeline", "-console", filepath.Join(t.TempDir(), "missing.log"), path); code != ExitFail {
		t.Errorf("timeline with a missing console log: exit %d, want %d", code, ExitFail)
	}
}

// TestTimelineEnds: `wgboot timeline` on a state file with times near
// MaxInt64 ends (it looped forever: the axis step overflowed).
func TestTimelineEnds(t *testing.T) {
	path := writeStateFile(t, &bootstate.State{Version: "huge", StartUptimeNS: math.MaxInt64 - 1, WrittenNS: math.MaxInt64,
		Phases: []bootstate.Phase{{Name: "mounts", Start: math.MaxInt64, Dur: math.MaxInt64}}})
	done := make(chan int, 1)
	go func() {
		var o, e bytes.Buffer
		done <- Run(&o, &e, []string{"timeline", path})
	}()
	select {
	case code := <-done:
		if code != ExitOK {
			t.Errorf("exit %d", code)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("wgboot timeline has not ended after 5 s")
	}
}

func TestVersion(t *testing.T) {
	old := Version
	defer func() { Version = old }()
	Version = "v9-test"
	if code, out, _ := run(t, "version"); code != ExitOK || out != "wgboot v9-test\n" {
		t.Errorf("version: exit %d, %q", code, out)
	}
}
