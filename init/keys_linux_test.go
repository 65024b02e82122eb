package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wgboot/wgboot/board"
	"github.com/wgboot/wgboot/internal/wgkey"
)

// keysLogger records what loadPartitionKeys logs.
type keysLogger struct{ lines []string }

func (l *keysLogger) Warnf(format string, args ...any) {
	l.lines = append(l.lines, "warn: "+fmt.Sprintf(format, args...))
}

func (l *keysLogger) Outcomef(level int, format string, args ...any) {
	l.lines = append(l.lines, "outcome: "+fmt.Sprintf(format, args...))
}

func fleetProfile(t *testing.T, generate bool) *board.Profile {
	t.Helper()
	text := `[board]
name = "k"
[persist]
device = "LABEL=wgboot"
fstype = "ext4"
[[tunnel]]
name = "wg0"
private_key_file = "/persist/wg0.key"
generate_key = ` + fmt.Sprint(generate) + `
[[tunnel.peer]]
public_key = "ho3m6xXZ1V3QYg080KspEDJpRrjIn5MB+nIckvhpe0Y="
allowed_ips = ["10.9.0.0/24"]
`
	p, ds := board.Parse("k.toml", []byte(text))
	if p == nil || ds.HasErrors() {
		t.Fatalf("Parse: %v", ds)
	}
	return p
}

func ready() bool    { return true }
func notReady() bool { return false }

// TestLoadPartitionKeys: the first boot makes the key, mode 0600, and
// publishes its public key; the next boots read the same key; a key file
// that is there but is no key is never replaced.
func TestLoadPartitionKeys(t *testing.T) {
	dir := t.TempDir()
	p := fleetProfile(t, true)
	var log keysLogger
	got, err := loadPartitionKeys(p, dir, &log, ready)
	if err != nil {
		t.Fatalf("first boot: %v", err)
	}
	key := got.priv[0]
	pub := key.PublicKey().String()
	if key.IsZero() || len(got.state) != 1 || !got.state[0].Generated || got.state[0].PublicKey != pub || got.state[0].File != "/persist/wg0.key" {
		t.Fatalf("first boot: state %+v", got.state)
	}
	want := "outcome: tunnel wg0: new key, public key " + pub + " in /persist/wg0.key"
	if len(log.lines) != 1 || log.lines[0] != want {
		t.Errorf("first boot logged %q, want %q", log.lines, want)
	}
	if got.pub[0].String() != pub {
		t.Errorf("first boot: public key handed on %v, want %s", got.pub[0], pub)
	}
	st, err := os.Stat(filepath.Join(dir, "wg0.key"))
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("wg0.key: %v, %v; want mode 0600", st.Mode(), err)
	}
	if b, err := os.ReadFile(filepath.Join(dir, "wg0.pub")); err != nil || string(b) != pub+"\n" {
		t.Errorf("wg0.pub = %q, %v; want %q", b, err, pub+"\n")
	}
	text, _ := os.ReadFile(filepath.Join(dir, "wg0.key"))
	for _, l := range log.lines {
		if strings.Contains(l, strings.TrimSpace(string(text))) {
			t.Error("the private key was logged")
		}
	}

	// The next boot: the same key, nothing made.
	log = keysLogger{}
	again, err := loadPartitionKeys(fleetProfile(t, true), dir, &log, notReady)
	if err != nil || !again.priv[0].Equal(key) || again.state[0].Generated || len(log.lines) != 0 {
		t.Errorf("second boot: %v, same key %v, state %+v, log %q", err, again.priv[0].Equal(key), again.state, log.lines)
	}

	// A .pub that says something else is written again.
	os.WriteFile(filepath.Join(dir, "wg0.pub"), []byte("stale\n"), 0o644)
	loadPartitionKeys(fleetProfile(t, true), dir, &log, ready)
	if b, _ := os.ReadFile(filepath.Join(dir, "wg0.pub")); string(b) != pub+"\n" {
		t.Errorf("stale wg0.pub not rewritten: %q", b)
	}
}

func TestLoadPartitionKeysFaults(t *testing.T) {
	for _, c := range []struct {
		name     string
		file     []byte // nil: no key file
		mode     os.FileMode
		generate bool
		ready    func() bool
		want     string
		kept     bool // the file must be as it was
	}{
		{"malformed", []byte("not a key\n"), 0o600, true, ready, "invalid key: 9 characters, want 44 characters of base64; kept as it is: a new key would re-key the board", true},
		{"empty", []byte{}, 0o600, true, ready, "invalid key: 0 characters", true},
		{"unreadable", []byte(strings.Repeat("A", wgkey.MaxFileSize+1)), 0o600, true, ready, "not a key file: larger than 4096 bytes; kept as it is", true},
		{"missing without generate_key", nil, 0, false, ready, "private_key_file /persist/wg0.key: no such file, and generate_key is off", false},
		{"CRNG not seeded", nil, 0, true, notReady, "generate_key: the kernel's CRNG is not seeded yet", false},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "wg0.key")
			if c.file != nil {
				if err := os.WriteFile(path, c.file, c.mode); err != nil {
					t.Fatal(err)
				}
			}
			var log keysLogger
			got, err := loadPartitionKeys(fleetProfile(t, c.generate), dir, &log, c.ready)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("loadPartitionKeys() = %v, want an error with %q", err, c.want)
			}
			if len(got.priv) != 0 {
				t.Errorf("keys handed out after a failure")
			}
			b, rerr := os.ReadFile(path)
			switch {
			case c.kept && string(b) != string(c.file):
				t.Errorf("the key file was changed: %q", b)
			case !c.kept && !errors.Is(rerr, fs.ErrNotExist):
				t.Errorf("a key file was made: %q, %v", b, rerr)
			}
			for _, l := range log.lines {
				if strings.Contains(l, "new key") {
					t.Errorf("logged %q", l)
				}
			}
		})
	}
}

// TestLoadPartitionKeysImage: key files in the image are the profile
// phase's; only their public keys are recorded.
func TestLoadPartitionKeysImage(t *testing.T) {
	p := fleetProfile(t, false)
	k, err := wgkey.GeneratePrivateKey()
	if err != nil {
		t.Fatal(err)
	}
	p.Tunnels[0].PrivateKeyFile = "/etc/wgboot/wg0.key"
	p.Tunnels[0].PrivateKey = k
	var log keysLogger
	got, err := loadPartitionKeys(p, t.TempDir(), &log, ready)
	// Its public key is not derived here: the verify phase records the
	// kernel's (setKeyPublic).
	if err != nil || len(got.priv) != 0 || len(got.state) != 1 || got.state[0].PublicKey != "" {
		t.Errorf("loadPartitionKeys() = %+v, %v", got.state, err)
	}
}

// TestLoadPartitionKeysDerivesOnce: the public key of a key the profile
// phase read is the one Validate derived, not derived again (an X25519,
// 1.5 million instructions); a key read from the partition is derived
// once and handed on to the tunnel.
func TestLoadPartitionKeysDerivesOnce(t *testing.T) {
	p := fleetProfile(t, false)
	k, err := wgkey.GeneratePrivateKey()
	if err != nil {
		t.Fatal(err)
	}
	p.Tunnels[0].PrivateKeyFile = "/etc/wgboot/wg0.key"
	// A marker as the derived key shows whether it is derived again.
	marker := wgkey.Key{1}
	p.Tunnels[0].SetPrivateKey(k, marker)
	var log keysLogger
	got, err := loadPartitionKeys(p, t.TempDir(), &log, ready)
	if err != nil || len(got.state) != 1 || got.state[0].PublicKey != marker.String() || len(got.pub) != 0 {
		t.Errorf("loadPartitionKeys() = %+v, %v, handed on %v; want the known public key %v, nothing handed on", got.state, err, got.pub, marker)
	}

	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "wg0.key"), k.FileText(), 0o600); err != nil {
		t.Fatal(err)
	}
	p = fleetProfile(t, false)
	got, err = loadPartitionKeys(p, dir, &log, ready)
	if err != nil || got.pub[0] != k.PublicKey() || got.state[0].PublicKey != k.PublicKey().String() {
		t.Fatalf("partition key: handed on %v, state %+v, %v; want %v", got.pub, got.state, err, k.PublicKey())
	}
	p.Tunnels[0].SetPrivateKey(got.priv[0], got.pub[0])
	if pub, ok := p.Tunnels[0].KnownPublicKey(); !ok || pub != k.PublicKey() {
		t.Errorf("the tunnel's known public key = %v, %v; want %v", pub, ok, k.PublicKey())
	}
}

func TestPubFile(t *testing.T) {
	for in, want := range map[string]string{"/persist/wg0.key": "/persist/wg0.pub", "/persist/keys/wg0": "/persist/keys/wg0.pub"} {
		if got := pubFile(in); got != want {
			t.Errorf("pubFile(%q) = %q, want %q", in, got, want)
		}
	}
}
