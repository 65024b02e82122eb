package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wgboot/wgboot/board"
	"github.com/wgboot/wgboot/internal/wgkey"
)

// Test keys. The private and preshared ones are the base64 of readable
// "wgboot TEST ..." strings; none is used anywhere real.
const (
	testPriv = "d2dib290IFRFU1Qga2V5OiB0ZXN0ZGF0YSAjIyMjIyM="
	testPSK  = "d2dib290IFRFU1QgcHNrOiB0ZXN0ZGF0YSAjIyMjIyM="
	testPub1 = "xkSiuuwzFSr9eB4uyyHVhGU4hlPxfL8VN1fLD/W8J2c="
	testPub2 = "VikEr+V5eZMMbhRYcDtUVD1Jehyvmb0K+/WNoFQ78yk="
	testPub3 = "ww8qNWH534Qe1aNqbxMGAHfsOHxMHsDCo4qGATxNMCs="
)

// importCase is one wg-quick file and what import must make of it.
type importCase struct {
	name   string
	file   string // default wg0.conf
	conf   string // {priv} {psk} {pub1} {pub2} {pub3} {self} are replaced
	code   int
	stderr []string // each must appear in stderr
	stdout []string // each must be a line of the profile
	not    []string // none may be a line of the profile
}

func (tt importCase) run(t *testing.T) {
	t.Helper()
	priv, err := wgkey.ParsePrivateKey(testPriv)
	if err != nil {
		t.Fatal(err)
	}
	conf := strings.NewReplacer("{priv}", testPriv, "{psk}", testPSK, "{pub1}", testPub1,
		"{pub2}", testPub2, "{pub3}", testPub3, "{self}", priv.PublicKey().String()).Replace(tt.conf)
	file := tt.file
	if file == "" {
		file = "wg0.conf"
	}
	path := filepath.Join(t.TempDir(), file)
	if err := os.WriteFile(path, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := run(t, "import", path)
	if code != tt.code {
		t.Errorf("import = %d, want %d; stderr:\n%s", code, tt.code, errOut)
	}
	checkImport(t, code, out, errOut)
	for _, s := range tt.stderr {
		if !strings.Contains(errOut, s) {
			t.Errorf("stderr lacks %q:\n%s", s, errOut)
		}
	}
	lines := strings.Split(out, "\n")
	for _, s := range tt.stdout {
		if !contains(lines, s) {
			t.Errorf("profile lacks the line %q:\n%s", s, out)
		}
	}
	for _, s := range tt.not {
		if contains(lines, s) {
			t.Errorf("profile has the line %q:\n%s", s, out)
		}
	}
}

func contains(lines []string, s string) bool {
	for _, l := range lines {
		if l == s {
			return true
		}
	}
	return false
}

// checkImport checks what holds for every import: a failure writes nothing
// on stdout and says why; a success writes a profile that parses, with only
// warnings and notes on stderr, and no key material there.
func checkImport(t *testing.T, code int, out, errOut string) {
	t.Helper()
	for _, k := range []string{testPriv, testPSK} {
		if strings.Contains(errOut, k) {
			t.Errorf("stderr has key material:\n%s", errOut)
		}
	}
	if code != ExitOK {
		if out != "" {
			t.Errorf("failed import wrote to stdout:\n%s", out)
		}
		if strings.TrimSpace(errOut) == "" {
			t.Errorf("failed import said nothing")
		}
		return
	}
	for _, l := range strings.Split(strings.TrimSpace(errOut), "\n") {
		if l != "" && !strings.Contains(l, ": warning: ") && !strings.Contains(l, ": note: ") {
			t.Errorf("import exited 0 with an error on stderr: %s", l)
		}
	}
	p, ds := board.Parse("imported.toml", []byte(out))
	if p == nil || ds.HasErrors() {
		t.Fatalf("imported profile does not parse: %v\n%s", ds.Err(), out)
	}
}

const (
	iface = "[Interface]\nPrivateKey = {priv}\n"
	peer1 = "[Peer]\nPublicKey = {pub1}\n"
)

// TestImport_accept: what wg(8) and wg-quick accept, import accepts with
// the same meaning (issue 15, item 13).
func TestImport_accept(t *testing.T) {
	long := strings.Builder{}
	for i := range 5000 {
		if i > 0 {
			long.WriteString(", ")
		}
		long.WriteString("10." + itoa(i/250) + "." + itoa(i%250) + ".0/24")
	}
	for _, tt := range []importCase{
		{name: "IPv6 endpoint without brackets", conf: iface + peer1 + "Endpoint = 2001:db8:43::1:51820\nAllowedIPs = 10.0.0.0/8\n",
			stdout: []string{`endpoint = "[2001:db8:43::1]:51820"`}},
		{name: "blanks inside keys and values", conf: "[Interface]\nPrivate Key = {priv}\nListen Port = 51 820\n[ Peer ]\nPublic Key = {pub1}\nEndpoint = 198.51.100.68 : 51867\nAllowed IPs = 10.0.0.0 / 8\nPersistent Keepalive = 2 5\n",
			stdout: []string{"listen_port = 51820", `endpoint = "198.51.100.68:51867"`, `allowed_ips = ["10.0.0.0/8"]`, "persistent_keepalive = 25"}},
		{name: "CRLF line ends", conf: strings.ReplaceAll(iface+"Address = 10.7.0.2/24\n"+peer1+"AllowedIPs = 10.7.0.0/24\n", "\n", "\r\n"),
			stdout: []string{`address = ["10.7.0.2/24"]`, `allowed_ips = ["10.7.0.0/24"]`}},
		{name: "Address split on blanks and commas", conf: iface + "Address = 10.7.0.2/24 fd07::2/64,10.8.0.2/24,\tfd08::2/64 ,\n" + peer1,
			stdout: []string{`address = ["10.7.0.2/24", "fd07::2/64", "10.8.0.2/24", "fd08::2/64"]`}},
		{name: "empty MTU and Table are unset", conf: iface + "MTU =\nTable =\n" + peer1 + "AllowedIPs = 10.0.0.0/8\n",
			stdout: []string{"mtu = 1420", `table = "main"`}},
		{name: "a line longer than 64 KiB", conf: iface + peer1 + "AllowedIPs = " + long.String() + "\n",
			stdout: []string{`public_key = "` + testPub1 + `"`}},
		{name: "a 2 MiB comment line, then an error on the right line", conf: iface + "# " + strings.Repeat("x", 2<<20) + "\nListenPort = x\n",
			code: ExitFail, stderr: []string{"wg0.conf:4: ListenPort = x: wg(8) looks a name up in /etc/services"}},
		{name: "private key file idiom", conf: "[Interface]\nPostUp = wg set %i private-key /etc/wireguard/%i.key\n" + peer1,
			stdout: []string{`private_key_file = "/etc/wireguard/wg0.key"`}, not: []string{`private_key = "` + testPriv + `"`}},
		{name: "private key file idiom in PreUp", conf: "[Interface]\nPreUp = wg set wg0 private-key /etc/wgboot/wg0.key\n" + peer1,
			stdout: []string{`private_key_file = "/etc/wgboot/wg0.key"`}},
		{name: "header case and keys in any case", conf: "[INTERFACE]\nprivatekey = {priv}\nADDRESS = 10.7.0.2/24\n[peer]\nPUBLICKEY = {pub1}\nallowedips = 10.7.0.0/24\n",
			stdout: []string{`address = ["10.7.0.2/24"]`}},
		{name: "FwMark as wg reads it", conf: iface + "FwMark = 0123\n" + peer1,
			stdout: []string{"fwmark = 123"}},
		{name: "leading zeros are decimal to wg", conf: iface + peer1 + "AllowedIPs = 10.0.0.0/08\nPersistentKeepalive = 025\nEndpoint = 192.0.2.1:051820\n",
			stdout: []string{`allowed_ips = ["10.0.0.0/8"]`, "persistent_keepalive = 25", `endpoint = "192.0.2.1:51820"`}},
		{name: "MTU in ip(8)'s octal", conf: iface + "MTU = 02600\n" + peer1,
			stdout: []string{"mtu = 1408"}, stderr: []string{"MTU = 02600 read as 1408, as ip(8) reads it"}},
		{name: "Address with a netmask", conf: iface + "Address = 10.7.0.2/255.255.255.0\n" + peer1,
			stdout: []string{`address = ["10.7.0.2/24"]`}, stderr: []string{"read as 10.7.0.2/24"}},
		{name: "IPv4 endpoint in getaddrinfo's short form", conf: iface + peer1 + "Endpoint = 192.0.513:51820\n",
			stdout: []string{`endpoint = "192.0.2.1:51820"`}, stderr: []string{"read as 192.0.2.1:51820"}},
		{name: "bracketed IPv4 endpoint", conf: iface + peer1 + "Endpoint = [192.0.2.1]:51820\n",
			stdout: []string{`endpoint = "192.0.2.1:51820"`}},
		{name: "all-zero preshared key is none", conf: iface + peer1 + "PresharedKey = AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n",
			not: []string{`preshared_key = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="`}},
		{name: "Table numbers and names as ip(8) reads them", conf: iface + "Table = 0x100\n" + peer1 + "AllowedIPs = 10.0.0.0/8\n",
			stdout: []string{"table = 256"}},
		{name: "SaveConfig in any case", conf: iface + "SaveConfig = True\n" + peer1,
			stderr: []string{"SaveConfig = True dropped"}},
		{name: "a comment after the header", conf: "[Interface] # me\nPrivateKey = {priv} # not echoed\nAddress = 10.7.0.2/24 # home\n" + peer1,
			stdout: []string{`address = ["10.7.0.2/24"]`}},
	} {
		t.Run(tt.name, tt.run)
	}
}

// TestImport_refuse: what wg(8) or wg-quick refuse, import refuses
// (issue 15, item 14), saying why.
func TestImport_refuse(t *testing.T) {
	for _, tt := range []importCase{
		{name: "trailing comma in AllowedIPs", conf: iface + peer1 + "AllowedIPs = 10.0.0.0/8,\n",
			code: ExitFail, stderr: []string{"wg0.conf:5: AllowedIPs: an empty entry"}},
		{name: "empty AllowedIPs", conf: iface + peer1 + "AllowedIPs =\n",
			code: ExitFail, stderr: []string{"wg0.conf:5: AllowedIPs has no value, which wg(8) rejects"}},
		{name: "hex keepalive", conf: iface + peer1 + "PersistentKeepalive = 0x19\n",
			code: ExitFail, stderr: []string{"PersistentKeepalive = 0x19: wg(8) takes off or a decimal number"}},
		{name: "capital 0X fwmark", conf: iface + "FwMark = 0X20\n" + peer1,
			code: ExitFail, stderr: []string{"FwMark = 0X20: wg(8) takes off, a decimal number or hex after a lowercase 0x"}},
		{name: "no-break space after =", conf: "[Interface]\nPrivateKey =\u00a0{priv}\n" + peer1,
			code: ExitFail, stderr: []string{"wg0.conf:2: PrivateKey: the value has a no-break space (U+00A0)"}},
		{name: "no-break space in Address", conf: iface + "Address =\u00a010.7.0.2/24\n" + peer1,
			code: ExitFail, stderr: []string{"Address: the value has a no-break space (U+00A0)"}},
		{name: "Table = Off", conf: iface + "Table = Off\n" + peer1 + "AllowedIPs = 10.0.0.0/8\n",
			code: ExitFail, stderr: []string{"Table = Off: wg-quick compares Table case-sensitively"}},
		{name: "Table = Auto", conf: iface + "Table = Auto\n" + peer1 + "AllowedIPs = 0.0.0.0/0\n",
			code: ExitFail, stderr: []string{"Table = Auto: wg-quick compares Table case-sensitively"}},
		{name: "SaveConfig = yes", conf: iface + "SaveConfig = yes\n" + peer1,
			code: ExitFail, stderr: []string{"SaveConfig = yes: wg-quick takes only true or false"}},
		{name: "ListenPort above 65535", conf: iface + "ListenPort = 123456\n" + peer1,
			code: ExitFail, stderr: []string{"ListenPort = 123456 is above 65535; wg(8) would silently use 57920"}},
		{name: "AllowedIPs with a netmask", conf: iface + peer1 + "AllowedIPs = 10.0.0.0/255.0.0.0\n",
			code: ExitFail, stderr: []string{"10.0.0.0/255.0.0.0 is not an address or a prefix"}},
		{name: "AllowedIPs with leading zeros in the address", conf: iface + peer1 + "AllowedIPs = 010.0.0.0/8\n",
			code: ExitFail, stderr: []string{"010.0.0.0/8 is not an address or a prefix"}},
		{name: "peer without a public key", conf: iface + "[Peer]\nAllowedIPs = 10.0.0.0/8\n",
			code: ExitFail, stderr: []string{"wg0.conf:3: [Peer] has no PublicKey"}},
		{name: "wg-quick key under a header wg-quick does not see", conf: "[ Interface ]\nPrivateKey = {priv}\nAddress = 10.7.0.2/24\n" + peer1,
			code: ExitFail, stderr: []string{"wg0.conf:3: Address: wg-quick reads its own keys only after a header written [Interface], not [ Interface ]"}},
		{name: "wg-quick key with a blank in it", conf: iface + "Post Up = echo hi\n" + peer1,
			code: ExitFail, stderr: []string{"Post Up: wg-quick's own keys cannot contain blanks"}},
		{name: "wg-quick key in [Peer]", conf: iface + peer1 + "DNS = 10.0.0.1\n",
			code: ExitFail, stderr: []string{"DNS belongs in [Interface], not [Peer]"}},
		{name: "key before any section", conf: "ListenPort = 51820\n" + iface + peer1,
			code: ExitFail, stderr: []string{"wg0.conf:1: ListenPort is outside of [Interface] and [Peer]"}},
		{name: "NUL byte", conf: iface + "ListenPort = 51820\x00junk\n" + peer1,
			code: ExitFail, stderr: []string{"wg0.conf:3: the line has a NUL byte"}},
		{name: "incremental AllowedIPs syntax", conf: iface + peer1 + "AllowedIPs = +10.0.0.0/8\n",
			code: ExitFail, stderr: []string{"'+' and '-' are `wg set`'s way"}},
		{name: "endpoint port as a service name", conf: iface + peer1 + "Endpoint = 192.0.2.1:domain\n",
			code: ExitFail, stderr: []string{"the port domain is a service name"}},
		{name: "endpoint without a port", conf: iface + peer1 + "Endpoint = 2001:db8::1\n",
			code: ExitFail, stderr: []string{"Endpoint 2001:db8::1: 2001:db8: is neither an IP address nor a host name"}},
		{name: "bad IPv4 endpoint", conf: iface + peer1 + "Endpoint = 192.0.2.256:51820\n",
			code: ExitFail, stderr: []string{"192.0.2.256 is neither an IP address nor a host name"}},
		{name: "all-zero private key", conf: "[Interface]\nPrivateKey = AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n" + peer1,
			code: ExitFail, stderr: []string{"PrivateKey is all zeros"}},
	} {
		t.Run(tt.name, tt.run)
	}
}

// TestImport_meaning: what import writes means what wg-quick does, or
// import says what changes, or refuses (issue 15, item 15).
func TestImport_meaning(t *testing.T) {
	for _, tt := range []importCase{
		{name: "fwmark is the table for a default route", conf: iface + "FwMark = 0x1234\n" + peer1 + "AllowedIPs = 0.0.0.0/0, ::/0\nEndpoint = 192.0.2.1:51820\n",
			stdout: []string{"fwmark = 4660", "table = 4660"}},
		{name: "no fwmark: table and fwmark 51820", conf: iface + peer1 + "AllowedIPs = 0.0.0.0/0\nEndpoint = 192.0.2.1:51820\n",
			stdout: []string{"fwmark = 51820", "table = 51820"}},
		{name: "default route plus other prefixes: says what changes", conf: iface + peer1 + "AllowedIPs = 0.0.0.0/0, 10.8.0.0/16\nEndpoint = 192.0.2.1:51820\n",
			stdout: []string{"table = 51820"}, stderr: []string{"wg-quick routes only 0.0.0.0/0 through table 51820 and puts the other allowed IPs (10.8.0.0/16) into the main table"}},
		{name: "fwmark 254 as a table is main", conf: iface + "FwMark = 254\n" + peer1 + "AllowedIPs = 0.0.0.0/0\nEndpoint = 192.0.2.1:51820\n",
			code: ExitFail, stderr: []string{"FwMark = 254 with a default route: wg-quick would use the fwmark as its routing table, which is the kernel's main table"}},
		{name: "numbered table with a fwmark", conf: iface + "Table = 1234\nFwMark = 0x1234\n" + peer1 + "AllowedIPs = 10.0.0.0/8\n",
			code: ExitFail, stderr: []string{"wg0.conf:3: Table = 1234 with FwMark = 4660: wg-quick only adds routes to table 1234"}},
		{name: "numbered table without a fwmark", conf: iface + "Table = 1234\n" + peer1 + "AllowedIPs = 0.0.0.0/0\nEndpoint = 192.0.2.1:51820\n",
			stdout: []string{"table = 1234"}, not: []string{"fwmark = 1234"}},
		{name: "Table = 0 is main", conf: iface + "Table = 0\n" + peer1 + "AllowedIPs = 10.0.0.0/8\n",
			stdout: []string{`table = "main"`}},
		{name: "named table", conf: iface + "Table = vpn\n" + peer1 + "AllowedIPs = 10.0.0.0/8\n",
			code: ExitFail, stderr: []string{"Table = vpn: a table name from /etc/iproute2/rt_tables"}},
		{name: "duplicate peers merge as wg merges them",
			conf: iface + peer1 + "AllowedIPs = 10.1.0.0/16, 10.9.0.0/16\nEndpoint = 192.0.2.1:51820\nPersistentKeepalive = 25\n" +
				"[Peer]\nPublicKey = {pub2}\nAllowedIPs = 10.2.0.0/16, 10.9.0.0/16\n" +
				"[Peer]\nPublicKey = {pub1}\nAllowedIPs = 10.3.0.0/16\nPresharedKey = {psk}\n",
			stdout: []string{`allowed_ips = ["10.3.0.0/16"]`, `allowed_ips = ["10.2.0.0/16", "10.9.0.0/16"]`, `endpoint = "192.0.2.1:51820"`, "persistent_keepalive = 25", `preshared_key = "` + testPSK + `"`},
			stderr: []string{"wg0.conf:11: warning: this [Peer] has the public key of the [Peer] on line 3", "wg0.conf:10: warning: 10.9.0.0/16 is also in the AllowedIPs of the [Peer] on line 3"}},
		{name: "a prefix in two peers goes to the last", conf: iface + peer1 + "AllowedIPs = 0.0.0.0/0\nEndpoint = 192.0.2.1:51820\n[Peer]\nPublicKey = {pub2}\nAllowedIPs = 0.0.0.0/0\nEndpoint = 192.0.2.2:51820\n",
			stdout: []string{"allowed_ips = []", `allowed_ips = ["0.0.0.0/0"]`}, stderr: []string{"so it is this peer's"}},
		{name: "own public key as a peer is ignored", conf: iface + "[Peer]\nPublicKey = {self}\nAllowedIPs = 10.1.0.0/16\n" + peer1 + "AllowedIPs = 10.2.0.0/16\n",
			stdout: []string{`allowed_ips = ["10.2.0.0/16"]`}, not: []string{`allowed_ips = ["10.1.0.0/16"]`}, stderr: []string{"the kernel ignores such a peer"}},
		{name: "link-local endpoint with a zone", conf: iface + peer1 + "Endpoint = [fe80::1%eth0]:51820\n",
			code: ExitFail, stderr: []string{"a link-local address with a zone (%eth0)"}},
		{name: "file name with a blank", file: "my vpn.conf", conf: iface + peer1,
			code: ExitFail, stderr: []string{"wg-quick names the interface after the file"}},
		{name: "file name too long for an interface", file: "a-very-long-tunnel-name.conf", conf: iface + peer1,
			code: ExitFail, stderr: []string{"wg-quick names the interface after the file"}},
		{name: "file name without .conf", file: "wg0.conf.bak", conf: iface + peer1,
			code: ExitFail, stderr: []string{"wg-quick names the interface after the file"}},
		{name: "profile errors fail the import", conf: iface + "MTU = 1200\nAddress = fd07::2/64\n" + peer1,
			code: ExitFail, stderr: []string{"converted profile: tunnel[0].mtu: 1200 is below 1280"}},
		{name: "host name endpoint kept", conf: iface + "DNS = 10.0.0.53\n" + peer1 + "Endpoint = vpn.example.com:51820\n",
			code: ExitOK, stdout: []string{`endpoint = "vpn.example.com:51820"`},
			stderr: []string{"Endpoint vpn.example.com:51820: kept as a host name, which the boot resolves (A and AAAA) through nameserver= on the kernel command line, [uplink] dns or the DHCP lease's name servers",
				"DNS dropped (name servers 10.0.0.53)", "note: DNS is not made [uplink] dns: it answers inside the tunnel"}},
		{name: "host name endpoint, port spelled oddly", conf: iface + peer1 + "Endpoint = vpn.example.com:+8080\n",
			code: ExitOK, stdout: []string{`endpoint = "vpn.example.com:8080"`}, stderr: []string{"read as vpn.example.com:8080, as wg(8) reads it"}},
		{name: "host name the boot cannot look up", conf: iface + peer1 + "Endpoint = vpn-.example.com:51820\n",
			code: ExitFail, stderr: []string{"Endpoint vpn-.example.com:51820: wg(8) would resolve vpn-.example.com, but the boot cannot look it up: not a host name: label \"vpn-\" begins or ends with '-'"}},
		{name: "a key in a hook and inline", conf: iface + "PostUp = wg set %i private-key /etc/wireguard/wg0.key\n" + peer1,
			code: ExitFail, stderr: []string{"PostUp sets the private key from a file, and PrivateKey on line 2 sets it too"}},
		{name: "no private key at all", conf: "[Interface]\nListenPort = 51820\n" + peer1,
			code: ExitFail, stderr: []string{"[Interface] has no PrivateKey"}},
	} {
		t.Run(tt.name, tt.run)
	}
}

// TestImport_messages: messages keep the file's spelling and name the
// real problem (issue 15, item 16).
func TestImport_messages(t *testing.T) {
	for _, tt := range []importCase{
		{name: "key spelled as in the file", conf: iface + "listenport = 70000\n" + peer1 + "Keepalive = 25\n",
			code: ExitFail, stderr: []string{"wg0.conf:3: listenport = 70000 is above 65535", "wg0.conf:6: unknown [Peer] key Keepalive"}},
		{name: "UTF-8 byte order mark", conf: "\ufeff" + iface + peer1,
			code: ExitFail, stderr: []string{"wg0.conf:1: the file starts with a UTF-8 byte order mark"}},
		{name: "AmneziaWG keys", conf: iface + "Jc = 4\nS1 = 50\nH1 = 1234567\n" + peer1,
			code: ExitFail, stderr: []string{"wg0.conf:3: unknown [Interface] key Jc: an AmneziaWG obfuscation setting", "wg0.conf:4: unknown [Interface] key S1", "wg0.conf:5: unknown [Interface] key H1"}},
		{name: "a key pasted alone is not echoed", conf: iface + testPSK + "\n" + peer1,
			code: ExitFail, stderr: []string{"wg0.conf:3: want Key = Value"}},
		{name: "a key pasted into another field is not echoed", conf: iface + "ListenPort = {psk}\n" + peer1 + "Endpoint = {priv}:51820\n",
			code: ExitFail, stderr: []string{"wg0.conf:3: ListenPort = (hidden: it looks like a key)", "wg0.conf:6: Endpoint (hidden: it looks like a key):51820"}},
		{name: "wg key in the wrong section", conf: iface + "PublicKey = {pub1}\n" + peer1,
			code: ExitFail, stderr: []string{"wg0.conf:3: PublicKey belongs in [Peer], not [Interface]"}},
		{name: "unknown section", conf: iface + "[Peers]\nPublicKey = {pub1}\n",
			code: ExitFail, stderr: []string{"wg0.conf:3: unknown section [Peers]: want [Interface] or [Peer]"}},
	} {
		t.Run(tt.name, tt.run)
	}
}

func itoa(i int) string {
	const digits = "0123456789"
	if i < 10 {
		return digits[i : i+1]
	}
	return itoa(i/10) + digits[i%10:i%10+1]
}
