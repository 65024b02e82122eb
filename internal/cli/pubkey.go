package cli

import (
	"bytes"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/wgboot/wgboot/internal/wgkey"
)

// Pubkey prints the public key of each private key file named in args, one
// per line, or of the private key on stdin when there is none (as wg
// pubkey does). With several files each line is "KEY  FILE". A key that
// group or other can read is warned about on stderr. No key material is
// ever printed but the public keys.
func Pubkey(stdin io.Reader, stdout, stderr io.Writer, args []string) int {
	for _, a := range args {
		if strings.HasPrefix(a, "-") && a != "-" {
			fmt.Fprint(stderr, usage())
			return ExitUsage
		}
	}
	if len(args) == 0 {
		args = []string{"-"}
	}
	code := ExitOK
	for _, name := range args {
		var (
			k    wgkey.PrivateKey
			mode fs.FileMode
			err  error
		)
		if name == "-" {
			k, err = readKeyStdin(stdin)
		} else {
			k, mode, err = wgkey.ReadPrivateKeyFile(name)
		}
		if err != nil {
			fmt.Fprintf(stderr, "wgboot pubkey: %v\n", err)
			code = ExitFail
			continue
		}
		pub := k.PublicKey()
		k.Zero()
		if mode&0o077 != 0 {
			fmt.Fprintf(stderr, "wgboot pubkey: warning: %s has mode %#o: group or other can read the private key\n", name, mode)
		}
		if len(args) > 1 {
			fmt.Fprintf(stdout, "%s  %s\n", pub, filepath.Clean(name))
		} else {
			fmt.Fprintln(stdout, pub)
		}
	}
	return code
}

// readKeyStdin reads one private key from r.
func readKeyStdin(r io.Reader) (wgkey.PrivateKey, error) {
	buf := make([]byte, wgkey.MaxFileSize+1)
	defer clear(buf)
	n, err := io.ReadFull(r, buf)
	if err == nil {
		return wgkey.PrivateKey{}, fmt.Errorf("stdin: larger than %d bytes: not a key", wgkey.MaxFileSize)
	}
	if err != io.EOF && err != io.ErrUnexpectedEOF {
		return wgkey.PrivateKey{}, fmt.Errorf("stdin: %w", err)
	}
	k, err := wgkey.ParsePrivateKeyBytes(bytes.TrimSpace(buf[:n]))
	if err != nil {
		return wgkey.PrivateKey{}, fmt.Errorf("stdin: %w", err)
	}
	return k, nil
}

// stdin is what pubkey reads without arguments; tests replace it.
var stdin io.Reader = os.Stdin
