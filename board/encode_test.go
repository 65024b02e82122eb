package board

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/wgboot/wgboot/internal/wgkey"
)

// stripped returns a copy of p without its source and without secrets,
// so that reflect.DeepEqual compares what a profile says, not where it
// came from (a secret holds a func, which DeepEqual never finds equal);
// sameSecrets compares the secrets.
func stripped(p *Profile) Profile {
	c := *p
	c.src = nil
	c.Tunnels = append([]Tunnel(nil), p.Tunnels...)
	for i := range c.Tunnels {
		t := &c.Tunnels[i]
		t.PrivateKey, t.pub, t.pubOf = wgkey.PrivateKey{}, wgkey.Key{}, wgkey.PrivateKey{}
		t.Peers = append([]Peer(nil), t.Peers...)
		for j := range t.Peers {
			t.Peers[j].PresharedKey = wgkey.PresharedKey{}
		}
	}
	return c
}

// sameSecrets reports whether a and b, equal when stripped, hold the same
// keys.
func sameSecrets(a, b *Profile) bool {
	for i := range a.Tunnels {
		if !a.Tunnels[i].PrivateKey.Equal(b.Tunnels[i].PrivateKey) {
			return false
		}
		for j := range a.Tunnels[i].Peers {
			if !a.Tunnels[i].Peers[j].PresharedKey.Equal(b.Tunnels[i].Peers[j].PresharedKey) {
				return false
			}
		}
	}
	return true
}

// roundTrip checks that p survives MarshalSecrets → Parse unchanged.
func roundTrip(t *testing.T, p *Profile) {
	t.Helper()
	out, err := MarshalSecrets(p)
	if err != nil {
		t.Fatalf("MarshalSecrets: %v", err)
	}
	back, ds := Parse("round-trip.toml", out)
	if back == nil || ds.HasErrors() {
		t.Fatalf("Parse(MarshalSecrets(p)): %v\n%s", ds.Err(), out)
	}
	if !reflect.DeepEqual(stripped(p), stripped(back)) {
		t.Errorf("round trip changed the profile:\n got %+v\nwant %+v\n%s", stripped(back), stripped(p), out)
	}
	if !sameSecrets(p, back) {
		t.Error("round trip changed a secret key")
	}
	again, err := MarshalSecrets(back)
	if err != nil || !bytes.Equal(out, again) {
		t.Errorf("MarshalSecrets is not stable:\n%s\n---\n%s", out, again)
	}
}

func TestMarshal_roundTrip(t *testing.T) {
	files, _ := filepath.Glob("testdata/valid/*.toml")
	more, _ := filepath.Glob("profiles/*.toml")
	for _, file := range append(files, more...) {
		t.Run(file, func(t *testing.T) {
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			p, ds := Parse(file, data)
			if p == nil || ds.HasErrors() {
				t.Fatalf("Parse: %v", ds.Err())
			}
			roundTrip(t, p)
		})
	}
}

func TestMarshal_secrets(t *testing.T) {
	src := `[board]
name = "s"
[uplink]
interface = "eth0"
[[tunnel]]
name = "wg0"
private_key = "` + testPrivate + `"
[[tunnel.peer]]
public_key = "` + peerPublic + `"
preshared_key = "` + testPSK + `"
[[tunnel]]
name = "wg1"
private_key_file = "/etc/wgboot/wg1.key"
`
	p, ds := Parse("s.toml", []byte(src))
	if ds.HasErrors() {
		t.Fatal(ds.Err())
	}
	// As after ReadKeys: the file's key is in memory too.
	p.Tunnels[1].PrivateKey, _ = wgkey.ParsePrivateKey(testPrivate)
	out, err := MarshalSecrets(p)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Count(out, []byte(testPrivate)) != 1 || !bytes.Contains(out, []byte(testPSK)) {
		t.Errorf("MarshalSecrets wrote the wrong secrets (only wg0's inline key and the PSK belong):\n%s", out)
	}
}

func TestMarshal_escapes(t *testing.T) {
	p := newProfile()
	p.Board.Name = "q\"uote\\ \t\x01 ünï"
	p.Board.Match = []string{"a\nb", ""}
	roundTrip(t, p)
	p.Board.Name = "\xff"
	if _, err := MarshalSecrets(p); err == nil {
		t.Error("MarshalSecrets accepted invalid UTF-8")
	}
}

func TestFormatDuration(t *testing.T) {
	tests := []struct {
		d    time.Duration
		want string
	}{
		{0, "0s"},
		{60 * time.Second, "60s"},
		{1500 * time.Millisecond, "1.5s"},
		{2 * time.Hour, "7200s"},
		{time.Microsecond, "1µs"},
	}
	for _, tt := range tests {
		got := formatDuration(tt.d)
		if got != tt.want {
			t.Errorf("formatDuration(%v) = %q, want %q", tt.d, got, tt.want)
		}
		if back, err := time.ParseDuration(got); err != nil || back != tt.d {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v", got, back, err, tt.d)
		}
	}
}

func TestParse_defaults(t *testing.T) {
	data, err := os.ReadFile("testdata/valid/minimal.toml")
	if err != nil {
		t.Fatal(err)
	}
	p, ds := Parse("minimal.toml", data)
	if ds.HasErrors() {
		t.Fatal(ds.Err())
	}
	tun := p.Tunnels[0]
	if p.Uplink.CarrierTimeout != DefaultCarrierTimeout || tun.MTU != DefaultMTU || tun.Table != TableMain ||
		p.Handoff.Init != DefaultInit || p.Handoff.OnFailure != FailContinue || p.Handoff.Deadline != DefaultDeadline ||
		p.Handoff.WaitHandshake != 0 || p.Handoff.Root != "" || tun.ListenPort != 0 || tun.FwMark != 0 {
		t.Errorf("defaults not applied: %+v", stripped(p))
	}
	if p.File() != "minimal.toml" {
		t.Errorf("File() = %q, want minimal.toml", p.File())
	}
}

// TestDiagnostics_noSecrets checks every diagnostic of the invalid
// testdata for key material from the files.
func TestDiagnostics_noSecrets(t *testing.T) {
	files, _ := filepath.Glob("testdata/invalid/*.toml")
	for _, file := range files {
		_, ds := loadTestdata(t, file)
		for _, d := range ds {
			msg := d.Error()
			for _, s := range []string{"d2dib290", "IFRFU1Q", "correct horse", "ho3m6xXZ", "not base64 at all"} {
				if strings.Contains(msg, s) {
					t.Errorf("%s: diagnostic %q contains key material %q", file, msg, s)
				}
			}
		}
	}
}

func TestRedact(t *testing.T) {
	got := redact(`expected value but found "d2dib290IFRFU1Qga2V5OiB0ZXN0ZGF0YSAjIyMjIyM" instead; got 'x'`)
	want := `expected value but found "d2di…" instead; got 'x'`
	if got != want {
		t.Errorf("redact() = %q, want %q", got, want)
	}
}
