package cli

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wgboot/wgboot/board"
)

// mutations are edits of one line of a wg-quick file, the kinds of thing
// people and programs do to them: blanks in odd places, other spellings of
// numbers, endpoints and prefixes, stray commas, other cases, headers
// wg-quick does not recognise. The values come from the ones measured by
// hand against wg(8) while writing wgsyntax.go.
var (
	numberValues   = []string{"0x19", "0X20", "025", "+5", "-1", "65536", "123456", "off", "OFF", "0", "0x", "4294967296", "1 2", "", "0xffffffff", "08", "domain"}
	endpointValues = []string{"2001:db8:43::1:51820", "[2001:db8::1]:51820", "198.51.100.68 : 51867", "127.1:51820", "0x7f.1:51820",
		"[192.0.2.1]:51820", "192.0.2.1", "[::1]", "192.0.2.256:1", "192.0.2.1:0", "192.0.2.1:70000", "192.0.2.1:+7", "[fe80::1%lo]:51820",
		"192.0.2.1:051820", "2130706433:1", "[::ffff:192.0.2.1]:5", "::1:51820", ":51820", "[]:1"}
	prefixValues = []string{"10.0.0.0/8,", "10.0.0.0/08", "10.0.0.1/24", "010.0.0.0/8", "::/0", "0.0.0.0/0, ::/0", "10.0.0.0/33",
		"fe80::/64%lo", "+10.0.0.0/8", "10.0.0.0 / 8", ",10.0.0.0/8", "10.0.0.0/8,,10.1.0.0/16", "::ffff:10.0.0.0/104", "10.0.0.0/", "1.2.3.4/32, 1.2.3.4"}
	wgQuickValues = []string{"off", "Off", "auto", "Auto", "main", "1234", "0x10", "vpn", "", "0", "true", "True", "false", "yes", "1280", "01420", "10.0.0.2/24 fd00::2/64,"}
	headers       = []string{"[Peer]", "[ Peer ]", "[peer]", "[Peers]", "[Interface]", "[ Interface ]", "[INTERFACE]", "[Interface] # x"}
)

// mutate returns data with one to three lines edited.
func mutate(r *rand.Rand, data []byte) []byte {
	lines := strings.Split(string(data), "\n")
	for range 1 + r.IntN(3) {
		i := r.IntN(len(lines))
		l := lines[i]
		key, value, hasEq := strings.Cut(l, "=")
		pick := func(vs []string) string { return vs[r.IntN(len(vs))] }
		switch r.IntN(16) {
		case 0:
			p := r.IntN(len(l) + 1)
			l = l[:p] + " " + l[p:]
		case 1:
			p := r.IntN(len(l) + 1)
			l = l[:p] + "\t" + l[p:]
		case 2:
			if hasEq {
				l = key + "=\u00a0" + strings.TrimSpace(value)
			}
		case 3:
			l = strings.ToUpper(key)
			if hasEq {
				l += "=" + value
			}
		case 4:
			l += ","
		case 5:
			l = strings.Replace(l, ",", ",,", 1)
		case 6:
			if hasEq {
				l = key + "="
			}
		case 7:
			l = strings.Replace(l, "=", " ", 1)
		case 8:
			if hasEq {
				l = key + "= " + pick(numberValues)
			}
		case 9:
			if hasEq {
				l = key + "= " + pick(endpointValues)
			}
		case 10:
			if hasEq {
				l = key + "= " + pick(prefixValues)
			}
		case 11:
			if hasEq {
				l = key + "= " + pick(wgQuickValues)
			}
		case 12:
			if strings.HasPrefix(strings.TrimSpace(l), "[") {
				l = pick(headers)
			} else {
				lines = append(lines[:i+1], lines[i:]...) // the line twice
			}
		case 13:
			p := r.IntN(len(l) + 1)
			l = l[:p] + "#" + l[p:]
		case 14:
			lines = append(lines[:i], lines[i+1:]...)
			continue
		case 15:
			// Another line's key with this value: a key in the wrong
			// section, or a peer's public key given twice.
			other := lines[r.IntN(len(lines))]
			if k, _, ok := strings.Cut(other, "="); ok && hasEq {
				l = k + "=" + value
			}
		}
		if i < len(lines) {
			lines[i] = l
		}
	}
	return []byte(strings.Join(lines, "\n"))
}

// TestWGModelReference checks wgModel, and import, against wg itself on
// the corpus and on 250 files made from it by mutate (the same ones on
// every run): where the model can tell (no lookups), wg-quick strip + wg
// setconf must accept exactly what the model accepts and configure the
// device it predicts; and what import accepts, wg must accept with the
// device import's profile describes. This is what keeps FuzzImport's model
// honest.
func TestWGModelReference(t *testing.T) {
	if testing.Short() {
		t.Skip("the reference runs wg-quick in namespaces; skipped in -short mode")
	}
	ref := newReference(t)
	in := t.TempDir()
	files := map[string][]byte{}
	var seeds [][]byte
	for _, f := range loadCorpus(t) {
		if f.wgOnly {
			continue // too slow for wg-quick (see the file)
		}
		seeds = append(seeds, f.data)
		if interfaceNameRE.MatchString(f.name + ".conf") {
			files[f.name] = f.data
		}
	}
	r := rand.New(rand.NewPCG(15, 17))
	for i := range 250 {
		files[fmt.Sprintf("m%03d", i)] = mutate(r, seeds[r.IntN(len(seeds))])
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(in, name+".conf"), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	out := ref.batch(t, in)
	read := func(name string) string {
		b, _ := os.ReadFile(filepath.Join(out, name))
		return string(b)
	}
	var compared, accepted, skipped int
	for name, data := range files {
		m := wgModel(name+".conf", data)
		wgOK := strings.TrimSpace(read(name+".strip.rc")) == "0" && strings.TrimSpace(read(name+".setconf.rc")) == "0"
		code, stdout, errOut := run(t, "import", filepath.Join(in, name+".conf"))
		// A host name wg cannot resolve here is still a profile's
		// endpoint: the boot resolves it.
		if code == ExitOK && !wgOK && !m.named {
			t.Errorf("%s: import accepts what wg rejects (%s):\n%s", name, read(name+".setconf.err"), data)
		}
		if code == ExitOK && wgOK {
			p, ds := board.Parse("imported.toml", []byte(stdout))
			if p == nil || ds.HasErrors() {
				t.Fatalf("%s: profile does not parse: %v", name, ds.Err())
			}
			tun := &p.Tunnels[0]
			want := resolveNames(t, deviceOf(t, tun, ""))
			got := parseShowconf(t, read(name+".showconf"))
			if tun.PrivateKeyFile != "" {
				got.PrivateKey = ""
			}
			if tun.Table != board.TableOff && tun.Table != board.TableMain && tun.FwMark == defaultPolicyTable && got.FwMark == 0 {
				got.FwMark = defaultPolicyTable // wg-quick up's, not setconf's
			}
			if d := sameDevice(want, got); d != "" {
				t.Errorf("%s: import and wg differ: %s\nimport stderr:\n%s\nfile:\n%s", name, d, errOut, data)
			}
		}
		if m.indeterminate {
			skipped++
			continue
		}
		compared++
		switch {
		case m.ok != wgOK:
			t.Errorf("%s: the model says ok=%v (%s), wg says ok=%v (%s%s)\nfile:\n%s", name, m.ok, m.why, wgOK, read(name+".strip.err"), read(name+".setconf.err"), data)
		case m.ok:
			accepted++
			if d := sameDevice(m.dev, parseShowconf(t, read(name+".showconf"))); d != "" {
				t.Errorf("%s: the model and wg configure different devices: %s\nfile:\n%s", name, d, data)
			}
		}
	}
	t.Logf("%d files: %d compared with the model (%d accepted by both), %d needing a lookup", len(files), compared, accepted, skipped)
	if compared < len(files)/2 {
		t.Errorf("only %d of %d files could be compared", compared, len(files))
	}
}

// batch runs wg-quick strip, wg setconf and wg showconf on every .conf
// file in dir, in one set of namespaces, and returns the directory of
// results: NAME.strip.rc, NAME.strip.err, NAME.setconf.rc, NAME.setconf.err
// and NAME.showconf.
func (r *reference) batch(t *testing.T, dir string) string {
	t.Helper()
	out := t.TempDir()
	var b bytes.Buffer
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "unshare", "--pid", "--fork", "--kill-child", "--net", "--mount", "bash", filepath.Join(r.dir, "ref.sh"), "batch", dir, "ref", out, r.data)
	cmd.Env = r.env
	cmd.Stdout, cmd.Stderr = &b, &b
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Run(); err != nil {
		t.Fatalf("reference batch: %v\n%s", err, b.String())
	}
	return out
}
