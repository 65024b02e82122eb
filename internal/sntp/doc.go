// Package sntp asks NTP servers for the time: the client side of SNTP
// (RFC 4330), one request and one reply per server, over a connected UDP
// socket, on golang.org/x/sys/unix alone.
//
// The request carries a random nonce where the client's clock would go
// (RFC 9109, NTP client data minimization): a reply must echo it, which an
// attacker off the path cannot forge, and the request tells nobody the
// board's clock. An attacker on the path can still set any time: SNTP has
// no authentication here, as with most of the NTP the Internet serves.
package sntp
