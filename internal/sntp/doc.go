// Package sntp asks NTP servers for the time: the client side of SNTP
// (RFC 4330), one request and one reply per server, over a connected UDP
// socket, on golang.org/x/sys/unix alone.
//
// The request carries a random nonce where the client's clock would go
// (RFC 9109, NTP client data minimization): a reply must echo it, which an
// attacker off the path cannot forge, and the request tells nobody the
// board's clock. An attacker on the path can still set any time: SNTP has
// no authentication here, as with most of the NTP the Internet serves.
//
// It is not github.com/beevik/ntp, the well-kept client u-root's ntpdate
// uses, for /init's size alone: linked into /init, beevik/ntp v1.6.0 adds
// 184 KB xz on amd64 and 156 KB on arm64 (v0.3.0: 153 and 131 KB), even
// with its Dialer option, since its default dialer and the net package's
// resolver stay reachable, and its symmetric-key authentication brings
// crypto/aes, crypto/sha256, crypto/sha512 and crypto/rand; this package is
// under 6 KB. docs/benchmarks.md ("Libraries weighed for /init") has the
// measurements. Names are looked up by the caller (internal/dnsclient).
package sntp
