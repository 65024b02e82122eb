package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wgboot/wgboot/internal/bootstate"
	"github.com/wgboot/wgboot/internal/wgkey"
)

// TestPubkeyDevice is `wgboot pubkey` on the device: the tunnels' public
// keys from the state file, or those of key files; never a private key.
func TestPubkeyDevice(t *testing.T) {
	dir := t.TempDir()
	k, err := wgkey.GeneratePrivateKey()
	if err != nil {
		t.Fatal(err)
	}
	text := k.FileText()
	pub := k.PublicKey().String()
	keyFile := filepath.Join(dir, "wg0.key")
	if err := os.WriteFile(keyFile, text, 0o600); err != nil {
		t.Fatal(err)
	}
	state := filepath.Join(dir, "state.json")
	st := &bootstate.State{Keys: []bootstate.Key{
		{Tunnel: "wg0", File: "/persist/wg0.key", PublicKey: pub, Generated: true},
		{Tunnel: "wg1", File: "/persist/wg1.key", PublicKey: "B"},
	}}
	if err := os.WriteFile(state, bootstate.Encode(st), 0o644); err != nil {
		t.Fatal(err)
	}
	run := func(args []string, state string) (int, string, string) {
		var out, errOut bytes.Buffer
		code := pubkeys(&out, &errOut, args, state)
		for _, s := range []string{out.String(), errOut.String()} {
			if strings.Contains(s, strings.TrimSpace(string(text))) {
				t.Errorf("pubkey %q printed the private key", args)
			}
		}
		return code, out.String(), errOut.String()
	}
	if code, out, _ := run(nil, state); code != 0 || out != pub+"  wg0\nB  wg1\n" {
		t.Errorf("pubkey = %d, %q", code, out)
	}
	if code, out, _ := run([]string{keyFile}, state); code != 0 || out != pub+"  "+keyFile+"\n" {
		t.Errorf("pubkey %s = %d, %q", keyFile, code, out)
	}
	if code, _, errOut := run([]string{filepath.Join(dir, "none.key")}, state); code != 1 || !strings.Contains(errOut, "none.key") {
		t.Errorf("pubkey of a missing file = %d, %q", code, errOut)
	}
	// A key file in the image whose tunnel was never verified: no public
	// key recorded (the kernel derives it), said so.
	st.Keys = append(st.Keys, bootstate.Key{Tunnel: "wg2", File: "/etc/wgboot/wg2.key"})
	if err := os.WriteFile(state, bootstate.Encode(st), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, out, errOut := run(nil, state); code != 1 || out != pub+"  wg0\nB  wg1\n" || !strings.Contains(errOut, "tunnel wg2: the boot ended before the kernel had its key; `wgboot pubkey /etc/wgboot/wg2.key`") {
		t.Errorf("pubkey with an unknown public key = %d, %q, %q", code, out, errOut)
	}
	if err := os.WriteFile(state, bootstate.Encode(&bootstate.State{}), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, _, errOut := run(nil, state); code != 1 || !strings.Contains(errOut, "records no key file") {
		t.Errorf("pubkey without keys in the state file = %d, %q", code, errOut)
	}
	if code, _, _ := run([]string{"-x"}, state); code != 2 {
		t.Errorf("pubkey -x = %d, want 2", code)
	}
}
