package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wgboot/wgboot/board"
)

// FuzzImport feeds import arbitrary files named wg0.conf and checks, for
// each, what holds for every import (checkImport: nothing on stdout after
// a failure, only warnings after a success, a profile that parses, no key
// material on stderr) and that import never accepts what wg rejects: when
// import succeeds, wgModel — a model of `wg-quick strip | wg setconf`,
// checked against the real tools by TestWGModelReference — must accept
// the file too and configure the same device (private key, port, fwmark
// after `wg-quick up`, and every peer's keys, endpoint, allowed IPs and
// keepalive). It does not check the other direction: import may refuse
// what wg accepts, as long as it says why (the unit tests and the corpus
// check those messages). Nor does it model `wg-quick up`'s routes, which
// TestImportReference compares on the corpus only.
//
// Seeds: the corpus and the files of TestImport.
func FuzzImport(f *testing.F) {
	for _, pattern := range []string{"testdata/corpus/*.conf", "testdata/import/*.conf"} {
		paths, _ := filepath.Glob(pattern)
		for _, p := range paths {
			if strings.HasSuffix(p, "split-long.conf") {
				continue // 75 KB: a poor seed to mutate
			}
			data, err := os.ReadFile(p)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(data)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(t.TempDir(), "wg0.conf")
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		var out, errOut bytes.Buffer
		code := Import(&out, &errOut, path)
		checkImport(t, code, out.String(), errOut.String())
		if code != ExitOK {
			return
		}
		m := wgModel("wg0.conf", data)
		if !m.ok {
			t.Fatalf("import accepted a file that wg rejects (%s):\n%q", m.why, data)
		}
		// A host name endpoint is kept for the boot to resolve: the
		// profile has the name where wg has what it resolves to.
		if m.indeterminate && !m.named {
			t.Fatalf("import accepted a file that needs a resolver:\n%q", data)
		}
		p, _ := board.Parse("imported.toml", out.Bytes())
		tun := &p.Tunnels[0]
		want := deviceOf(t, tun, "")
		got := m.dev
		got.FwMark = m.upFwMark
		if tun.PrivateKeyFile != "" {
			// The key comes from a hook; setconf leaves none.
			if got.PrivateKey != "" {
				t.Fatalf("import took the private key from a hook although the file sets one:\n%q", data)
			}
		}
		if d := sameDevice(want, got); d != "" {
			t.Fatalf("import and wg configure different devices: %s\n%q", d, data)
		}
	})
}
