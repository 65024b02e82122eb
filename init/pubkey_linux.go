package main

import (
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/wgboot/wgboot/internal/bootstate"
	"github.com/wgboot/wgboot/internal/wgkey"
)

// showPubkey is `wgboot pubkey [KEYFILE...]` on the device: without
// arguments, each tunnel's public key as the state file records it ("KEY
// TUNNEL", one a line), for enrolling the board at its hub; with key
// files, the public key of each ("KEY FILE"). Private keys never leave
// the files.
func showPubkey(stdout, stderr io.Writer, args []string) int {
	return pubkeys(stdout, stderr, args, statePath)
}

// pubkeys is showPubkey with the state file at state.
func pubkeys(stdout, stderr io.Writer, args []string, state string) int {
	for _, a := range args {
		if strings.HasPrefix(a, "-") {
			fmt.Fprintln(stderr, "usage: wgboot pubkey [KEYFILE...]")
			return 2
		}
	}
	if len(args) == 0 {
		data, err := os.ReadFile(state)
		if err != nil {
			fmt.Fprintln(stderr, "wgboot pubkey:", err)
			return 1
		}
		keys, err := bootstate.DecodeKeys(data)
		if err != nil {
			fmt.Fprintf(stderr, "wgboot pubkey: %s: %v\n", state, err)
			return 1
		}
		if len(keys) == 0 {
			fmt.Fprintf(stderr, "wgboot pubkey: %s records no key file; `wgboot show` shows the tunnels' public keys\n", state)
			return 1
		}
		code := 0
		for _, k := range keys {
			if k.PublicKey == "" {
				// A key file in the image: its public key is the
				// kernel's, recorded once the tunnel was verified.
				fmt.Fprintf(stderr, "wgboot pubkey: tunnel %s: the boot ended before the kernel had its key; `wgboot pubkey %s` derives it\n", k.Tunnel, k.File)
				code = 1
				continue
			}
			fmt.Fprintf(stdout, "%s  %s\n", k.PublicKey, k.Tunnel)
		}
		return code
	}
	code := 0
	for _, name := range args {
		k, _, err := wgkey.ReadPrivateKeyFile(name)
		if err != nil {
			fmt.Fprintln(stderr, "wgboot pubkey:", err)
			code = 1
			continue
		}
		fmt.Fprintf(stdout, "%s  %s\n", k.PublicKey(), name)
		k.Zero()
	}
	return code
}
