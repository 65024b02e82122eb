package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/wgboot/wgboot/board"
	"github.com/wgboot/wgboot/internal/bootstate"
	"github.com/wgboot/wgboot/internal/persist"
	"github.com/wgboot/wgboot/internal/wgkey"
)

// keysUp reads the tunnels' key files on the config partition, which the
// profile phase left for now, and makes a private key where one is
// missing and the tunnel has generate_key. It runs after the crng phase:
// a key is made only from a seeded CRNG. It records every tunnel's key
// file by its public key for the state file.
func (b *boot) keysUp(ctx context.Context) (func(), error) {
	p := b.profile
	got, err := loadPartitionKeys(p, path.Join(fsRoot, persist.Dir), b.log, crngReady)
	onDrop(ctx, got.wipe) // the keys the commit hands over, should it be dropped
	return func() {
		b.state.Keys = got.state
		if err != nil {
			return
		}
		for i, k := range got.priv {
			p.Tunnels[i].SetPrivateKey(k, got.pub[i])
		}
		for ij, k := range got.psk {
			p.Tunnels[ij[0]].Peers[ij[1]].PresharedKey = k
		}
	}, err
}

// keysLog is what loadPartitionKeys logs to (internal/kmsg's Logger).
type keysLog interface {
	Warnf(format string, args ...any)
	Outcomef(level int, format string, args ...any)
}

// partitionKeys are the keys read from or made on the config partition,
// by tunnel (and peer) index, the public keys of those private keys, and
// every tunnel's key for the state file.
type partitionKeys struct {
	priv  map[int]wgkey.PrivateKey
	pub   map[int]wgkey.Key
	psk   map[[2]int]wgkey.PresharedKey
	state []bootstate.Key
}

// wipe zeroes the keys, for a phase that failed or whose commit is
// dropped.
func (k *partitionKeys) wipe() {
	for _, key := range k.priv {
		key.Zero()
	}
	for _, key := range k.psk {
		key.Zero()
	}
}

// onPartition returns the file below dir that a key path on the config
// partition (/persist/…) names, or false for a key file elsewhere.
func onPartition(name, dir string) (string, bool) {
	rel, ok := strings.CutPrefix(path.Clean(name), persist.Dir+"/")
	if !ok || !path.IsAbs(name) {
		return "", false
	}
	return path.Join(dir, rel), true
}

// loadPartitionKeys reads p's key files on the config partition, mounted
// at dir, and makes each missing private key whose tunnel has
// generate_key, if ready says the CRNG is seeded. A key file that exists
// but cannot be read or holds no key is never replaced: that would give
// the board a new identity that its hub does not know. The new key's
// public key goes to the console, to the state file and next to the key
// as a .pub file.
func loadPartitionKeys(p *board.Profile, dir string, log keysLog, ready func() bool) (partitionKeys, error) {
	got := partitionKeys{priv: map[int]wgkey.PrivateKey{}, pub: map[int]wgkey.Key{}, psk: map[[2]int]wgkey.PresharedKey{}}
	fail := func(err error) (partitionKeys, error) {
		got.wipe()
		got.priv, got.pub, got.psk = nil, nil, nil
		return got, err
	}
	for i := range p.Tunnels {
		t := &p.Tunnels[i]
		for j := range t.Peers {
			file, ok := onPartition(t.Peers[j].PresharedKeyFile, dir)
			if !ok {
				continue
			}
			k, mode, err := wgkey.ReadPresharedKeyFile(file)
			if err != nil {
				return fail(fmt.Errorf("tunnel %s: peer %d: preshared_key_file %s: %w", t.Name, j, t.Peers[j].PresharedKeyFile, plainErr(err)))
			}
			warnMode(log, t.Peers[j].PresharedKeyFile, mode)
			got.psk[[2]int{i, j}] = k
		}
		if t.PrivateKeyFile == "" {
			continue
		}
		key := t.PrivateKey
		file, ok := onPartition(t.PrivateKeyFile, dir)
		generated := false
		if ok {
			k, mode, err := wgkey.ReadPrivateKeyFile(file)
			switch {
			case err == nil:
				warnMode(log, t.PrivateKeyFile, mode)
			case errors.Is(err, fs.ErrNotExist) && t.GenerateKey:
				if k, err = makeKey(file, ready); err != nil {
					return fail(fmt.Errorf("tunnel %s: generate_key: %w", t.Name, err))
				}
				generated = true
			case errors.Is(err, fs.ErrNotExist):
				return fail(fmt.Errorf("tunnel %s: private_key_file %s: no such file, and generate_key is off", t.Name, t.PrivateKeyFile))
			default:
				return fail(fmt.Errorf("tunnel %s: private_key_file %s: %w; kept as it is: a new key would re-key the board (remove the file to make one)",
					t.Name, t.PrivateKeyFile, plainErr(err)))
			}
			got.priv[i] = k
			key = k
		}
		// The derivation is an X25519 multiplication, about a million
		// instructions. A key on the config partition is derived here,
		// for its .pub file, and handed on to the tunnel with it
		// (SetPrivateKey); for any other the state file gets the key the
		// kernel derives, in the verify phase (setKeyPublic).
		pub, known := t.KnownPublicKey()
		if ok && !known {
			pub = key.PublicKey()
		}
		if ok {
			got.pub[i] = pub
		}
		entry := bootstate.Key{Tunnel: t.Name, File: t.PrivateKeyFile, Generated: generated}
		if !pub.IsZero() {
			entry.PublicKey = pub.String()
		}
		got.state = append(got.state, entry)
		if generated {
			log.Outcomef(levelInfo, "tunnel %s: new key, public key %s in %s", t.Name, pub, t.PrivateKeyFile)
		}
		if ok {
			publish(log, pubFile(file), pub)
		}
	}
	return got, nil
}

// makeKey makes a private key from the kernel's CRNG and writes it to
// file, mode 0600, atomically and never over an existing file.
func makeKey(file string, ready func() bool) (wgkey.PrivateKey, error) {
	if !ready() {
		return wgkey.PrivateKey{}, errors.New("the kernel's CRNG is not seeded yet: no key is made from it")
	}
	k, err := wgkey.GeneratePrivateKey()
	if err != nil {
		return wgkey.PrivateKey{}, err
	}
	text := k.FileText()
	err = persist.CreateFile(file, text, 0o600)
	clear(text)
	if err != nil {
		k.Zero()
		return wgkey.PrivateKey{}, err
	}
	return k, nil
}

// pubFile is where a key file's public key is published: wg0.key →
// wg0.pub, any other name with .pub added.
func pubFile(keyFile string) string {
	return strings.TrimSuffix(keyFile, ".key") + ".pub"
}

// publish writes the public key next to its key file, unless the file
// already says it: flash wears, and the key rarely changes.
func publish(log keysLog, file string, pub wgkey.Key) {
	text := pub.String() + "\n"
	if old, err := os.ReadFile(file); err == nil && string(old) == text {
		return
	}
	if err := persist.WriteFile(file, []byte(text), 0o644); err != nil {
		log.Warnf("publish the public key: %v", err)
	}
}

func warnMode(log keysLog, name string, mode fs.FileMode) {
	if mode&0o077 != 0 {
		log.Warnf("key file %s has mode %#o: group or other can read it", name, mode)
	}
}

// plainErr drops the path that an fs.PathError repeats.
func plainErr(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// crngReady reports whether the kernel's CRNG is seeded: getrandom(2)
// without blocking succeeds.
func crngReady() bool {
	var b [1]byte
	_, err := unix.Getrandom(b[:], unix.GRND_NONBLOCK)
	return err == nil
}
