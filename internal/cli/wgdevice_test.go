package cli

import (
	"bufio"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/wgboot/wgboot/board"
)

// wgDevice is a WireGuard configuration in wg showconf's terms, with
// peers keyed by public key and allowed IPs sorted, so that two can be
// compared whatever order the kernel keeps them in.
type wgDevice struct {
	PrivateKey string
	ListenPort int // 0: not compared (the kernel picks one)
	FwMark     uint32
	Peers      map[string]wgPeer
}

type wgPeer struct {
	PresharedKey string
	Endpoint     string
	AllowedIPs   string // sorted, comma-separated
	Keepalive    int
}

func parseShowconf(t *testing.T, s string) wgDevice {
	t.Helper()
	d := wgDevice{Peers: map[string]wgPeer{}}
	var (
		key  string
		p    wgPeer
		ips  []string
		peer bool
	)
	flush := func() {
		if peer {
			slices.Sort(ips)
			p.AllowedIPs = strings.Join(ips, ",")
			d.Peers[key] = p
		}
		key, p, ips = "", wgPeer{}, nil
	}
	sc := bufio.NewScanner(strings.NewReader(s))
	sc.Buffer(nil, 16<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "[Peer]" {
			flush()
			peer = true
			continue
		}
		k, v, ok := strings.Cut(line, " = ")
		if !ok {
			continue
		}
		switch k {
		case "PrivateKey":
			d.PrivateKey = v
		case "ListenPort":
			d.ListenPort, _ = strconv.Atoi(v)
		case "FwMark":
			n, _ := strconv.ParseUint(strings.TrimPrefix(v, "0x"), 16, 32)
			d.FwMark = uint32(n)
		case "PublicKey":
			key = v
		case "PresharedKey":
			p.PresharedKey = v
		case "Endpoint":
			p.Endpoint = v
		case "AllowedIPs":
			ips = append(ips, strings.Split(v, ", ")...)
		case "PersistentKeepalive":
			p.Keepalive, _ = strconv.Atoi(v)
		}
	}
	flush()
	return d
}

// corpusKeys holds the key files the corpus names, by base name.
var corpusKeys = filepath.Join("testdata", "corpus", "keys")

// deviceOf is what the profile tunnel t says in wgDevice terms. A key file
// is read from keyDir by its base name; with keyDir "", the private key
// is left empty.
func deviceOf(t *testing.T, tun *board.Tunnel, keyDir string) wgDevice {
	t.Helper()
	d := wgDevice{ListenPort: int(tun.ListenPort), FwMark: tun.FwMark, Peers: map[string]wgPeer{}}
	switch {
	case tun.PrivateKeyFile != "" && keyDir == "":
	case tun.PrivateKeyFile != "":
		b, err := os.ReadFile(filepath.Join(keyDir, filepath.Base(tun.PrivateKeyFile)))
		if err != nil {
			t.Fatalf("private_key_file %s: %v", tun.PrivateKeyFile, err)
		}
		d.PrivateKey = strings.TrimSpace(string(b))
	case !tun.PrivateKey.IsZero():
		d.PrivateKey = tun.PrivateKey.Reveal()
	}
	for _, p := range tun.Peers {
		wp := wgPeer{Keepalive: int(p.PersistentKeepalive)}
		if !p.PresharedKey.IsZero() {
			wp.PresharedKey = p.PresharedKey.Reveal()
		}
		switch eps := p.EndpointList(); {
		case p.Endpoint.IsValid():
			wp.Endpoint = p.Endpoint.String()
		case len(eps) > 0:
			// A host name, which wg(8) resolves (see resolveNames).
			wp.Endpoint = eps[0].String()
		}
		var ips []string
		for _, a := range p.AllowedIPs {
			ips = append(ips, a.Masked().String())
		}
		slices.Sort(ips)
		wp.AllowedIPs = strings.Join(ips, ",")
		d.Peers[p.PublicKey.String()] = wp
	}
	return d
}

// sameDevice compares a profile's device with the reference's; a listen
// port of 0 in the profile lets the kernel choose.
func sameDevice(want, got wgDevice) string {
	if want.ListenPort == 0 {
		got.ListenPort = 0
	}
	var diffs []string
	if want.PrivateKey != got.PrivateKey {
		diffs = append(diffs, "private key differs")
	}
	if want.ListenPort != got.ListenPort {
		diffs = append(diffs, fmt.Sprintf("listen port %d, reference %d", want.ListenPort, got.ListenPort))
	}
	if want.FwMark != got.FwMark {
		diffs = append(diffs, fmt.Sprintf("fwmark %#x, reference %#x", want.FwMark, got.FwMark))
	}
	for k, p := range want.Peers {
		q, ok := got.Peers[k]
		switch {
		case !ok:
			diffs = append(diffs, "peer "+k+" missing in the reference")
		case p != q:
			diffs = append(diffs, fmt.Sprintf("peer %s: %+v, reference %+v", k, redact(p), redact(q)))
		}
	}
	for k := range got.Peers {
		if _, ok := want.Peers[k]; !ok {
			diffs = append(diffs, "peer "+k+" only in the reference")
		}
	}
	return strings.Join(diffs, "; ")
}

func redact(p wgPeer) wgPeer {
	if p.PresharedKey != "" {
		p.PresharedKey = "(set)"
	}
	return p
}

// resolveNames is dev with each host name endpoint resolved as wg(8)
// resolves it in the reference's namespace: from testdata/corpus/hosts.
func resolveNames(t *testing.T, dev wgDevice) wgDevice {
	t.Helper()
	peers := make(map[string]wgPeer, len(dev.Peers))
	for k, p := range dev.Peers {
		if host, port, ok := strings.Cut(p.Endpoint, ":"); ok && !isAddrPort(p.Endpoint) && !strings.HasPrefix(p.Endpoint, "[") {
			n, err := strconv.ParseUint(port, 10, 16)
			if err != nil {
				t.Fatalf("endpoint %q: %v", p.Endpoint, err)
			}
			p.Endpoint = netip.AddrPortFrom(corpusHost(t, host), uint16(n)).String()
		}
		peers[k] = p
	}
	dev.Peers = peers
	return dev
}

// corpusHost looks host up in testdata/corpus/hosts, the /etc/hosts of
// the reference, as wg(8) would there.
func corpusHost(t *testing.T, host string) netip.Addr {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "corpus", "hosts"))
	if err != nil {
		t.Fatal(err)
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 || strings.HasPrefix(f[0], "#") {
			continue
		}
		if slices.Contains(f[1:], host) {
			if a, err := netip.ParseAddr(f[0]); err == nil {
				return a
			}
		}
	}
	t.Fatalf("%s is not in testdata/corpus/hosts", host)
	return netip.Addr{}
}
