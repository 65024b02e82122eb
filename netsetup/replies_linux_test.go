package netsetup

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/wgboot/wgboot/netsetup/internal/nl"
)

// replyCase is a kernel reply captured from iproute2 under strace, in
// testdata/replies/NAME.hex, and what our parsers must read from it.
type replyCase struct {
	name  string
	setup [][]string
	ip    []string
	typ   uint16
	check func(t *testing.T, msgs []nl.Message)
}

// replySetup is the state the reply captures show: d0 (index 2, a bridge)
// up with IPv4 and IPv6 addresses, routes in main and table 51820, and the
// policy rules of a wg-quick full tunnel.
var replySetup = [][]string{
	{"link", "set", "d0", "mtu", "1420"},
	{"link", "set", "d0", "up"},
	{"addr", "add", "10.0.0.2/24", "dev", "d0"},
	{"addr", "add", "2001:db8::2/64", "dev", "d0", "nodad"},
	{"route", "add", "10.1.0.0/16", "via", "10.0.0.1", "dev", "d0", "metric", "100"},
	{"route", "add", "10.2.0.0/16", "dev", "d0", "table", "51820"},
	{"-6", "route", "add", "default", "via", "2001:db8::1", "dev", "d0"},
	{"-4", "rule", "add", "not", "fwmark", "51820", "table", "51820"},
	{"-4", "rule", "add", "table", "main", "suppress_prefixlength", "0"},
	{"-6", "rule", "add", "fwmark", "0xca6c/0xffff", "table", "51820", "priority", "100"},
}

func replyCases() []replyCase {
	return []replyCase{
		{
			name: "link-d0", ip: []string{"link", "show", "dev", "d0"}, typ: unix.RTM_NEWLINK,
			check: func(t *testing.T, msgs []nl.Message) {
				l, err := parseLink(msgs[len(msgs)-1])
				if err != nil {
					t.Fatal(err)
				}
				// Just after it is set up, a bridge without ports has
				// carrier and an unknown operational state. Its MAC
				// is the random one of the capture.
				want := Link{Index: 2, Name: "d0", Kind: "bridge", Type: unix.ARPHRD_ETHER, MTU: 1420,
					Flags:     unix.IFF_UP | unix.IFF_BROADCAST | unix.IFF_RUNNING | unix.IFF_MULTICAST | unix.IFF_LOWER_UP,
					OperState: ifOperUnknown, MAC: [6]byte{0x12, 0xcf, 0xfb, 0xf0, 0x73, 0x7f}}
				if l != want {
					t.Errorf("parseLink() = %+v, want %+v", l, want)
				}
				if !l.Carrier() || !l.Up() {
					t.Errorf("Carrier() = %v, Up() = %v, want true, true", l.Carrier(), l.Up())
				}
			},
		},
		{
			name: "addr-d0", ip: []string{"addr", "show", "dev", "d0"}, typ: unix.RTM_NEWADDR,
			check: func(t *testing.T, msgs []nl.Message) {
				var got []string
				for _, m := range msgs {
					a, err := parseAddress(m)
					if err != nil {
						t.Fatal(err)
					}
					got = append(got, fmt.Sprintf("%d %s scope %d flags %#x", a.Index, a.Prefix, a.Scope, a.Flags&^unix.IFA_F_TENTATIVE))
				}
				want := []string{
					"2 10.0.0.2/24 scope 0 flags 0x80",
					"2 2001:db8::2/64 scope 0 flags 0x82",
				}
				for _, w := range want {
					if !contains(got, w) {
						t.Errorf("parsed addresses %q lack %q", got, w)
					}
				}
			},
		},
		{
			name: "route-v4-all", ip: []string{"-4", "route", "show", "table", "all"}, typ: unix.RTM_NEWROUTE,
			check: func(t *testing.T, msgs []nl.Message) {
				got := parseRoutes(t, msgs)
				for _, want := range []Route{
					{Dst: pfx(t, "10.1.0.0/16"), Gateway: addr(t, "10.0.0.1"), OIF: 2, Table: 254, Metric: 100, Protocol: unix.RTPROT_BOOT, Type: unix.RTN_UNICAST},
					{Dst: pfx(t, "10.2.0.0/16"), OIF: 2, Table: 51820, Scope: unix.RT_SCOPE_LINK, Protocol: unix.RTPROT_BOOT, Type: unix.RTN_UNICAST},
					{Dst: pfx(t, "10.0.0.0/24"), OIF: 2, Table: 254, Scope: unix.RT_SCOPE_LINK, Protocol: unix.RTPROT_KERNEL, Type: unix.RTN_UNICAST},
				} {
					if !containsRoute(got, want) {
						t.Errorf("parsed routes lack %+v; got %+v", want, got)
					}
				}
			},
		},
		{
			name: "route-v6-all", ip: []string{"-6", "route", "show", "table", "all"}, typ: unix.RTM_NEWROUTE,
			check: func(t *testing.T, msgs []nl.Message) {
				got := parseRoutes(t, msgs)
				want := Route{Dst: pfx(t, "::/0"), Gateway: addr(t, "2001:db8::1"), OIF: 2, Table: 254, Metric: 1024, Protocol: unix.RTPROT_BOOT, Type: unix.RTN_UNICAST}
				if !containsRoute(got, want) {
					t.Errorf("parsed routes lack %+v; got %+v", want, got)
				}
			},
		},
		{
			name: "rule-v4", ip: []string{"-4", "rule", "show"}, typ: unix.RTM_NEWRULE,
			check: func(t *testing.T, msgs []nl.Message) {
				var got []Rule
				for _, m := range msgs {
					pr, err := parseRule(m)
					if err != nil {
						t.Fatal(err)
					}
					if pr.other || !pr.lookup {
						t.Errorf("rule %s: other selectors %v, lookup %v; want none, true", pr.Rule, pr.other, pr.lookup)
					}
					got = append(got, pr.Rule)
				}
				want := []Rule{
					{Family: unix.AF_INET, Priority: 0, Table: unix.RT_TABLE_LOCAL},
					{Family: unix.AF_INET, Priority: 32764, Table: unix.RT_TABLE_MAIN, SuppressPrefixLen: new(0)},
					{Family: unix.AF_INET, Priority: 32765, Table: 51820, Mark: 51820, Invert: true},
					{Family: unix.AF_INET, Priority: 32766, Table: unix.RT_TABLE_MAIN},
					{Family: unix.AF_INET, Priority: 32767, Table: unix.RT_TABLE_DEFAULT},
				}
				if !reflect.DeepEqual(got, want) {
					t.Errorf("parsed rules:\n%v\nwant:\n%v", got, want)
				}
			},
		},
		{
			name: "rule-v6", ip: []string{"-6", "rule", "show"}, typ: unix.RTM_NEWRULE,
			check: func(t *testing.T, msgs []nl.Message) {
				var got []Rule
				for _, m := range msgs {
					pr, err := parseRule(m)
					if err != nil {
						t.Fatal(err)
					}
					got = append(got, pr.Rule)
				}
				want := Rule{Family: unix.AF_INET6, Priority: 100, Table: 51820, Mark: 0xca6c, Mask: 0xffff}
				found := false
				for _, r := range got {
					found = found || r.equal(want)
				}
				if !found {
					t.Errorf("parsed rules %v lack %v", got, want)
				}
			},
		},
	}
}

func parseRoutes(t *testing.T, msgs []nl.Message) []Route {
	t.Helper()
	var routes []Route
	for _, m := range msgs {
		r, _, err := parseRoute(m)
		if err != nil {
			t.Fatal(err)
		}
		routes = append(routes, r)
	}
	return routes
}

func containsRoute(routes []Route, r Route) bool {
	for _, x := range routes {
		if x == r {
			return true
		}
	}
	return false
}

// TestParseCapturedReplies decodes kernel replies captured from iproute2
// (testdata/replies; -capture re-captures them as root).
func TestParseCapturedReplies(t *testing.T) {
	skipBigEndian(t)
	if *capture {
		captureReplies(t)
	}
	for _, tc := range replyCases() {
		t.Run(tc.name, func(t *testing.T) {
			b, err := readHex(filepath.Join("testdata", "replies", tc.name+".hex"))
			if err != nil {
				t.Fatalf("%v (run as root with -capture to create it)", err)
			}
			all, err := nl.ParseMessages(b)
			if err != nil {
				t.Fatal(err)
			}
			var msgs []nl.Message
			for _, m := range all {
				if m.Type == tc.typ {
					msgs = append(msgs, m)
				}
			}
			if len(msgs) == 0 {
				t.Fatalf("no message of type %d in %d", tc.typ, len(all))
			}
			tc.check(t, msgs)
		})
	}
}

// captureReplies rewrites testdata/replies/*.hex: the messages of the
// wanted type that the kernel sent ip, deduplicated (ip peeks first).
func captureReplies(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Fatal("-capture needs root")
	}
	version := ipVersion(t)
	for _, tc := range replyCases() {
		scratchNS(t, replySetup, func(ns string) {
			var out []byte
			seen := make(map[string]bool)
			for _, d := range straceIP(t, ns, tc.ip, true) {
				msgs, err := nl.ParseMessages(d)
				if err != nil {
					continue
				}
				for _, m := range msgs {
					if m.Type != tc.typ {
						continue
					}
					b, err := m.MarshalBinary()
					if err != nil {
						t.Fatal(err)
					}
					b = normalise(b)
					if seen[string(b)] {
						continue
					}
					seen[string(b)] = true
					out = append(out, b...)
				}
			}
			if out == nil {
				t.Fatalf("ip %s received no message of type %d", strings.Join(tc.ip, " "), tc.typ)
			}
			var sb strings.Builder
			fmt.Fprintf(&sb, "# %s: the kernel's replies to `ip %s`.\n", tc.name, strings.Join(tc.ip, " "))
			fmt.Fprintf(&sb, "# Captured by `go test -run TestParseCapturedReplies -capture` (replies_linux_test.go) with\n")
			fmt.Fprintf(&sb, "#   strace -f -xx -e trace=recvmsg,recvfrom -e read=all ip -n NS %s\n", strings.Join(tc.ip, " "))
			fmt.Fprintf(&sb, "# in a scratch netns set up as replySetup says; %s.\n", version)
			fmt.Fprintf(&sb, "# Only messages of type %d, each once; seq normalised to 1, pid to 0.\n", tc.typ)
			sb.WriteString(annotate(out))
			path := filepath.Join("testdata", "replies", tc.name+".hex")
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, []byte(sb.String()), 0o644); err != nil {
				t.Fatal(err)
			}
		})
	}
}
