// Command testrescue is the operator of the QEMU tests of on_failure =
// "remote" (e2e/remote_test.go), run by the hub guest after its wgboot
// brought the hub's tunnel up (the hub profile's init, edited). It is
// test-only code, on golang.org/x/crypto/ssh, and never part of a board's
// /init or image.
//
// Kernel command line: testrescue.target=ADDR (the client's tunnel
// address), testrescue.uplink=ADDR (the client's uplink address),
// testrescue.mode=repair|idle|reboot. It prints one line per step, prefixed
// "testrescue:", and ends with "testrescue: DONE" or "testrescue: FAIL …".
//
// Both modes first check what must be refused: the SSH port on the
// uplink address (closed), a key not in authorized_keys, a password, and
// keyboard-interactive. repair then logs in with the operator's key
// (/etc/testrescue/operator), runs `wgboot state`, runs `wgboot retry`
// before any repair (the handoff fails again: it logs in to the server the
// board starts again, and its `wgboot state` counts the failed retry),
// repairs the root disk (/dev/vda2: its /sbin/init.good back to
// /sbin/init) and runs `wgboot retry` again. idle logs in to nothing, and leaves the timeout to the board.
// reboot skips the refusals, logs in and runs `reboot`: the board ends
// the session.
package main

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"strings"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/sys/unix"
)

func main() {
	signal.Ignore(unix.SIGHUP, unix.SIGINT, unix.SIGTERM, unix.SIGPIPE)
	params := map[string]string{}
	if raw, err := os.ReadFile("/proc/cmdline"); err == nil {
		for _, f := range strings.Fields(string(raw)) {
			k, v, _ := strings.Cut(f, "=")
			params[k] = v
		}
	}
	if err := run(params); err != nil {
		logf("FAIL %v", err)
	} else {
		logf("DONE")
	}
	// PID 1 must not exit: the kernel would panic.
	for {
		time.Sleep(time.Hour)
	}
}

func logf(format string, args ...any) {
	fmt.Printf("testrescue: "+format+"\n", args...)
}

func signer(file string) (ssh.Signer, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	return ssh.ParsePrivateKey(data)
}

func run(p map[string]string) error {
	target := net.JoinHostPort(p["testrescue.target"], "22")
	uplink := net.JoinHostPort(p["testrescue.uplink"], "22")
	operator, err := signer("/etc/testrescue/operator")
	if err != nil {
		return err
	}
	stranger, err := signer("/etc/testrescue/stranger")
	if err != nil {
		return err
	}

	// The server listens once the client's boot failed: wait for it.
	deadline := time.Now().Add(4 * time.Minute)
	for {
		c, err := net.DialTimeout("tcp", target, 2*time.Second)
		if err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s: %w", target, err)
		}
		time.Sleep(time.Second)
	}
	logf("port open on %s", target)
	if p["testrescue.mode"] == "reboot" {
		return reboot(target, operator)
	}

	// The uplink address: nothing listens there.
	c, err := net.DialTimeout("tcp", uplink, 5*time.Second)
	switch {
	case err == nil:
		c.Close()
		return fmt.Errorf("%s: the SSH port is open on the uplink", uplink)
	case errors.Is(err, unix.ECONNREFUSED):
		logf("uplink %s refused: %v", uplink, err)
	default:
		return fmt.Errorf("uplink %s: %v, want connection refused", uplink, err)
	}

	var hostKey ssh.PublicKey
	dial := func(auth ssh.AuthMethod) (*ssh.Client, error) {
		return ssh.Dial("tcp", target, &ssh.ClientConfig{
			User: "root",
			Auth: []ssh.AuthMethod{auth},
			// The test compares the key seen here with the one the
			// board printed on its console.
			HostKeyCallback: func(_ string, _ net.Addr, k ssh.PublicKey) error { hostKey = k; return nil },
			Timeout:         20 * time.Second,
		})
	}
	for _, n := range []struct {
		name string
		auth ssh.AuthMethod
	}{
		{"stranger's key", ssh.PublicKeys(stranger)},
		{"password", ssh.Password("root")},
		{"keyboard-interactive", ssh.KeyboardInteractive(func(string, string, []string, []bool) ([]string, error) {
			return []string{"root"}, nil
		})},
	} {
		c, err := dial(n.auth)
		if err == nil {
			c.Close()
			return fmt.Errorf("%s: logged in", n.name)
		}
		if !strings.Contains(err.Error(), "unable to authenticate") {
			return fmt.Errorf("%s: %v, want refused", n.name, err)
		}
		logf("%s refused: %v", n.name, err)
	}
	logf("host key %s", ssh.FingerprintSHA256(hostKey))

	if p["testrescue.mode"] != "repair" {
		logf("idle: no login")
		return nil
	}

	client, err := dial(ssh.PublicKeys(operator))
	if err != nil {
		return fmt.Errorf("operator: %w", err)
	}
	defer func() { client.Close() }()
	logf("logged in as root, host key %s", ssh.FingerprintSHA256(hostKey))
	firstKey := ssh.FingerprintSHA256(hostKey)
	runCmd := func(cmd string) (string, error) {
		s, err := client.NewSession()
		if err != nil {
			return "", err
		}
		defer s.Close()
		out, err := s.CombinedOutput(cmd)
		for l := range strings.SplitSeq(strings.TrimRight(string(out), "\n"), "\n") {
			logf("| %s", l)
		}
		return string(out), err
	}
	logf("$ wgboot state")
	out, err := runCmd("wgboot state")
	if err != nil {
		return fmt.Errorf("wgboot state: %w", err)
	}
	if !strings.Contains(out, `"policy": "remote"`) || !strings.Contains(out, "init /sbin/init not found") {
		return errors.New("wgboot state does not tell the failure")
	}
	logf("state tells the failure")

	// A retry before the repair: the handoff fails again, the board says
	// so and starts the server again, and a new session can log in.
	logf("$ wgboot retry (not repaired yet)")
	if err := retry(runCmd); err != nil {
		return err
	}
	client.Close()
	deadline = time.Now().Add(2 * time.Minute)
	for {
		// Until the new server answers, and its state has the retry:
		// the old one may still take a login before the board stops it.
		time.Sleep(time.Second)
		c, err := dial(ssh.PublicKeys(operator))
		if err == nil {
			client = c
			out, err := runCmd("wgboot state")
			if err == nil && strings.Contains(out, `"retries": 1`) {
				if !strings.Contains(out, `"policy": "remote"`) || !strings.Contains(out, "init /sbin/init not found") {
					return errors.New("after the failed retry, wgboot state does not tell the failure")
				}
				break
			}
			c.Close()
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("no new session with the failed retry in its state: %v", err)
		}
	}
	if got := ssh.FingerprintSHA256(hostKey); got != firstKey {
		return fmt.Errorf("after the failed retry, host key %s, was %s", got, firstKey)
	}
	logf("logged in again after the failed retry; state tells it")

	repair := "mkdir -p /mnt && mount -t ext4 /dev/vda2 /mnt && mv /mnt/sbin/init.good /mnt/sbin/init && umount /mnt && echo repaired"
	logf("$ %s", repair)
	if out, err := runCmd(repair); err != nil || !strings.Contains(out, "repaired") {
		return fmt.Errorf("repair: %v", err)
	}
	logf("$ wgboot retry")
	return retry(runCmd)
}

// retry runs `wgboot retry`, which ends the session.
func retry(runCmd func(string) (string, error)) error {
	out, err := runCmd("wgboot retry")
	var exit *ssh.ExitMissingError
	switch {
	case err == nil && strings.Contains(out, "init runs the handoff again"):
	case errors.As(err, &exit) || errors.Is(err, net.ErrClosed) || errors.Is(err, io.EOF):
		// The board ended the session before the exit status.
	default:
		return fmt.Errorf("wgboot retry: %v", err)
	}
	return nil
}

// reboot logs in as the operator and runs `reboot`.
func reboot(target string, operator ssh.Signer) error {
	client, err := ssh.Dial("tcp", target, &ssh.ClientConfig{
		User:            "root",
		Auth:            []ssh.AuthMethod{ssh.PublicKeys(operator)},
		HostKeyCallback: ssh.InsecureIgnoreHostKey(), // repair compares it
		Timeout:         20 * time.Second,
	})
	if err != nil {
		return fmt.Errorf("operator: %w", err)
	}
	defer client.Close()
	logf("logged in as root")
	s, err := client.NewSession()
	if err != nil {
		return err
	}
	logf("$ reboot")
	done := make(chan error, 1)
	go func() { done <- s.Run("reboot") }()
	// The board's FIN may not make it through the tunnel before the
	// board goes: the board's console tells how the session ended.
	select {
	case err := <-done:
		logf("session ended: %v", err)
	case <-time.After(30 * time.Second):
		logf("session: no word from the board in 30 s")
	}
	return nil
}
