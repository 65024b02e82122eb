package cli

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/wgboot/wgboot/board"
)

var update = flag.Bool("update", false, "update the golden files of TestImport")

// secrets are substrings of the test keys; no output may contain them.
var secrets = []string{"d2dib290IFRFU1Q", "correct horse"}

func run(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = Run(&out, &errOut, args)
	for _, s := range secrets {
		if strings.Contains(out.String(), s) && args[0] != "import" || strings.Contains(errOut.String(), s) {
			t.Errorf("Run(%q) printed key material %q:\n%s%s", args, s, out.String(), errOut.String())
		}
	}
	return code, out.String(), errOut.String()
}

func TestRun_usage(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want int
	}{
		{"no command", nil, ExitUsage},
		{"unknown command", []string{"frobnicate"}, ExitUsage},
		{"help", []string{"help"}, ExitOK},
		{"check without profiles", []string{"check"}, ExitUsage},
		{"check with an unknown flag", []string{"check", "-x", "a.toml"}, ExitUsage},
		{"check with a bad root", []string{"check", "-root", "/nonexistent/dir", "a.toml"}, ExitUsage},
		{"check with a bad persist", []string{"check", "-persist", "/nonexistent/dir", "a.toml"}, ExitUsage},
		{"import without a file", []string{"import"}, ExitUsage},
		{"import with two files", []string{"import", "a", "b"}, ExitUsage},
		{"import with a flag", []string{"import", "-x"}, ExitUsage},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			if got := Run(&out, &errOut, tt.args); got != tt.want {
				t.Errorf("Run(%q) = %d, want %d; stderr:\n%s", tt.args, got, tt.want, errOut.String())
			}
			if tt.want == ExitUsage && !strings.Contains(errOut.String(), "usage:") {
				t.Errorf("Run(%q) printed no usage; stderr:\n%s", tt.args, errOut.String())
			}
		})
	}
}

// TestCheck_profiles is the acceptance test: the shipped profiles pass.
func TestCheck_profiles(t *testing.T) {
	files, err := filepath.Glob("../../board/profiles/*.toml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no profiles: %v", err)
	}
	code, out, _ := run(t, append([]string{"check"}, files...)...)
	if code != ExitOK {
		t.Errorf("check %v = %d, want %d; output:\n%s", files, code, ExitOK, out)
	}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		if line != "" && !strings.Contains(line, ": warning: ") {
			t.Errorf("unexpected problem: %s", line)
		}
	}

	// docs/profile.md shows this run's output: each line it quotes is
	// one the check prints, at the same line and column.
	doc, err := os.ReadFile("../../docs/profile.md")
	if err != nil {
		t.Fatal(err)
	}
	got := strings.ReplaceAll(out, "../../board/profiles/", "board/profiles/")
	quoted := 0
	for _, line := range strings.Split(string(doc), "\n") {
		if !strings.HasPrefix(line, "board/profiles/") {
			continue
		}
		quoted++
		if strings.Contains(line, "keys/hub.key has mode") {
			// A checkout that keeps the key private prints no warning.
			if fi, err := os.Stat("../../board/profiles/keys/hub.key"); err == nil && fi.Mode().Perm()&0o077 == 0 {
				continue
			}
		}
		if !strings.Contains(got, line+"\n") {
			t.Errorf("docs/profile.md quotes a line the check does not print:\n%s\ncheck printed:\n%s", line, got)
		}
	}
	if quoted == 0 {
		t.Error("docs/profile.md quotes no line of the check of board/profiles")
	}
}

var wantLine = regexp.MustCompile(`(?m)^# want(?: warning)?: (\d+):(\d+) (\S+) `)

// TestCheck_invalid checks that every invalid profile fails and that each
// expected problem is printed as file:line:col: field: message.
func TestCheck_invalid(t *testing.T) {
	files, err := filepath.Glob("../../board/testdata/invalid/*.toml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no testdata: %v", err)
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			code, out, _ := run(t, "check", file)
			if code != ExitFail {
				t.Errorf("check %s = %d, want %d", file, code, ExitFail)
			}
			for _, m := range wantLine.FindAllStringSubmatch(string(data), -1) {
				prefix := file + ":" + m[1] + ":" + m[2] + ": "
				if m[3] != "-" {
					prefix += m[3] + ": "
				}
				if !strings.Contains(out, "\n"+prefix) && !strings.HasPrefix(out, prefix) {
					t.Errorf("output lacks a line starting %q:\n%s", prefix, out)
				}
			}
		})
	}
}

func TestCheck_valid(t *testing.T) {
	files, _ := filepath.Glob("../../board/testdata/valid/*.toml")
	for _, file := range files {
		// One at a time: together, several match the same board.
		if code, out, _ := run(t, "check", file); code != ExitOK {
			t.Errorf("check %s = %d, want %d:\n%s", file, code, ExitOK, out)
		}
	}
	code, _, _ := run(t, "check", "-strict", "../../board/testdata/valid/warnings.toml")
	if code != ExitFail {
		t.Errorf("check -strict with warnings = %d, want %d", code, ExitFail)
	}
	code, out, _ := run(t, "check", "../../board/testdata/valid/minimal.toml", "no-such-file.toml")
	if code != ExitFail || !strings.HasPrefix(out, "no-such-file.toml: cannot read") && !strings.Contains(out, "\nno-such-file.toml: cannot read") {
		t.Errorf("check of a missing file = %d, output:\n%s", code, out)
	}
}

func TestCheck_root(t *testing.T) {
	dir := t.TempDir()
	keyDir := filepath.Join(dir, "image", "etc", "wgboot")
	if err := os.MkdirAll(keyDir, 0o755); err != nil {
		t.Fatal(err)
	}
	profile := filepath.Join(dir, "p.toml")
	text := `[board]
name = "root"
[uplink]
interface = "eth0"
address = ["192.0.2.2/24"]
[[tunnel]]
name = "wg0"
private_key_file = "/etc/wgboot/wg0.key"
[[tunnel.peer]]
public_key = "ho3m6xXZ1V3QYg080KspEDJpRrjIn5MB+nIckvhpe0Y="
allowed_ips = ["10.9.0.0/24"]
`
	if err := os.WriteFile(profile, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	// Without -root the key is looked for next to the profile: a warning.
	code, out, _ := run(t, "check", profile)
	if code != ExitOK || !strings.Contains(out, "warning: /etc/wgboot/wg0.key is not on this host") {
		t.Errorf("check without -root = %d:\n%s", code, out)
	}
	// With -root a missing key is an error...
	code, out, _ = run(t, "check", "-root", filepath.Join(dir, "image"), profile)
	if code != ExitFail || !strings.Contains(out, profile+":8:20: tunnel[0].private_key_file: /etc/wgboot/wg0.key: stat:") {
		t.Errorf("check -root without the key = %d:\n%s", code, out)
	}
	// ...and a present but readable one a warning; its content is not printed.
	if err := os.WriteFile(filepath.Join(keyDir, "wg0.key"), []byte("d2dib290IFRFU1Qga2V5OiB0ZXN0ZGF0YSAjIyMjIyM=\n"), 0o640); err != nil {
		t.Fatal(err)
	}
	code, out, _ = run(t, "check", "-root", filepath.Join(dir, "image"), profile)
	if code != ExitOK || !strings.Contains(out, "mode 0640") {
		t.Errorf("check -root with a group-readable key = %d:\n%s", code, out)
	}
}

func TestCheck_conflicts(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"a.toml", "b.toml"} {
		data, err := os.ReadFile("../../board/testdata/valid/minimal.toml")
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Mkdir(filepath.Join(dir, "keys"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "keys", "test.key"), []byte("d2dib290IFRFU1Qga2V5OiB0ZXN0ZGF0YSAjIyMjIyM=\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, _ := run(t, "check", filepath.Join(dir, "a.toml"), filepath.Join(dir, "b.toml"))
	if code != ExitFail || !strings.Contains(out, "b.toml:3:8: board.name: \"minimal\" is also the name of") {
		t.Errorf("check of two profiles with one name = %d:\n%s", code, out)
	}
}

// TestImport converts real wg-quick files and compares stdout and stderr
// with golden files; go test -update rewrites them.
func TestImport(t *testing.T) {
	tests := []struct {
		conf string
		code int
	}{
		{"wg0.conf", ExitOK},
		{"hub.conf", ExitOK},
		{"hostname.conf", ExitOK},
		{"broken.conf", ExitFail},
	}
	for _, tt := range tests {
		t.Run(tt.conf, func(t *testing.T) {
			path := filepath.Join("testdata", "import", tt.conf)
			code, out, errOut := run(t, "import", path)
			if code != tt.code {
				t.Errorf("import %s = %d, want %d; stderr:\n%s", path, code, tt.code, errOut)
			}
			base := strings.TrimSuffix(path, ".conf")
			golden(t, base+".toml.golden", out)
			golden(t, base+".stderr.golden", errOut)
			if tt.code != ExitOK {
				if out != "" {
					t.Errorf("failed import wrote to stdout:\n%s", out)
				}
				return
			}
			// The result parses cleanly; only the tables wg-quick has no
			// counterpart for are left to fill in.
			p, ds := board.Parse("imported.toml", []byte(out))
			if p == nil || ds.HasErrors() {
				t.Fatalf("imported profile does not parse: %v", ds.Err())
			}
			for _, d := range p.Validate() {
				if d.Severity == board.SeverityError && !strings.HasPrefix(d.Path, "board.") && !strings.HasPrefix(d.Path, "uplink.") {
					t.Errorf("imported profile: %v", d)
				}
			}
		})
	}
}

func golden(t *testing.T, file, got string) {
	t.Helper()
	if *update {
		if err := os.WriteFile(file, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs (-want +got):\n-%s\n+%s", file, strings.ReplaceAll(string(want), "\n", "\n-"), strings.ReplaceAll(got, "\n", "\n+"))
	}
}

// TestCheck_persist checks a staged config partition with -persist: its
// profiles as the board reads them, and its key files.
func TestCheck_persist(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string, mode os.FileMode) {
		t.Helper()
		name = filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(name, []byte(text), mode); err != nil {
			t.Fatal(err)
		}
	}
	const tunnel = `[uplink]
interface = "eth0"
address = ["192.0.2.2/24"]
[[tunnel]]
name = "wg0"
private_key_file = "/persist/wg0.key"
`
	const peer = `[[tunnel.peer]]
public_key = "ho3m6xXZ1V3QYg080KspEDJpRrjIn5MB+nIckvhpe0Y="
allowed_ips = ["10.9.0.0/24"]
`
	image := filepath.Join(dir, "image", "fleet.toml")
	write("image/fleet.toml", "[board]\nname = \"fleet\"\n[persist]\ndevice = \"LABEL=wgboot\"\nfstype = \"ext4\"\n"+tunnel+"generate_key = true\n"+peer, 0o644)
	part := filepath.Join(dir, "part")
	site := filepath.Join(part, "wgboot", "profiles", "site.toml")
	write("part/wgboot/profiles/site.toml", "[board]\nname = \"default\"\n"+tunnel+"mtu = 9\n"+peer, 0o644)

	// Without -persist, the partition is not looked at.
	code, out, _ := run(t, "check", image)
	if code != ExitOK || out != "" {
		t.Errorf("check without -persist = %d:\n%s", code, out)
	}
	// With it, its profiles are checked as the board's own, after the
	// image's; the key that generate_key makes may be missing, but the
	// partition's profile, without generate_key, needs it.
	code, out, _ = run(t, "check", "-persist", part, image)
	for _, want := range []string{
		site + ":9:7: tunnel[0].mtu: 9 is out of range 68–65535",
		site + ":8:20: tunnel[0].private_key_file: /persist/wg0.key is not on the config partition (and generate_key is off)",
	} {
		if code != ExitFail || !strings.Contains(out, want) {
			t.Errorf("check -persist = %d, want %q in:\n%s", code, want, out)
		}
	}
	if strings.Contains(out, image) {
		t.Errorf("check -persist: the image's profile has no problem:\n%s", out)
	}

	// A key file that is there but no key is an error, in every profile
	// that names it: the board would not replace it. Its content is not
	// printed.
	write("part/wg0.key", "correct horse battery staple\n", 0o600)
	write("part/wgboot/profiles/site.toml", "[board]\nname = \"default\"\n[persist]\ndevice = \"/dev/sda1\"\n"+tunnel+peer, 0o644)
	code, out, _ = run(t, "check", "-persist", part, image)
	for _, want := range []string{
		image + ":11:20: tunnel[0].private_key_file: /persist/wg0.key: invalid key: 28 characters",
		site + ":10:20: tunnel[0].private_key_file: /persist/wg0.key: invalid key: 28 characters",
		site + ":3:1: persist: warning: ignored: this profile is on the config partition",
	} {
		if code != ExitFail || !strings.Contains(out, want) {
			t.Errorf("check -persist with a bad key = %d, want %q in:\n%s", code, want, out)
		}
	}

	// A good key: both pass. Two partition profiles with one name
	// conflict; the image's of the same name does not, it is chosen from
	// apart.
	write("part/wg0.key", "d2dib290IFRFU1Qga2V5OiB0ZXN0ZGF0YSAjIyMjIyM=\n", 0o600)
	write("part/wgboot/profiles/site.toml", "[board]\nname = \"fleet\"\n"+tunnel+peer, 0o644)
	code, out, _ = run(t, "check", "-persist", part, image)
	if code != ExitOK || out != "" {
		t.Errorf("check -persist with a key = %d:\n%s", code, out)
	}
	write("part/wgboot/profiles/zz.toml", "[board]\nname = \"fleet\"\n"+tunnel+peer, 0o644)
	code, out, _ = run(t, "check", "-persist", part, image)
	if code != ExitFail || !strings.Contains(out, "zz.toml:2:8: board.name: \"fleet\" is also the name of "+site) || strings.Count(out, "\n") != 1 {
		t.Errorf("check -persist with two profiles of one name = %d:\n%s", code, out)
	}
}

// TestCheck_image: -image minimal reports a policy that needs the rescue
// tools, at the on_failure key; -image rescue and no -image do not.
func TestCheck_image(t *testing.T) {
	const remote = "../../board/testdata/valid/remote.toml"
	for _, args := range [][]string{{"check", remote}, {"check", "-image", "rescue", remote}} {
		if code, out, _ := run(t, args...); code != ExitOK {
			t.Errorf("%q = %d:\n%s", args, code, out)
		}
	}
	code, out, _ := run(t, "check", "-image", "minimal", remote)
	if want := remote + `:24:14: handoff.on_failure: "remote" needs a rescue image`; code != ExitFail || !strings.Contains(out, want) {
		t.Errorf("check -image minimal = %d, want %d and %q…:\n%s", code, ExitFail, want, out)
	}
	if code, _, _ := run(t, "check", "-image", "tiny", remote); code != ExitUsage {
		t.Errorf("check -image tiny = %d, want %d", code, ExitUsage)
	}
}
