package main

import (
	"errors"
	"strings"
	"testing"

	"github.com/wgboot/wgboot/board"
	"github.com/wgboot/wgboot/internal/bootstate"
	"github.com/wgboot/wgboot/internal/wgkey"
	"github.com/wgboot/wgboot/netsetup/wg"
)

// TestSelfPeerFromKernel: the profile phase's Validate leaves out the
// own-key lint (no X25519 at boot); the verify phase finds the peer that
// has the tunnel's own public key, as the kernel reports it, and names the
// profile's file:line:col and the peer.
func TestSelfPeerFromKernel(t *testing.T) {
	k, err := wgkey.GeneratePrivateKey()
	if err != nil {
		t.Fatal(err)
	}
	self := k.PublicKey()
	other, err := wgkey.GeneratePrivateKey()
	if err != nil {
		t.Fatal(err)
	}
	text := `[board]
name = "b"
[uplink]
interface = "eth0"
address = ["192.0.2.2/24"]
[[tunnel]]
name = "wg0"
private_key = "` + k.Reveal() + `"
[[tunnel.peer]]
public_key = "` + other.PublicKey().String() + `"
allowed_ips = ["10.9.0.0/24"]
[[tunnel.peer]]
public_key = "` + self.String() + `"
allowed_ips = ["10.9.1.0/24"]
`
	p, ds := board.Parse("etc/wgboot/profiles/b.toml", []byte(text))
	if p == nil {
		t.Fatalf("Parse: %v", ds)
	}
	if ds := p.Validate(board.SkipSelfPeer); ds.HasErrors() {
		t.Fatalf("Validate(SkipSelfPeer) = %v, want no error", ds)
	}
	if _, known := p.Tunnels[0].KnownPublicKey(); known {
		t.Error("the profile phase derived the public key")
	}
	b := &boot{profile: p}
	err = b.selfPeers(&wg.Device{Name: "wg0", PublicKey: self, HasPrivateKey: true})
	if !errors.Is(err, board.ErrSelfPeer) || !strings.Contains(err.Error(), "etc/wgboot/profiles/b.toml:13:14: tunnel[0].peer[1].public_key: ") {
		t.Errorf("selfPeers() = %v, want ErrSelfPeer at b.toml:13:14, tunnel[0].peer[1].public_key", err)
	}
	if err := b.selfPeers(&wg.Device{Name: "wg0", PublicKey: wgkey.Key{9}, HasPrivateKey: true}); err != nil {
		t.Errorf("selfPeers() with another device key = %v", err)
	}
	if err := b.selfPeers(&wg.Device{Name: "wg1", PublicKey: self, HasPrivateKey: true}); err != nil {
		t.Errorf("selfPeers() of a tunnel the profile lacks = %v", err)
	}
}

// TestSetKeyPublic: the state file's entry for a key file whose public key
// the keys phase did not derive gets the kernel's; others stay.
func TestSetKeyPublic(t *testing.T) {
	pub := wgkey.Key{7}
	keys := []bootstate.Key{
		{Tunnel: "wg0", File: "/etc/wgboot/wg0.key"},
		{Tunnel: "wg1", File: "/persist/wg1.key", PublicKey: "known"},
		{Tunnel: "wg1", File: "/etc/wgboot/other.key"},
	}
	setKeyPublic(keys, "wg0", pub)
	setKeyPublic(keys, "wg1", wgkey.Key{})
	if keys[0].PublicKey != pub.String() || keys[1].PublicKey != "known" || keys[2].PublicKey != "" {
		t.Errorf("setKeyPublic: %+v", keys)
	}
}
