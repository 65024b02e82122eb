// Command wgboot-remote is the SSH server of on_failure = "remote": PID 1
// starts it from a rescue image (image.Rescue builds it into the rescue
// layer as /bbin/wgboot-remote; /init has no SSH code) when the handoff is
// impossible but the tunnel is up, so that an operator at the hub can log
// in through the tunnel and repair the board.
//
// It listens only on the addresses it is given (PID 1 gives the tunnels'
// own), accepts public keys from one authorized_keys file and nothing else
// (no password, no keyboard-interactive), and runs a shell or a command per
// session, with a pseudo-terminal when the client asks for one. Its host
// key is ed25519, made on first use (mode 0600, written atomically, with a
// .pub file next to it). Every login, session and logout goes to stderr,
// which PID 1 copies to the kernel log.
//
// On the status descriptor (-status-fd; PID 1 gives the pipe of stderr,
// whose lines all start with "remote: ", and tells them apart) it tells
// PID 1, one line each, written whole:
//
//	hostkey SHA256:… FILE|-   the host key's fingerprint (- : not saved)
//	listen ADDR:PORT          a listener is up
//	open                      the first login of a run of logins
//	idle                      the last of them logged out
//
// PID 1 keeps the time: it ends the server when nobody logged in within
// [rescue] timeout, or when the session ended, and reboots.
//
// Why not u-root's cmds/core/sshd: it reads an existing host key only,
// accepts one address, handshakes on its accept loop without a deadline
// (one silent client blocks every other), and logs no logout, so PID 1
// could not know when a session is open or over.
package main

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/crypto/ssh"
	"golang.org/x/sys/unix"

	"github.com/wgboot/wgboot/internal/persist"
)

// listFlag is a repeatable flag.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(s string) error { *l = append(*l, s); return nil }

// handshakeTimeout bounds a connection's key exchange and authentication:
// a client that stalls in them holds nothing else up.
const handshakeTimeout = 30 * time.Second

// listenWait bounds the wait for an address to become usable (an IPv6
// address still in duplicate address detection cannot be bound).
const listenWait = 10 * time.Second

// env is the whole environment of a session's programs.
var env = []string{
	"PATH=/bbin:/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin",
	"HOME=/",
	"USER=root",
	"LOGNAME=root",
}

func main() {
	var listen listFlag
	flag.Var(&listen, "listen", "`ADDR:PORT` to listen on (repeatable)")
	hostKey := flag.String("host-key", "", "the ed25519 host key `file`, made when missing; \"\": a key for this run only")
	keysFile := flag.String("authorized-keys", "", "the authorized_keys `file`")
	shell := flag.String("shell", "/bin/sh", "the sessions' shell")
	statusFD := flag.Int("status-fd", -1, "write status lines to this descriptor")
	flag.Parse()
	log.SetFlags(0)
	log.SetPrefix("remote: ")
	log.SetOutput(os.Stderr)

	status := io.Discard
	if *statusFD >= 0 {
		status = os.NewFile(uintptr(*statusFD), "status")
	}
	s := &server{shell: *shell, status: status}
	if err := s.run(listen, *hostKey, *keysFile); err != nil {
		log.Printf("%v", err)
		os.Exit(1)
	}
}

type server struct {
	shell  string
	status io.Writer

	mu     sync.Mutex
	logins int
}

func (s *server) say(format string, args ...any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	fmt.Fprintf(s.status, format+"\n", args...)
}

func (s *server) run(listen []string, hostKeyFile, keysFile string) error {
	if len(listen) == 0 {
		return errors.New("no -listen address")
	}
	authorized, err := readAuthorizedKeys(keysFile)
	if err != nil {
		return err
	}
	signer, saved, err := loadHostKey(hostKeyFile)
	if err != nil {
		return err
	}
	fp := ssh.FingerprintSHA256(signer.PublicKey())
	if saved == "" {
		log.Printf("host key %s is for this run only: no -host-key file", fp)
		saved = "-"
	}
	s.say("hostkey %s %s", fp, saved)

	config := &ssh.ServerConfig{
		// Public keys only: with no password or keyboard-interactive
		// callback, the library offers and accepts neither.
		PublicKeyCallback: func(c ssh.ConnMetadata, key ssh.PublicKey) (*ssh.Permissions, error) {
			if comment, ok := authorized[string(key.Marshal())]; ok {
				return &ssh.Permissions{Extensions: map[string]string{
					"fp": ssh.FingerprintSHA256(key), "comment": comment}}, nil
			}
			return nil, fmt.Errorf("key %s is not in %s", ssh.FingerprintSHA256(key), keysFile)
		},
		AuthLogCallback: func(c ssh.ConnMetadata, method string, err error) {
			if err != nil && method != "none" {
				log.Printf("%s: %s authentication for %q refused: %v", c.RemoteAddr(), method, c.User(), err)
			}
		},
		MaxAuthTries: 6,
	}
	config.AddHostKey(signer)

	var lns []net.Listener
	for _, a := range listen {
		ln, err := listenUntil(a, time.Now().Add(listenWait))
		if err != nil {
			log.Printf("listen on %s: %v", a, err)
			continue
		}
		lns = append(lns, ln)
		log.Printf("listening on %s, host key %s", a, fp)
		s.say("listen %s", a)
	}
	if len(lns) == 0 {
		return errors.New("no address to listen on")
	}
	errs := make(chan error, len(lns))
	for _, ln := range lns {
		go func() { errs <- s.serve(ln, config) }()
	}
	return <-errs
}

// listenUntil listens on addr, trying again until deadline while the
// address cannot be bound yet.
func listenUntil(addr string, deadline time.Time) (net.Listener, error) {
	for {
		ln, err := net.Listen("tcp", addr)
		if err == nil || !errors.Is(err, syscall.EADDRNOTAVAIL) || time.Now().After(deadline) {
			return ln, err
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func (s *server) serve(ln net.Listener, config *ssh.ServerConfig) error {
	for {
		c, err := ln.Accept()
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			return fmt.Errorf("accept on %s: %w", ln.Addr(), err)
		}
		go s.conn(c, config)
	}
}

// conn runs one connection: its handshake under a deadline, then its
// sessions until it closes.
func (s *server) conn(c net.Conn, config *ssh.ServerConfig) {
	c.SetDeadline(time.Now().Add(handshakeTimeout))
	sc, chans, reqs, err := ssh.NewServerConn(c, config)
	if err != nil {
		log.Printf("%s: no login: %v", c.RemoteAddr(), err)
		c.Close()
		return
	}
	c.SetDeadline(time.Time{})
	who := fmt.Sprintf("%s@%s", sc.User(), sc.RemoteAddr())
	log.Printf("%s: logged in with key %s %s", who, sc.Permissions.Extensions["fp"], sc.Permissions.Extensions["comment"])
	s.login(+1)
	defer func() {
		log.Printf("%s: logged out", who)
		s.login(-1)
	}()
	go ssh.DiscardRequests(reqs)
	var wg sync.WaitGroup
	n := 0
	for nc := range chans {
		if nc.ChannelType() != "session" {
			nc.Reject(ssh.UnknownChannelType, "only sessions")
			continue
		}
		ch, creqs, err := nc.Accept()
		if err != nil {
			continue
		}
		n++
		wg.Add(1)
		go func(id int) {
			defer wg.Done()
			s.session(fmt.Sprintf("%s: session %d", who, id), ch, creqs)
		}(n)
	}
	wg.Wait()
}

// login counts logins and tells PID 1 when the first opens and the last
// ends.
func (s *server) login(d int) {
	s.mu.Lock()
	s.logins += d
	n := s.logins
	s.mu.Unlock()
	switch {
	case d > 0 && n == 1:
		s.say("open")
	case d < 0 && n == 0:
		s.say("idle")
	}
}

// session answers one session channel's requests: a terminal, a shell or
// a command; the first shell or command ends the session when it exits.
func (s *server) session(who string, ch ssh.Channel, reqs <-chan *ssh.Request) {
	defer ch.Close()
	var tty *pty
	defer func() {
		if tty != nil {
			tty.close()
		}
	}()
	term := "TERM=dumb"
	for req := range reqs {
		switch req.Type {
		case "pty-req":
			var r struct {
				Term                 string
				Cols, Rows, PxW, PxH uint32
				Modes                string
			}
			if err := ssh.Unmarshal(req.Payload, &r); err != nil || tty != nil {
				req.Reply(false, nil)
				continue
			}
			t, err := openPTY()
			if err != nil {
				log.Printf("%s: no terminal: %v", who, err)
				req.Reply(false, nil)
				continue
			}
			tty = t
			tty.resize(r.Cols, r.Rows)
			term = "TERM=" + r.Term
			req.Reply(true, nil)
		case "window-change":
			var r struct{ Cols, Rows, PxW, PxH uint32 }
			if tty != nil && ssh.Unmarshal(req.Payload, &r) == nil {
				tty.resize(r.Cols, r.Rows)
			}
			req.Reply(false, nil)
		case "shell", "exec":
			args := []string{s.shell}
			what := "shell"
			if req.Type == "exec" {
				var r struct{ Command string }
				if err := ssh.Unmarshal(req.Payload, &r); err != nil {
					req.Reply(false, nil)
					continue
				}
				args = append(args, "-c", r.Command)
				// The program's name only: a command line may hold
				// what the kernel log must not.
				what = "command " + firstWord(r.Command)
			}
			req.Reply(true, nil)
			log.Printf("%s: %s", who, what)
			code := s.runProgram(ch, tty, append(env, term), args)
			log.Printf("%s: %s ended, status %d", who, what, code)
			ch.SendRequest("exit-status", false, ssh.Marshal(struct{ Status uint32 }{uint32(code)}))
			return
		default:
			// env, subsystems (sftp), agent and X11 forwarding: no.
			req.Reply(false, nil)
		}
	}
}

func firstWord(cmd string) string {
	f := strings.Fields(cmd)
	if len(f) == 0 {
		return `""`
	}
	return filepath.Base(f[0])
}

// runProgram runs args with the channel, or the terminal, as its standard
// files, and returns its exit status.
func (s *server) runProgram(ch ssh.Channel, tty *pty, env, args []string) int {
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Env = env
	cmd.Dir = "/"
	if tty != nil {
		cmd.Stdin, cmd.Stdout, cmd.Stderr = tty.slave, tty.slave, tty.slave
		cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	} else {
		cmd.Stdin, cmd.Stdout, cmd.Stderr = ch, ch, ch.Stderr()
		cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	}
	if err := cmd.Start(); err != nil {
		fmt.Fprintf(ch.Stderr(), "wgboot-remote: %v\r\n", err)
		return 127
	}
	var copied sync.WaitGroup
	if tty != nil {
		tty.slave.Close()
		tty.slave = nil
		go io.Copy(tty.master, ch)
		copied.Add(1)
		go func() { defer copied.Done(); io.Copy(ch, tty.master) }()
	}
	err := cmd.Wait()
	copied.Wait() // the master reads EIO once the last holder of the terminal is gone
	ch.CloseWrite()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ee):
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return 128 + int(ws.Signal())
		}
		return ee.ExitCode()
	}
	return 1
}

// pty is a pseudo-terminal pair.
type pty struct{ master, slave *os.File }

// openPTY opens a pseudo-terminal, mounting devpts first when the
// initramfs has none.
func openPTY() (*pty, error) {
	if _, err := os.Stat("/dev/pts/ptmx"); err != nil {
		os.MkdirAll("/dev/pts", 0o755)
		if err := unix.Mount("devpts", "/dev/pts", "devpts", unix.MS_NOSUID|unix.MS_NOEXEC, "mode=0620,ptmxmode=0666"); err != nil {
			return nil, fmt.Errorf("mount devpts: %w", err)
		}
	}
	ptmx := "/dev/ptmx"
	if _, err := os.Stat(ptmx); err != nil {
		ptmx = "/dev/pts/ptmx"
	}
	m, err := os.OpenFile(ptmx, os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		return nil, err
	}
	var unlock int32
	if _, _, e := unix.Syscall(unix.SYS_IOCTL, m.Fd(), unix.TIOCSPTLCK, uintptr(unsafe.Pointer(&unlock))); e != 0 {
		m.Close()
		return nil, fmt.Errorf("unlockpt: %w", e)
	}
	n, err := unix.IoctlGetInt(int(m.Fd()), unix.TIOCGPTN)
	if err != nil {
		m.Close()
		return nil, fmt.Errorf("ptsname: %w", err)
	}
	sl, err := os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		m.Close()
		return nil, err
	}
	return &pty{master: m, slave: sl}, nil
}

func (t *pty) resize(cols, rows uint32) {
	ws := &unix.Winsize{Col: uint16(cols), Row: uint16(rows)}
	unix.IoctlSetWinsize(int(t.master.Fd()), unix.TIOCSWINSZ, ws)
}

func (t *pty) close() {
	t.master.Close()
	if t.slave != nil {
		t.slave.Close()
	}
}

// readAuthorizedKeys reads an authorized_keys file: each key with its
// comment. Options (from=, command=, …) are not supported: a key with
// options is refused rather than given more than they allow.
func readAuthorizedKeys(file string) (map[string]string, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("authorized keys: %w", err)
	}
	keys := map[string]string{}
	for line, rest := 1, data; len(rest) > 0; line++ {
		var l []byte
		if i := strings.IndexByte(string(rest), '\n'); i >= 0 {
			l, rest = rest[:i], rest[i+1:]
		} else {
			l, rest = rest, nil
		}
		t := strings.TrimSpace(string(l))
		if t == "" || strings.HasPrefix(t, "#") {
			continue
		}
		key, comment, options, _, err := ssh.ParseAuthorizedKey(l)
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %v", file, line, err)
		}
		if len(options) > 0 {
			log.Printf("%s:%d: key %s has options (%s): not supported, the key is refused", file, line, ssh.FingerprintSHA256(key), strings.Join(options, ","))
			continue
		}
		keys[string(key.Marshal())] = comment
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("%s: no key: nobody could log in", file)
	}
	return keys, nil
}

// loadHostKey reads the host key from file, or makes one there when the
// file does not exist: ed25519, in OpenSSH's format, mode 0600, written
// atomically, never over an existing file; its public key goes next to it
// in FILE.pub. Without a file the key is for this run only. It returns
// the file the key is in ("" for none).
func loadHostKey(file string) (ssh.Signer, string, error) {
	if file != "" {
		data, err := os.ReadFile(file)
		if err == nil {
			s, err := ssh.ParsePrivateKey(data)
			clear(data)
			if err != nil {
				return nil, "", fmt.Errorf("host key %s: %w; kept as it is (remove it to make a new one)", file, err)
			}
			publishHostKey(file, s.PublicKey())
			return s, file, nil
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return nil, "", fmt.Errorf("host key: %w", err)
		}
	}
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, "", err
	}
	s, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		return nil, "", err
	}
	if file == "" {
		return s, "", nil
	}
	// priv is the signer's own: it lives as long as the server.
	block, err := ssh.MarshalPrivateKey(priv, "wgboot rescue host key")
	if err != nil {
		return nil, "", err
	}
	text := pem.EncodeToMemory(block)
	clear(block.Bytes)
	if err := os.MkdirAll(filepath.Dir(file), 0o700); err != nil {
		return nil, "", err
	}
	err = persist.CreateFile(file, text, 0o600)
	clear(text)
	if err != nil {
		log.Printf("host key %s: %v; this run's key is not saved", file, err)
		return s, "", nil
	}
	log.Printf("new host key %s in %s", ssh.FingerprintSHA256(s.PublicKey()), file)
	publishHostKey(file, s.PublicKey())
	return s, file, nil
}

// publishHostKey writes FILE.pub unless it already says the same.
func publishHostKey(file string, pub ssh.PublicKey) {
	text := strings.TrimSpace(string(ssh.MarshalAuthorizedKey(pub))) + " wgboot-rescue\n"
	if old, err := os.ReadFile(file + ".pub"); err == nil && string(old) == text {
		return
	}
	if err := persist.WriteFile(file+".pub", []byte(text), 0o644); err != nil {
		log.Printf("host key: publish %s.pub: %v", file, err)
	}
}
