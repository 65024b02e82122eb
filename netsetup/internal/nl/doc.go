// Package nl is wgboot's netlink core: a message and attribute codec, the
// kernel's error and extended-acknowledgement format, and a request/response
// connection with deadlines.
//
// It is internal-only and deliberately small: it knows nothing about links,
// addresses or WireGuard. Callers build a [Message] whose payload is a fixed
// family header followed by attributes ([AttrEncoder], [Payload],
// [GenlPayload]), run it with [Conn.Execute], and decode replies with
// [AttrDecoder]. [Conn.ExecuteBatch] runs many requests that are only
// acknowledged, such as routes, several per write, and reports the outcome
// of each. [Conn.SetDeadline] bounds every exchange by an absolute time,
// such as a context's deadline.
//
// # Portability
//
// Everything except conn_linux.go is portable Go using [binary.NativeEndian],
// so the codec can be tested and fuzzed on any development machine. The few
// kernel constants the portable code needs are mirrored in uapi.go with the C
// definition quoted; a Linux-only test pins them to golang.org/x/sys/unix.
// conn_linux.go is the only file in wgboot that opens an AF_NETLINK socket.
//
// # Errors
//
// Every error returned by [Conn.Execute], and each one [Conn.ExecuteBatch]
// reports, is an [*Error] carrying the operation, the sequence number and,
// for kernel errors, the extended-ACK text. It unwraps to the underlying
// error, normally a unix.Errno, so callers branch with
// errors.Is(err, unix.EEXIST).
//
// # Testing
//
// [NewConn] accepts any [Socket]; package nltest uses it to put a fake kernel,
// written as a plain function, behind a real *Conn.
package nl
