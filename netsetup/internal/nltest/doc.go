// Package nltest provides a fake netlink kernel for testing code built on
// package nl, and a printer for netlink messages.
//
// The fake kernel is a function, [Func], that receives each request and
// returns the replies. [Dial] puts it behind a real *nl.Conn, so the code
// under test runs the production request/response logic: sequence checks,
// multipart handling, ACKs and extended-ACK errors. Helpers build the
// replies a kernel would send ([Ack], [Errno], [Dump]) and compose fakes
// ([ServeFamily], [CheckRequest], [Recorder]). A [Socket], put behind a
// Conn with nl.NewConn, also shows each write and can bound the receive
// queue, dropping replies with ENOBUFS as the kernel does.
//
// Replies with more than one message are delivered in two datagrams, as the
// kernel does for a reply followed by its ACK, so callers' receive loops
// are exercised.
//
// [Fprint] and [FprintGeneric] render a message on one line, for test
// transcripts and failure output; they live here so that no production
// binary carries them.
package nltest
