package board

import (
	"errors"
	"io/fs"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/wgboot/wgboot/internal/wgkey"
)

const (
	testPrivate = "d2dib290IFRFU1Qga2V5OiB0ZXN0ZGF0YSAjIyMjIyM=" // "wgboot TEST key: testdata ######"
	testPublic  = "tF9ldNmtmSfk/7eeBp+gJ/eERK/FG2Gs2R+Tnlo0XGQ="
	testPSK     = "d2dib290IFRFU1QgcHNrOiB0ZXN0ZGF0YSAjIyMjIyM="
	peerPublic  = "ho3m6xXZ1V3QYg080KspEDJpRrjIn5MB+nIckvhpe0Y="
)

func keyProfile(t *testing.T, keyFile, pskFile string) *Profile {
	t.Helper()
	text := `[board]
name = "k"
[uplink]
interface = "eth0"
address = ["192.0.2.2/24"]
[[tunnel]]
name = "wg0"
private_key_file = "` + keyFile + `"
[[tunnel.peer]]
public_key = "` + peerPublic + `"
allowed_ips = ["10.9.0.0/24"]
`
	if pskFile != "" {
		text += `preshared_key_file = "` + pskFile + `"` + "\n"
	}
	p, ds := Parse("k.toml", []byte(text))
	if p == nil || ds.HasErrors() {
		t.Fatalf("Parse: %v", ds.Err())
	}
	return p
}

func TestReadKeys(t *testing.T) {
	image := fstest.MapFS{
		"etc/wgboot/wg0.key":        {Data: []byte(testPrivate + "\n"), Mode: 0o600},
		"etc/wgboot/wg0.psk":        {Data: []byte(testPSK), Mode: 0o400},
		"etc/wgboot/open.key":       {Data: []byte(testPrivate + "\n"), Mode: 0o644},
		"etc/wgboot/garbage.key":    {Data: []byte("correct horse battery staple\n"), Mode: 0o600},
		"etc/wgboot/huge.key":       {Data: []byte(strings.Repeat("A", maxKeyFile+1)), Mode: 0o600},
		"etc/wgboot/dir.key/x":      {Data: []byte("x")},
		"etc/wgboot/profiles/x.key": {Data: []byte(testPrivate), Mode: 0o600},
	}
	profDir, err := fs.Sub(image, "etc/wgboot/profiles")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		key, psk string
		src      KeySource
		kind     error    // nil: no diagnostic
		sev      Severity // of kind
		loaded   bool
	}{
		{"absolute in the image", "/etc/wgboot/wg0.key", "/etc/wgboot/wg0.psk", KeySource{Root: image, Dir: profDir}, nil, 0, true},
		{"relative to the profile", "x.key", "", KeySource{Root: image, Dir: profDir}, nil, 0, true},
		{"relative with a dot", "./x.key", "", KeySource{Root: image, Dir: profDir}, nil, 0, true},
		{"readable by others", "/etc/wgboot/open.key", "", KeySource{Root: image, Dir: profDir}, ErrPermissions, SeverityWarning, true},
		{"missing in the image", "/etc/wgboot/nope.key", "", KeySource{Root: image, Dir: profDir}, ErrKeyFile, SeverityError, false},
		{"absolute on a build host, found by base name", "/somewhere/else/x.key", "", KeySource{Dir: profDir}, nil, 0, true},
		{"absolute on a build host, missing", "/etc/wgboot/wg0.key", "", KeySource{Dir: profDir}, ErrKeyFile, SeverityWarning, false},
		{"leaves the profile directory", "../wg0.key", "", KeySource{Root: image, Dir: profDir}, ErrKeyFile, SeverityError, false},
		{"not a key", "/etc/wgboot/garbage.key", "", KeySource{Root: image, Dir: profDir}, ErrKey, SeverityError, false},
		{"too large", "/etc/wgboot/huge.key", "", KeySource{Root: image, Dir: profDir}, ErrKeyFile, SeverityError, false},
		{"a directory", "/etc/wgboot/dir.key", "", KeySource{Root: image, Dir: profDir}, ErrKeyFile, SeverityError, false},
		{"the root itself", "/", "", KeySource{Root: image, Dir: profDir}, ErrKeyFile, SeverityError, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := keyProfile(t, tt.key, tt.psk)
			ds := p.ReadKeys(tt.src)
			switch {
			case tt.kind == nil && len(ds) > 0:
				t.Errorf("ReadKeys() = %v, want no diagnostics", ds)
			case tt.kind != nil && (len(ds) != 1 || !errors.Is(ds[0], tt.kind) || ds[0].Severity != tt.sev):
				t.Errorf("ReadKeys() = %v, want one %v %v", ds, tt.sev, tt.kind)
			}
			for _, d := range ds {
				if d.Pos.Line != 8 || d.Path != "tunnel[0].private_key_file" {
					t.Errorf("diagnostic at %v %s, want line 8 tunnel[0].private_key_file", d.Pos, d.Path)
				}
				for _, secret := range []string{testPrivate, "correct horse"} {
					if strings.Contains(d.Error(), secret) {
						t.Errorf("diagnostic %q echoes the key file", d)
					}
				}
			}
			got := p.Tunnels[0].PrivateKey
			if tt.loaded != !got.IsZero() {
				t.Fatalf("private key loaded = %v, want %v", !got.IsZero(), tt.loaded)
			}
			if tt.loaded && got.PublicKey().String() != testPublic {
				t.Errorf("PublicKey() = %v, want %v", got.PublicKey(), testPublic)
			}
			if tt.psk != "" {
				want, _ := wgkey.ParsePresharedKey(testPSK)
				if psk := p.Tunnels[0].Peers[0].PresharedKey; !psk.Equal(want) {
					t.Error("preshared key not loaded")
				}
			}
		})
	}
}

// TestValidate_selfPeerFromFile checks that the own-key lint works with a
// key read from a file, as PID 1 and check do.
func TestValidate_selfPeerFromFile(t *testing.T) {
	text := `[board]
name = "k"
[uplink]
interface = "eth0"
address = ["192.0.2.2/24"]
[[tunnel]]
name = "wg0"
private_key_file = "wg0.key"
[[tunnel.peer]]
public_key = "` + testPublic + `"
allowed_ips = ["10.9.0.0/24"]
`
	fsys := fstest.MapFS{
		"p/k.toml":   {Data: []byte(text)},
		"p/wg0.key":  {Data: []byte(testPrivate), Mode: 0o600},
		"other/file": {Data: []byte("x")},
	}
	p, ds := Load(fsys, "p/k.toml")
	if p == nil {
		t.Fatalf("Load: %v", ds)
	}
	if len(ds) != 1 || !errors.Is(ds[0], ErrSelfPeer) || ds[0].Pos.Line != 10 {
		t.Errorf("Load() diagnostics = %v, want one ErrSelfPeer on line 10", ds)
	}
}

// swappedFS answers Stat for a name with that file, but opens another one,
// as when a key file is replaced between a check of its name and the open.
type swappedFS struct {
	fstest.MapFS
	open string
}

func (s swappedFS) Open(name string) (fs.File, error) { return s.MapFS.Open(s.open) }

// TestReadKeyFileChecksTheOpenFile: what counts is the file that was opened
// (fstat), not what the name was a moment before.
func TestReadKeyFileChecksTheOpenFile(t *testing.T) {
	dir := swappedFS{MapFS: fstest.MapFS{
		"wg0.key":   {Data: []byte(testPrivate), Mode: 0o600},
		"other/dir": {Data: []byte("x")},
	}, open: "other"}
	if data, err := ReadKeyFile(KeySource{Dir: dir}, "wg0.key"); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("ReadKeyFile(a key swapped for a directory) = %q, %v; want a not-a-regular-file error", data, err)
	}
	dir.open = "wg0.key"
	data, err := ReadKeyFile(KeySource{Dir: dir}, "wg0.key")
	if err != nil || string(data) != testPrivate {
		t.Errorf("ReadKeyFile(wg0.key) = %q, %v; want the key", data, err)
	}
}

func TestReadKeysPersist(t *testing.T) {
	part := fstest.MapFS{
		"wg0.key":   {Data: []byte(testPrivate + "\n"), Mode: 0o600},
		"bad.key":   {Data: []byte("correct horse battery staple\n"), Mode: 0o600},
		"wg0.psk":   {Data: []byte(testPSK + "\n"), Mode: 0o600},
		"wgboot/x":  {Data: []byte("x")},
		"other.txt": {Data: []byte("x")},
	}
	tests := []struct {
		name     string
		key, psk string
		generate bool
		persist  fs.FS
		wantKey  bool
		want     error // of the one diagnostic; nil for none
	}{
		{"left for the boot", "/persist/wg0.key", "/persist/wg0.psk", false, nil, false, nil},
		{"read from the tree", "/persist/wg0.key", "/persist/wg0.psk", false, part, true, nil},
		{"missing, made at first boot", "/persist/new.key", "", true, part, false, nil},
		{"missing", "/persist/new.key", "", false, part, false, ErrKeyFile},
		{"malformed, even with generate_key", "/persist/bad.key", "", true, part, false, ErrKey},
		{"missing psk", "/persist/wg0.key", "/persist/none.psk", false, part, true, ErrKeyFile},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := keyProfile(t, tt.key, tt.psk)
			p.Tunnels[0].GenerateKey = tt.generate
			ds := p.ReadKeys(KeySource{Root: fstest.MapFS{}, Dir: fstest.MapFS{}, Persist: tt.persist})
			if got := !p.Tunnels[0].PrivateKey.IsZero(); got != tt.wantKey {
				t.Errorf("key read = %v, want %v", got, tt.wantKey)
			}
			switch {
			case tt.want == nil && len(ds) > 0:
				t.Errorf("ReadKeys() = %v, want nothing", ds)
			case tt.want != nil && (len(ds) != 1 || !errors.Is(ds[0], tt.want)):
				t.Errorf("ReadKeys() = %v, want one %v", ds, tt.want)
			}
		})
	}
}

// TestValidate_skipSelfPeer checks that PID 1's Validate (SkipSelfPeer)
// leaves the own-key lint out and derives no public key, and that
// SelfPeers, given the key the kernel derived, reports the same peer at
// the same file:line:col as the host's Validate.
func TestValidate_skipSelfPeer(t *testing.T) {
	text := `[board]
name = "k"
[uplink]
interface = "eth0"
address = ["192.0.2.2/24"]
[[tunnel]]
name = "wg0"
private_key_file = "wg0.key"
[[tunnel.peer]]
public_key = "` + testPublic + `"
allowed_ips = ["10.9.0.0/24"]
`
	fsys := fstest.MapFS{
		"p/k.toml":  {Data: []byte(text)},
		"p/wg0.key": {Data: []byte(testPrivate), Mode: 0o600},
	}
	host, hostDiags := Load(fsys, "p/k.toml")
	if host == nil || len(hostDiags) != 1 {
		t.Fatalf("Load: %v", hostDiags)
	}
	ps, ds := LoadDir(fsys, "p")
	if len(ps) != 1 || ds.HasErrors() {
		t.Fatalf("LoadDir: %v", ds)
	}
	p := ps[0]
	dir, _ := fs.Sub(fsys, "p")
	ds = append(ds, p.ReadKeys(KeySource{Root: fsys, Dir: dir})...)
	ds = append(ds, p.Validate(SkipSelfPeer)...)
	if len(ds) != 0 {
		t.Errorf("Validate(SkipSelfPeer) = %v, want none", ds)
	}
	if k, known := p.Tunnels[0].KnownPublicKey(); known {
		t.Errorf("Validate(SkipSelfPeer) derived the public key %s", k)
	}
	self, err := wgkey.ParseKey(testPublic)
	if err != nil {
		t.Fatal(err)
	}
	got := p.SelfPeers(0, self)
	if len(got) != 1 || !errors.Is(got[0], ErrSelfPeer) || got[0].Error() != hostDiags[0].Error() {
		t.Errorf("SelfPeers = %v, want %v", got, hostDiags)
	}
	other, _ := wgkey.ParseKey("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAE=")
	if ds := p.SelfPeers(0, other); len(ds) != 0 {
		t.Errorf("SelfPeers with another key = %v, want none", ds)
	}
	if ds := p.SelfPeers(1, self); len(ds) != 0 {
		t.Errorf("SelfPeers(1) = %v, want none (no such tunnel)", ds)
	}
}
