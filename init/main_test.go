package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestUsageDispatches: every command the usage lists runs, and the usage
// lists every command there is; the host's commands are not here.
func TestUsageDispatches(t *testing.T) {
	var out, errb bytes.Buffer
	if code := runCLI(&out, &errb, []string{"help"}); code != 0 {
		t.Fatalf("help: exit %d", code)
	}
	listed := map[string]bool{}
	for _, l := range strings.Split(out.String(), "\n") {
		rest, ok := strings.CutPrefix(l, "  wgboot ")
		if !ok {
			continue
		}
		name, _, _ := strings.Cut(rest, " ")
		listed[name] = true
		found := false
		for _, c := range commands() {
			found = found || c.name == name
		}
		if !found {
			t.Errorf("usage lists %q, which does not dispatch", name)
		}
	}
	for _, c := range commands() {
		if !listed[c.name] {
			t.Errorf("command %q is not in the usage:\n%s", c.name, out.String())
		}
	}
	if want := 5; len(listed) != want && !(remoteBuild && len(listed) == want+1) {
		t.Errorf("usage lists %d commands, want show, state, pubkey, version, help (and retry in a rescue image's /init):\n%s", len(listed), out.String())
	}
	for _, host := range []string{"check", "import", "timeline"} {
		out.Reset()
		errb.Reset()
		if code := runCLI(&out, &errb, []string{host, "x"}); code != 2 || !strings.Contains(errb.String(), "unknown command") {
			t.Errorf("%s: exit %d, stderr %q; want an unknown command", host, code, errb.String())
		}
	}
	if code := runCLI(&out, &errb, nil); code != 2 {
		t.Errorf("no command: exit %d, want 2", code)
	}
}

// TestShowState: on the device, `wgboot state` prints the file as written,
// with no JSON decoder in /init.
func TestShowState(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.json")
	data := "{\n  \"version\": \"v\",\n  \"phases\": null,\n  \"ready\": true\n}"
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	if code := runCLI(&out, &errb, []string{"state", path}); code != 0 || out.String() != data+"\n" {
		t.Errorf("state: exit %d, stdout %q, stderr %q", code, out.String(), errb.String())
	}
	out.Reset()
	if code := runCLI(&out, &errb, []string{"state", filepath.Join(t.TempDir(), "missing")}); code != 1 {
		t.Errorf("state of a missing file: exit %d, want 1", code)
	}
	if code := runCLI(&out, &errb, []string{"state", "-x"}); code != 2 {
		t.Errorf("state -x: exit %d, want 2", code)
	}
}

// TestLean: /init links none of the host's tools. go list shows what the
// device binary is built from, for both targets.
func TestLean(t *testing.T) {
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command:", err)
	}
	for _, arch := range []string{"amd64", "arm64"} {
		cmd := exec.Command(gobin, "list", "-deps", "-f", "{{.ImportPath}}{{range .Imports}} {{.}}{{end}}", ".")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+arch)
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("go list: %v", err)
		}
		for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
			pkg, imports, _ := strings.Cut(l, " ")
			switch pkg {
			case "flag", "github.com/wgboot/wgboot/internal/cli", "github.com/wgboot/wgboot/internal/timeline":
				t.Errorf("%s: /init links %s", arch, pkg)
			case "github.com/wgboot/wgboot/internal/dnsclient":
				// net's resolver costs /init about 97 KB xz (net
				// itself is linked, for the DHCP client's types):
				// endpoint names are looked up with dnsmessage over
				// raw sockets.
				if strings.Contains(" "+imports+" ", " net ") {
					t.Errorf("%s: %s imports net", arch, pkg)
				}
			}
			// BurntSushi/toml imports encoding/json for json.Number; the
			// linker keeps a few KB of it (its init). No package of
			// ours may use it: the state file has its own writer.
			if pkg != "github.com/BurntSushi/toml" && pkg != "encoding/json" && strings.Contains(" "+imports+" ", " encoding/json ") {
				t.Errorf("%s: %s imports encoding/json", arch, pkg)
			}
		}
	}
}
