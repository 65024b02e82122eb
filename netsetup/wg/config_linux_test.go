package wg

import (
	"errors"
	"net/netip"
	"strings"
	"testing"
)

// TestValidateRepeats: repeated public keys and allowed IPs among many
// peers are each reported once, naming the first peer or allowed IP that
// had them, host bits ignored; an IPv4-mapped IPv6 prefix is not its IPv4
// prefix, and a shorter prefix is not a longer one.
func TestValidateRepeats(t *testing.T) {
	peers := manyPeers(2000)
	peers[1500].PublicKey = peers[3].PublicKey
	peers[1999].PublicKey = peers[3].PublicKey
	peers[1700].AllowedIPs[2] = netip.MustParsePrefix("10.128.5.77/24") // peers[5]'s 10.128.5.0/24
	peers[10].AllowedIPs = append(peers[10].AllowedIPs, netip.MustParsePrefix("fd00:beef::a:1/112"), netip.MustParsePrefix("fd00:beef::a:0/112"))
	peers[11].AllowedIPs = append(peers[11].AllowedIPs,
		netip.MustParsePrefix("::ffff:10.0.0.11/128"), // not peers[11]'s 10.0.0.11/32
		netip.MustParsePrefix("10.0.0.11/31"))         // nor 10.0.0.10/31 of no one
	err := Validate(Config{Peers: peers})
	if !errors.Is(err, ErrInvalid) {
		t.Fatalf("Validate = %v, want ErrInvalid", err)
	}
	want := []string{
		"peers[10].allowed_ips[4]: fd00:beef::a:0/112 repeats allowed_ips[3]",
		"peers[1500].public_key: " + peers[3].PublicKey.String() + " repeats peers[3]",
		"peers[1700].allowed_ips[2]: 10.128.5.0/24 is also allowed for peers[5]",
		"peers[1999].public_key: " + peers[3].PublicKey.String() + " repeats peers[3]",
	}
	if got := strings.Split(err.Error(), "\n"); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("Validate =\n%s\nwant\n%s", err, strings.Join(want, "\n"))
	}
}
