// Command parsecost is what bench/scripts/parsecost.sh runs under an
// instruction counter (callgrind, or QEMU user mode with a counting plugin)
// to price board.Parse and Validate for hub profiles of 1 to 10,000 peers,
// on the fast path and on the toml package's path.
//
//	parsecost -write DIR        writes hub-N.toml and hub-N-toml.toml
//	parsecost -mode read FILE   reads FILE only (the baseline)
//	parsecost -mode parse FILE  reads FILE, then Parse and Validate
//	parsecost -mode decode FILE reads FILE, then Parse only (what
//	                            bench/wgpeers' "wgboot" column parses)
//
// hub-N-toml.toml differs from hub-N.toml in one quoted key ("name"), which
// is outside the fast path's subset: it measures the toml package's path on
// the same data.
package main

import (
	"bytes"
	"encoding/base64"
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/wgboot/wgboot/board"
)

func main() {
	write := flag.String("write", "", "write the profiles into `dir`")
	mode := flag.String("mode", "parse", "read, decode or parse")
	flag.Parse()
	if *write != "" {
		for _, n := range []int{1, 100, 1000, 5000, 10000} {
			for _, quoted := range []bool{false, true} {
				name := fmt.Sprintf("hub-%d.toml", n)
				if quoted {
					name = fmt.Sprintf("hub-%d-toml.toml", n)
				}
				if err := os.WriteFile(filepath.Join(*write, name), hub(n, quoted), 0o644); err != nil {
					fail(err)
				}
			}
		}
		return
	}
	if flag.NArg() != 1 {
		fail(fmt.Errorf("usage: parsecost -mode read|parse FILE"))
	}
	data, err := os.ReadFile(flag.Arg(0))
	if err != nil {
		fail(err)
	}
	if *mode == "read" {
		return
	}
	p, ds := board.Parse(flag.Arg(0), data)
	if p == nil || ds.HasErrors() {
		fail(ds.Err())
	}
	if *mode == "decode" {
		return
	}
	if ds := p.Validate(); ds.HasErrors() {
		fail(ds.Err())
	}
}

// hub returns a profile with n peers, each with its own /32 and /128, like
// a firmware hub (as board's benchmarks build it).
func hub(n int, quoted bool) []byte {
	var b bytes.Buffer
	key := `name`
	if quoted {
		key = `"name"`
	}
	b.WriteString(`[board]
` + key + ` = "hub"
[uplink]
interface = "eth0"
address = ["192.168.50.1/24"]
[[tunnel]]
name = "wg0"
private_key = "` + base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, 32)) + `"
listen_port = 51820
address = ["10.0.0.1/8", "fd00::1/64"]
`)
	for i := range n {
		var k [32]byte
		k[0], k[1], k[2] = byte(i), byte(i>>8), 1
		fmt.Fprintf(&b, "[[tunnel.peer]]\npublic_key = %q\nallowed_ips = [\"10.%d.%d.%d/32\", \"fd00::%x/128\"]\npersistent_keepalive = 25\n",
			base64.StdEncoding.EncodeToString(k[:]), i>>16&255, i>>8&255, i&255, i+2)
	}
	return b.Bytes()
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "parsecost:", err)
	os.Exit(1)
}
