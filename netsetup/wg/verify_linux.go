package wg

import (
	"cmp"
	"errors"
	"fmt"
	"net/netip"
	"sort"
	"strconv"
	"strings"

	"github.com/wgboot/wgboot/internal/wgkey"
)

// ErrMismatch is wrapped by every difference Verify reports.
var ErrMismatch = errors.New("wireguard device differs from its configuration")

// mismatch is one difference found by Verify.
type mismatch struct{ msg string }

func (m *mismatch) Error() string        { return m.msg }
func (m *mismatch) Is(target error) bool { return target == ErrMismatch }

// Verify compares a device read back after Configure with the
// configuration applied, and reports every difference (at most 20 listed)
// joined, each matching ErrMismatch. Only what want sets is compared:
//
//   - the public key derived from the private key, the listen port (unless
//     0, which lets the kernel pick) and the firewall mark;
//   - each peer: present (absent if removed, or if UpdateOnly and not
//     there), with the endpoint, keepalive, whether a preshared key is
//     set, and its allowed IPs, compared as sets of masked prefixes: equal
//     with ReplaceAllowedIPs or ReplacePeers, else contained;
//   - with ReplacePeers, no other peers.
//
// A peer whose key is the device's own public key is expected to be absent:
// the kernel ignores it, on purpose, so that one peer list can serve every
// node. Public keys appear in the report; secret keys never do.
func Verify(want Config, got *Device) error {
	var p problems
	add := func(format string, args ...any) {
		p.add(&mismatch{msg: fmt.Sprintf(format, args...)})
	}
	var self wgkey.Key
	if got.HasPrivateKey {
		self = got.PublicKey
	}
	if want.PrivateKey != nil {
		switch {
		case want.PrivateKey.IsZero() && got.HasPrivateKey:
			add("private key set, want none")
		case want.PrivateKey.IsZero():
		case !got.HasPrivateKey:
			add("no private key, want one")
		default:
			if pub := want.PrivateKey.PublicKey(); pub != got.PublicKey {
				add("public key %s, want %s (derived from the private key)", got.PublicKey, pub)
			}
		}
	}
	if want.ListenPort != nil && *want.ListenPort != 0 && *want.ListenPort != got.ListenPort {
		add("listen port %d, want %d", got.ListenPort, *want.ListenPort)
	}
	if want.FirewallMark != nil && *want.FirewallMark != got.FirewallMark {
		add("firewall mark %#x, want %#x", got.FirewallMark, *want.FirewallMark)
	}

	byKey := make(map[wgkey.Key]*Peer, len(got.Peers))
	for i := range got.Peers {
		byKey[got.Peers[i].PublicKey] = &got.Peers[i]
	}
	wanted := make(map[wgkey.Key]bool, len(want.Peers))
	for i := range want.Peers {
		wp := &want.Peers[i]
		gp := byKey[wp.PublicKey]
		name := fmt.Sprintf("peer %s (peers[%d])", wp.PublicKey, i)
		switch {
		case wp.Remove:
			if gp != nil {
				add("%s: present, want removed", name)
			}
			continue
		case !self.IsZero() && wp.PublicKey == self:
			// Ignored by the kernel; see above.
			continue
		case gp == nil && wp.UpdateOnly:
			continue
		case gp == nil:
			add("%s: missing", name)
			continue
		}
		wanted[wp.PublicKey] = true
		if wp.Endpoint.IsValid() && !sameEndpoint(wp.Endpoint, gp.Endpoint) {
			add("%s: endpoint %v, want %v", name, gp.Endpoint, wp.Endpoint)
		}
		if wp.PersistentKeepalive != nil && *wp.PersistentKeepalive != gp.PersistentKeepalive {
			add("%s: persistent keepalive %v, want %v", name, gp.PersistentKeepalive, *wp.PersistentKeepalive)
		}
		if wp.PresharedKey != nil && wp.PresharedKey.IsZero() == gp.HasPresharedKey {
			if gp.HasPresharedKey {
				add("%s: preshared key set, want none", name)
			} else {
				add("%s: no preshared key, want one", name)
			}
		}
		exact := wp.ReplaceAllowedIPs || want.ReplacePeers
		if missing, extra := diffPrefixes(wp.AllowedIPs, gp.AllowedIPs); len(missing) > 0 || (exact && len(extra) > 0) {
			var parts []string
			if len(missing) > 0 {
				parts = append(parts, "missing "+prefixList(missing))
			}
			if exact && len(extra) > 0 {
				parts = append(parts, "unexpected "+prefixList(extra))
			}
			add("%s: allowed IPs %s", name, strings.Join(parts, ", "))
		}
	}
	if want.ReplacePeers {
		for i := range got.Peers {
			if k := got.Peers[i].PublicKey; !wanted[k] {
				add("peer %s: present, want only the configured peers", k)
			}
		}
	}
	return p.err()
}

// sameEndpoint compares endpoints, resolving an interface-name zone in
// want to the scope ID the kernel reports.
func sameEndpoint(want, got netip.AddrPort) bool {
	if want.Port() != got.Port() || want.Addr().WithZone("") != got.Addr().WithZone("") {
		return false
	}
	wz, gz := want.Addr().Zone(), got.Addr().Zone()
	if wz == gz {
		return true
	}
	id, err := scopeID(wz)
	return err == nil && strconv.FormatUint(uint64(id), 10) == cmp.Or(gz, "0")
}

// diffPrefixes returns the masked prefixes of want missing from got, and
// those of got not in want, each sorted.
func diffPrefixes(want, got []netip.Prefix) (missing, extra []netip.Prefix) {
	w := sortedMasked(want)
	g := sortedMasked(got)
	i, j := 0, 0
	for i < len(w) || j < len(g) {
		switch {
		case j == len(g) || (i < len(w) && comparePrefix(w[i], g[j]) < 0):
			missing = append(missing, w[i])
			i++
		case i == len(w) || comparePrefix(w[i], g[j]) > 0:
			extra = append(extra, g[j])
			j++
		default:
			i++
			j++
		}
	}
	return missing, extra
}

// sortedMasked returns ps masked, sorted and without repeats. A peer has
// a few allowed IPs: an insertion sort, and sort.Slice (whose code /init
// has anyway) for longer lists, rather than slices.SortFunc and
// CompactFunc, whose pdqsort /init would carry a copy of for netip.Prefix
// alone.
func sortedMasked(ps []netip.Prefix) []netip.Prefix {
	out := make([]netip.Prefix, len(ps))
	for i, p := range ps {
		out[i] = p.Masked()
	}
	if len(out) > 12 {
		sort.Slice(out, func(i, j int) bool { return comparePrefix(out[i], out[j]) < 0 })
	} else {
		for i := 1; i < len(out); i++ {
			for j := i; j > 0 && comparePrefix(out[j], out[j-1]) < 0; j-- {
				out[j], out[j-1] = out[j-1], out[j]
			}
		}
	}
	n := 0
	for _, p := range out {
		if n == 0 || p != out[n-1] {
			out[n] = p
			n++
		}
	}
	return out[:n]
}

func comparePrefix(a, b netip.Prefix) int {
	return cmp.Or(a.Addr().Compare(b.Addr()), cmp.Compare(a.Bits(), b.Bits()))
}

// prefixList formats up to 5 prefixes.
func prefixList(ps []netip.Prefix) string {
	const show = 5
	var sb strings.Builder
	for i, p := range ps {
		if i == show {
			fmt.Fprintf(&sb, " and %d more", len(ps)-show)
			break
		}
		if i > 0 {
			sb.WriteByte(' ')
		}
		sb.WriteString(p.String())
	}
	return sb.String()
}
