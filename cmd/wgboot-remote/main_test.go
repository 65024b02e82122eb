package main

import (
	"bufio"
	"crypto/ed25519"
	"crypto/rand"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
)

// statusPipe collects the server's status lines.
type statusPipe struct{ lines chan string }

func newStatus() (*statusPipe, io.Writer) {
	r, w := io.Pipe()
	s := &statusPipe{lines: make(chan string, 16)}
	go func() {
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			s.lines <- sc.Text()
		}
	}()
	return s, w
}

func (s *statusPipe) want(t *testing.T, prefix string) string {
	t.Helper()
	select {
	case l := <-s.lines:
		if !strings.HasPrefix(l, prefix) {
			t.Fatalf("status %q, want %q…", l, prefix)
		}
		return l
	case <-time.After(10 * time.Second):
		t.Fatalf("no status %q…", prefix)
	}
	return ""
}

func newSigner(t *testing.T) ssh.Signer {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	s, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func freeAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// TestServer runs the server on the loopback: the host key is made once
// (0600, atomically, with a .pub) and read back the next run; an
// authorized key logs in and runs a command, with open and idle reported
// around the login; a key not in the file, a password and
// keyboard-interactive are refused.
func TestServer(t *testing.T) {
	dir := t.TempDir()
	good, bad := newSigner(t), newSigner(t)
	keys := filepath.Join(dir, "authorized_keys")
	if err := os.WriteFile(keys, append([]byte("# operators\n"), ssh.MarshalAuthorizedKey(good.PublicKey())...), 0o644); err != nil {
		t.Fatal(err)
	}
	hostKey := filepath.Join(dir, "wgboot", "ssh_host_ed25519_key")
	addr := freeAddr(t)
	st, w := newStatus()
	s := &server{shell: "/bin/sh", status: w}
	go func() { t.Log(s.run([]string{addr}, hostKey, keys)) }()
	hk := st.want(t, "hostkey SHA256:")
	st.want(t, "listen "+addr)

	fi, err := os.Stat(hostKey)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("host key mode %v, want 0600", fi.Mode().Perm())
	}
	pub, err := os.ReadFile(hostKey + ".pub")
	if err != nil {
		t.Fatal(err)
	}
	hpub, _, _, _, err := ssh.ParseAuthorizedKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	if fp := ssh.FingerprintSHA256(hpub); hk != "hostkey "+fp+" "+hostKey {
		t.Errorf("status %q, .pub has %s", hk, fp)
	}

	dial := func(auth ...ssh.AuthMethod) (*ssh.Client, error) {
		return ssh.Dial("tcp", addr, &ssh.ClientConfig{User: "root", Auth: auth,
			HostKeyCallback: ssh.FixedHostKey(hpub), Timeout: 5 * time.Second})
	}
	for name, auth := range map[string]ssh.AuthMethod{
		"unknown key": ssh.PublicKeys(bad),
		"password":    ssh.Password("root"),
		"keyboard-interactive": ssh.KeyboardInteractive(func(string, string, []string, []bool) ([]string, error) {
			return []string{"root"}, nil
		}),
	} {
		if c, err := dial(auth); err == nil {
			c.Close()
			t.Errorf("%s: logged in", name)
		} else if !strings.Contains(err.Error(), "unable to authenticate") {
			t.Errorf("%s: %v", name, err)
		}
	}

	c, err := dial(ssh.PublicKeys(good))
	if err != nil {
		t.Fatal(err)
	}
	st.want(t, "open")
	sess, err := c.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	out, err := sess.CombinedOutput("echo $((6*7)); exit 3")
	if strings.TrimSpace(string(out)) != "42" {
		t.Errorf("output %q", out)
	}
	if ee, ok := err.(*ssh.ExitError); !ok || ee.ExitStatus() != 3 {
		t.Errorf("exit: %v, want status 3", err)
	}

	// An interactive shell on a terminal, as ssh without a command has.
	sess, err = c.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	if err := sess.RequestPty("xterm", 24, 80, ssh.TerminalModes{}); err != nil {
		t.Fatalf("pty: %v", err)
	}
	var tout strings.Builder
	sess.Stdout = &tout
	in, _ := sess.StdinPipe()
	if err := sess.Shell(); err != nil {
		t.Fatal(err)
	}
	io.WriteString(in, "tty; echo x$((6*7))x; exit 5\n")
	if err := sess.Wait(); err == nil || err.(*ssh.ExitError).ExitStatus() != 5 {
		t.Errorf("shell exit: %v, want status 5", err)
	}
	if !strings.Contains(tout.String(), "x42x") || !strings.Contains(tout.String(), "/dev/pts/") {
		t.Errorf("terminal session output %q", tout.String())
	}
	c.Close()
	st.want(t, "idle")

	// The next run reads the same key.
	addr2 := freeAddr(t)
	st2, w2 := newStatus()
	go (&server{shell: "/bin/sh", status: w2}).run([]string{addr2}, hostKey, keys)
	if again := st2.want(t, "hostkey "); again != hk {
		t.Errorf("second run %q, first %q", again, hk)
	}
}
