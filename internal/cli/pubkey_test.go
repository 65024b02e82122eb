package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wgboot/wgboot/internal/wgkey"
)

func TestPubkey(t *testing.T) {
	k, err := wgkey.GeneratePrivateKey()
	if err != nil {
		t.Fatal(err)
	}
	text := k.FileText()
	pub := k.PublicKey().String()
	dir := t.TempDir()
	good := filepath.Join(dir, "wg0.key")
	if err := os.WriteFile(good, text, 0o600); err != nil {
		t.Fatal(err)
	}
	open := filepath.Join(dir, "open.key")
	if err := os.WriteFile(open, text, 0o644); err != nil {
		t.Fatal(err)
	}
	os.Chmod(open, 0o644)
	bad := filepath.Join(dir, "bad.key")
	if err := os.WriteFile(bad, []byte("not a key\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	secret := strings.TrimSpace(string(text))
	for _, c := range []struct {
		name       string
		args       []string
		stdin      string
		code       int
		out, errRe string
	}{
		{"file", []string{good}, "", ExitOK, pub + "\n", ""},
		{"stdin", nil, "  " + secret + "\n", ExitOK, pub + "\n", ""},
		{"dash", []string{"-"}, secret, ExitOK, pub + "\n", ""},
		{"two files", []string{good, open}, "", ExitOK, pub + "  " + good + "\n" + pub + "  " + open + "\n", "mode 0644"},
		{"malformed", []string{bad}, "", ExitFail, "", "invalid key"},
		{"missing and good", []string{filepath.Join(dir, "none"), good}, "", ExitFail, pub + "  " + good + "\n", "no such file"},
		{"bad stdin", nil, "hello", ExitFail, "", "stdin: invalid key"},
		{"flag", []string{"-x"}, "", ExitUsage, "", "usage:"},
	} {
		t.Run(c.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			code := Pubkey(strings.NewReader(c.stdin), &out, &errOut, c.args)
			if code != c.code || out.String() != c.out || !strings.Contains(errOut.String(), c.errRe) {
				t.Errorf("Pubkey(%q) = %d, stdout %q, stderr %q; want %d, %q, stderr with %q", c.args, code, out.String(), errOut.String(), c.code, c.out, c.errRe)
			}
			if strings.Contains(out.String()+errOut.String(), secret[:12]) {
				t.Errorf("Pubkey(%q) printed the private key", c.args)
			}
		})
	}
}
