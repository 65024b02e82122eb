package main

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/wgboot/wgboot/board"
	"github.com/wgboot/wgboot/internal/kmsg"
)

// The keys of the tests below, as their files hold them.
const (
	testPrivateKey   = "yAnz5TF+lXXJte14tji3zlMNq+hd2rYUIgJBgB3fBmk="
	testPresharedKey = "AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA="
)

// partitionRoot makes a root directory for the persist and keys phases
// (fsRoot) with the files given below its persist/, for the rest of the
// test.
func partitionRoot(t *testing.T, files map[string]string) {
	t.Helper()
	root := t.TempDir()
	for name, text := range files {
		file := filepath.Join(root, "persist", name)
		if err := os.MkdirAll(filepath.Dir(file), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(file, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	old := fsRoot
	fsRoot = root
	t.Cleanup(func() { fsRoot = old })
}

// runPhase runs a phase through b's runner. In time, the runner makes
// its commit. Late, it returns past a short deadline, and the runner
// drops its commit: runPhase then returns that commit once the phase's
// releases have run, only for the test to look at what it holds.
func runPhase(t *testing.T, b *boot, log *bytes.Buffer, name string, late bool, run func(context.Context) (func(), error)) (dropped func()) {
	t.Helper()
	if !late {
		if err := b.r.run(t.Context(), []phase{{name, run}}); err != nil {
			t.Fatalf("%s: %v\n%s", name, err, log)
		}
		return nil
	}
	ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
	defer cancel()
	returned := make(chan func(), 1)
	wake := make(chan struct{})
	released := make(chan struct{})
	err := b.r.run(ctx, []phase{{name, func(ctx context.Context) (func(), error) {
		// Registered first, released last: after the phase's own.
		onDrop(ctx, func() { close(released) })
		commit, err := run(ctx)
		if err != nil {
			t.Errorf("%s: %v\n%s", name, err, log)
		}
		returned <- commit
		<-wake // past the deadline
		return commit, err
	}}})
	commit := <-returned
	close(wake)
	if !errors.Is(err, errDeadline) {
		t.Fatalf("%s = %v, want the deadline", name, err)
	}
	if commit == nil {
		t.Fatalf("the %s phase returned no commit", name)
	}
	select {
	case <-released:
	case <-time.After(5 * time.Second):
		t.Fatalf("nothing released 5s after the %s phase returned", name)
	}
	return commit
}

// keysProfile names a private and a preshared key file on the config
// partition.
const keysProfile = `[board]
name = "k"
[persist]
device = "LABEL=wgboot"
fstype = "ext4"
[[tunnel]]
name = "wg0"
private_key_file = "/persist/wg0.key"
[[tunnel.peer]]
public_key = "ho3m6xXZ1V3QYg080KspEDJpRrjIn5MB+nIckvhpe0Y="
preshared_key_file = "/persist/wg0.psk"
allowed_ips = ["10.9.0.0/24"]
`

// TestKeysPastDeadline: a keys phase that returns past the deadline has
// its commit dropped; the private and preshared keys it read from the
// config partition, which only that commit would have handed to the
// profile (and the profile's wipe), are zeroed once the phase returns, not
// left in PID 1's memory through the failure policy. In time, the commit
// hands them over, unwiped.
func TestKeysPastDeadline(t *testing.T) {
	partitionRoot(t, map[string]string{"wg0.key": testPrivateKey + "\n", "wg0.psk": testPresharedKey + "\n"})
	for _, late := range []bool{false, true} {
		p, ds := board.Parse("k.toml", []byte(keysProfile))
		if p == nil || ds.HasErrors() {
			t.Fatalf("Parse: %v", ds)
		}
		var log bytes.Buffer
		b := newBoot(kmsg.New("wgboot", &log))
		b.profile = p
		if commit := runPhase(t, b, &log, "keys", late, b.keysUp); commit != nil {
			if len(b.state.Keys) != 0 {
				t.Errorf("the dropped commit was made: state %+v", b.state.Keys)
			}
			commit() // only to look at the keys it holds
		}
		priv, psk := p.Tunnels[0].PrivateKey, p.Tunnels[0].Peers[0].PresharedKey
		switch {
		case !late && (priv.Reveal() != testPrivateKey || psk.Reveal() != testPresharedKey):
			t.Errorf("in time: the profile's keys are not the files' (private set %v, preshared set %v)\n%s", !priv.IsZero(), !psk.IsZero(), log.String())
		case late:
			if !priv.IsZero() {
				t.Error("the dropped keys phase's private key is still in memory")
			}
			if !psk.IsZero() {
				t.Error("the dropped keys phase's preshared key is still in memory")
			}
		}
		p.Wipe()
	}
}

// partitionProfileText is a config partition's profile for board "k",
// with its key files next to it.
const partitionProfileText = `[board]
name = "k"
[[tunnel]]
name = "wg0"
private_key_file = "wg0.key"
[[tunnel.peer]]
public_key = "ho3m6xXZ1V3QYg080KspEDJpRrjIn5MB+nIckvhpe0Y="
preshared_key_file = "wg0.psk"
allowed_ips = ["10.9.0.0/24"]
`

// TestPersistPastDeadline: a persist phase that returns past the deadline
// after reading the config partition's profile for the board has its
// commit dropped: the image's profile keeps running, and the partition's,
// with the keys read for it, is wiped once the phase returns. In time, the
// commit hands it over with its keys. (The phase's mount, which needs a
// disk, is left out: the part after it runs as persistUp runs it.)
func TestPersistPastDeadline(t *testing.T) {
	partitionRoot(t, map[string]string{
		"wgboot/profiles/k.toml":  partitionProfileText,
		"wgboot/profiles/wg0.key": testPrivateKey + "\n",
		"wgboot/profiles/wg0.psk": testPresharedKey + "\n",
	})
	for _, late := range []bool{false, true} {
		img, ds := board.Parse("k.toml", []byte(keysProfile))
		if img == nil || ds.HasErrors() {
			t.Fatalf("Parse: %v", ds)
		}
		var log bytes.Buffer
		b := newBoot(kmsg.New("wgboot", &log))
		b.profile = img
		b.over.Board = "k"
		var chosen *board.Profile
		commit := runPhase(t, b, &log, "persist", late, func(ctx context.Context) (func(), error) {
			chosen, _ = b.partitionProfile(ctx, img)
			if chosen == nil {
				return nil, errors.New("no partition profile chosen")
			}
			return func() { b.image = img; b.useProfile(chosen, "persist") }, nil // persistUp's
		})
		if late && (b.profile != img || b.image != nil) {
			t.Errorf("the dropped commit was made: profile %s", b.profile.File())
		}
		if commit != nil {
			commit() // only to look at the profile it holds
		}
		if b.profile != chosen {
			t.Fatalf("the partition's profile does not run: %s", b.profile.File())
		}
		priv, psk := chosen.Tunnels[0].PrivateKey, chosen.Tunnels[0].Peers[0].PresharedKey
		switch {
		case !late && (priv.Reveal() != testPrivateKey || psk.Reveal() != testPresharedKey):
			t.Errorf("in time: the partition profile's keys are not the files' (private set %v, preshared set %v)\n%s", !priv.IsZero(), !psk.IsZero(), log.String())
		case late:
			if !priv.IsZero() {
				t.Error("the dropped persist phase's profile still holds its private key")
			}
			if !psk.IsZero() {
				t.Error("the dropped persist phase's profile still holds its preshared key")
			}
		}
		chosen.Wipe()
	}
}

// TestPartitionOthersWiped: the config partition's profiles for other
// boards, which the persist phase parses to choose among them, are wiped
// at once, inline keys included, whether one of them is chosen or none.
func TestPartitionOthersWiped(t *testing.T) {
	other := "[board]\nname = \"o\"\n[[tunnel]]\nname = \"wg0\"\nprivate_key = \"" + testPrivateKey + "\"\n"
	partitionRoot(t, map[string]string{
		"wgboot/profiles/k.toml":  partitionProfileText,
		"wgboot/profiles/o.toml":  other,
		"wgboot/profiles/wg0.key": testPrivateKey + "\n",
		"wgboot/profiles/wg0.psk": testPresharedKey + "\n",
	})
	var loaded []*board.Profile
	t.Cleanup(func() { loadProfileDir = board.LoadDir })
	loadProfileDir = func(fsys fs.FS, dir string) ([]*board.Profile, board.Diagnostics) {
		all, ds := board.LoadDir(fsys, dir)
		loaded = append(loaded, all...)
		return all, ds
	}
	img, ds := board.Parse("k.toml", []byte(keysProfile))
	if img == nil || ds.HasErrors() {
		t.Fatalf("Parse: %v", ds)
	}
	for _, pick := range []string{"k", "nothere"} {
		loaded = nil
		var log bytes.Buffer
		b := newBoot(kmsg.New("wgboot", &log))
		b.over.Board = pick
		chosen, _ := b.partitionProfile(t.Context(), img)
		if (chosen != nil) != (pick == "k") {
			t.Fatalf("wgboot.board=%s: chose %v\n%s", pick, chosen != nil, log.String())
		}
		var o *board.Profile
		for _, p := range loaded {
			if p.Board.Name == "o" {
				o = p
			}
		}
		switch {
		case o == nil:
			t.Fatalf("wgboot.board=%s: profile o not loaded\n%s", pick, log.String())
		case !o.Tunnels[0].PrivateKey.IsZero():
			t.Errorf("wgboot.board=%s: the other board's profile still holds its inline private key", pick)
		}
		if chosen != nil {
			if chosen.Tunnels[0].PrivateKey.Reveal() != testPrivateKey {
				t.Errorf("the chosen profile's private key is not its file's")
			}
			chosen.Wipe()
		}
	}
}
