// Package nltest provides a fake netlink kernel for testing code built on
// package nl.
//
// The fake kernel is a function, [Func], that receives each request and
// returns the replies. [Dial] puts it behind a real *nl.Conn, so the code
// under test runs the production request/response logic: sequence checks,
// multipart handling, ACKs and extended-ACK errors. Helpers build the
// replies a kernel would send ([Ack], [Errno], [Dump]) and compose fakes
// ([ServeFamily], [CheckRequest], [Recorder]).
//
// Replies with more than one message are delivered in two datagrams, as the
// kernel does for a reply followed by its ACK, so callers' receive loops
// are exercised.
package nltest
