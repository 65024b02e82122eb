package board

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"testing"
)

// hubProfile returns a profile with n peers, each with its own /32 and
// /128, like a firmware hub.
func hubProfile(n int) []byte {
	var b bytes.Buffer
	b.WriteString(`[board]
name = "hub"
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
		var key [32]byte
		key[0], key[1], key[2] = byte(i), byte(i>>8), 1
		fmt.Fprintf(&b, "[[tunnel.peer]]\npublic_key = %q\nallowed_ips = [\"10.%d.%d.%d/32\", \"fd00::%x/128\"]\npersistent_keepalive = 25\n",
			base64.StdEncoding.EncodeToString(key[:]), i>>16&255, i>>8&255, i&255, i+2)
	}
	return b.Bytes()
}

func BenchmarkParse10kPeers(b *testing.B) {
	const peers = 10000
	data := hubProfile(peers)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		p, ds := Parse("hub.toml", data)
		if p == nil || ds.HasErrors() {
			b.Fatalf("Parse: %v", ds.Err())
		}
		if ds := p.Validate(); ds.HasErrors() {
			b.Fatalf("Validate: %v", ds.Err())
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/peers, "ns/peer")
}

// BenchmarkParse10kPeersEndpoints is a hub whose peers all have endpoints,
// as in bench/wgpeers: the loop check runs for every peer.
func BenchmarkParse10kPeersEndpoints(b *testing.B) {
	const peers = 10000
	var buf bytes.Buffer
	buf.WriteString("[board]\nname = \"hub\"\n[uplink]\ninterface = \"eth0\"\naddress = [\"192.0.2.2/24\"]\n" +
		"[[tunnel]]\nname = \"wg0\"\nprivate_key_file = \"wg0.key\"\nlisten_port = 51820\n")
	for i := range peers {
		var key [32]byte
		key[0], key[1], key[2] = byte(i), byte(i>>8), 1
		fmt.Fprintf(&buf, "\n[[tunnel.peer]]\npublic_key = %q\nendpoint = \"192.0.2.%d:%d\"\n"+
			"allowed_ips = [\"10.%d.%d.%d/32\", \"fd00::%x/128\", \"10.%d.%d.0/24\"]\npersistent_keepalive = 25\n",
			base64.StdEncoding.EncodeToString(key[:]), i&255, 10000+i, i>>16&255, i>>8&255, i&255, i+2, 128+i>>8&127, i&255)
	}
	data := buf.Bytes()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		p, ds := Parse("hub.toml", data)
		if p == nil || ds.HasErrors() {
			b.Fatalf("Parse: %v", ds.Err())
		}
		p.Validate()
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/peers, "ns/peer")
}
