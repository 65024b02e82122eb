package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The corpus in testdata/corpus is wg-quick files modelled on real ones:
// VPN providers' downloads, router and app exports, self-hosted servers and
// hubs, and the mistakes people make in them. Every key in it was made for
// it with wg genkey. Each file starts with comments saying what it is and
// what must become of it:
//
//	# corpus: what the file is
//	# import: ok | fail
//	# reference: same
//	# reference: refuses[: why]
//	# reference: accepts: why import refuses what wg-quick accepts
//	# reference: differs ASPECT[,ASPECT]: what differs and why
//
// "reference" is what `wg-quick strip` + `wg setconf`, and `wg-quick up`,
// make of the file (TestImportReference): "same" means they accept it and
// the interface they set up is the one the profile describes; ASPECT is
// device, addresses, mtu, routes or rules. A file without wg-quick's keys
// may say "# reference-via: wg setconf: why" to be given to wg(8) alone.

// corpusFile is one file of the corpus and its expectations.
type corpusFile struct {
	name string // the interface name: the file name without .conf
	path string
	data []byte

	importOK bool
	ref      string   // same, refuses, accepts or differs
	aspects  []string // for differs
	why      string
	wgOnly   bool // the reference is wg setconf alone, not wg-quick
}

func loadCorpus(t *testing.T) []corpusFile {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join("testdata", "corpus", "*.conf"))
	if err != nil || len(paths) < 40 {
		t.Fatalf("corpus: %d files, want at least 40 (%v)", len(paths), err)
	}
	var out []corpusFile
	for _, path := range paths {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		f := corpusFile{name: strings.TrimSuffix(filepath.Base(path), ".conf"), path: path, data: data}
		head := bytes.TrimPrefix(data, utf8BOM)
		var sawImport bool
		for _, line := range strings.Split(string(head), "\n") {
			line = strings.TrimRight(line, "\r")
			if !strings.HasPrefix(line, "# ") {
				break
			}
			k, v, _ := strings.Cut(line[2:], ": ")
			switch k {
			case "import":
				f.importOK, sawImport = v == "ok", true
			case "reference-via":
				f.wgOnly = strings.HasPrefix(v, "wg setconf: ")
			case "reference":
				kind, why, _ := strings.Cut(v, ": ")
				kind, aspects, _ := strings.Cut(kind, " ")
				f.ref, f.why = kind, why
				if aspects != "" {
					f.aspects = strings.Split(aspects, ",")
				}
			}
		}
		switch {
		case !sawImport || f.ref == "":
			t.Fatalf("%s: no # import: or # reference: line", path)
		case f.ref != "same" && f.ref != "refuses" && f.ref != "accepts" && f.ref != "differs":
			t.Fatalf("%s: reference %q: want same, refuses, accepts or differs", path, f.ref)
		case (f.ref == "accepts" || f.ref == "differs") && f.why == "":
			t.Fatalf("%s: reference %s needs a reason", path, f.ref)
		case f.ref == "accepts" && f.importOK, f.ref == "differs" && (!f.importOK || len(f.aspects) == 0):
			t.Fatalf("%s: reference %s does not fit import: ok=%v", path, f.ref, f.importOK)
		}
		out = append(out, f)
	}
	return out
}

// TestImportCorpus converts every corpus file and compares stdout and
// stderr with testdata/corpus/NAME.golden; go test -update rewrites them.
func TestImportCorpus(t *testing.T) {
	for _, f := range loadCorpus(t) {
		t.Run(f.name, func(t *testing.T) {
			code, out, errOut := run(t, "import", f.path)
			want := ExitFail
			if f.importOK {
				want = ExitOK
			}
			if code != want {
				t.Errorf("import %s = %d, want %d; stderr:\n%s", f.path, code, want, errOut)
			}
			checkImport(t, code, out, errOut)
			for _, k := range secretsOf(f.data) {
				if strings.Contains(errOut, k) {
					t.Errorf("stderr has key material")
				}
			}
			golden(t, strings.TrimSuffix(f.path, ".conf")+".golden", "-- stdout --\n"+out+"-- stderr --\n"+errOut)
		})
	}
}

// secretsOf returns the base64 of every PrivateKey and PresharedKey in a
// wg-quick file, to check that no output but the profile has them.
func secretsOf(data []byte) []string {
	var out []string
	for _, line := range strings.Split(string(data), "\n") {
		k, v, ok := strings.Cut(deleteBlanks(line), "=")
		v = strings.TrimPrefix(v, "\u00a0")
		if ok && (strings.EqualFold(k, "PrivateKey") || strings.EqualFold(k, "PresharedKey")) && len(v) >= 43 {
			out = append(out, v[:43])
		}
	}
	return out
}
