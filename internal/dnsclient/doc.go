// Package dnsclient looks up the addresses of a host name in the DNS: a
// stub resolver (RFC 1035 §7) that asks a given list of recursive servers
// for the name's A and AAAA records, over UDP and, when an answer comes
// back truncated, over TCP.
//
// PID 1 resolves peer endpoints with it, before anything like
// /etc/resolv.conf exists. Messages are built and parsed by
// golang.org/x/net/dns/dnsmessage; what a reply must be to be believed is
// checked here: RFC 5452's random query ID, echoed question and server
// address and port, and RFC 2181's ranking — only answer-section records on
// the CNAME chain from the name asked count. Sockets are opened with
// golang.org/x/sys/unix and waited on through the runtime's poller
// (os.NewFile), so no cgo and no package net are linked: package net's
// resolver costs /init about ten times the bytes.
package dnsclient
