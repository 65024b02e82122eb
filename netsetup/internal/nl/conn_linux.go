//go:build linux

package nl

import (
	"errors"
	"fmt"
	"math"
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// Dial opens a request socket for a netlink protocol such as
// unix.NETLINK_ROUTE or unix.NETLINK_GENERIC.
//
// The socket belongs to the network namespace of the calling OS thread;
// once open it may be used from any goroutine.
//
// Dial also sets, best effort, NETLINK_EXT_ACK (Linux 4.12: error text in
// replies), NETLINK_CAP_ACK (4.3: errors do not echo the request, so they
// stay small) and NETLINK_GET_STRICT_CHK (4.20: dump filters are honoured
// and checked). Older kernels reject them with ENOPROTOOPT; the Conn then
// works with less detail, and OptionsErr reports what was refused.
func Dial(protocol int) (*Conn, error) {
	s, err := openSocket(protocol)
	if err != nil {
		return nil, err
	}
	c := NewConn(s)
	var errs []error
	for _, o := range []struct {
		name string
		opt  int
	}{
		{"NETLINK_EXT_ACK", unix.NETLINK_EXT_ACK},
		{"NETLINK_CAP_ACK", unix.NETLINK_CAP_ACK},
		{"NETLINK_GET_STRICT_CHK", unix.NETLINK_GET_STRICT_CHK},
	} {
		if err := unix.SetsockoptInt(s.fd, unix.SOL_NETLINK, o.opt, 1); err != nil {
			errs = append(errs, fmt.Errorf("set %s: %w", o.name, err))
		}
	}
	c.optsErrs = errors.Join(errs...)
	return c, nil
}

// Subscribe opens a notification socket for protocol joined to the given
// multicast groups, such as unix.RTNLGRP_LINK. It is separate from request
// sockets so that notifications never interleave with replies.
func Subscribe(protocol int, groups ...uint32) (*Subscription, error) {
	s, err := openSocket(protocol)
	if err != nil {
		return nil, err
	}
	for _, g := range groups {
		if err := s.JoinGroup(g); err != nil {
			// The join error is what the caller needs; a close error on a
			// socket that never carried data adds nothing.
			_ = s.Close()
			return nil, &Error{Op: fmt.Sprintf("join group %d", g), Err: err}
		}
	}
	return NewSubscription(s), nil
}

// sysSocket is a bound AF_NETLINK socket. Receives poll with a timeout, so
// no read can outlive its deadline.
type sysSocket struct {
	fd int
}

// openSocket opens and binds an AF_NETLINK socket; the kernel assigns the
// port ID.
func openSocket(protocol int) (*sysSocket, error) {
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC, protocol)
	if err != nil {
		return nil, &Error{Op: "dial", Err: os.NewSyscallError("socket", err)}
	}
	if err := unix.Bind(fd, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		// The bind error is the one to report; fd is unused.
		_ = unix.Close(fd)
		return nil, &Error{Op: "dial", Err: os.NewSyscallError("bind", err)}
	}
	return &sysSocket{fd: fd}, nil
}

// Send implements Socket.
func (s *sysSocket) Send(b []byte) error {
	for {
		err := unix.Sendto(s.fd, b, 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK})
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return os.NewSyscallError("sendto", err)
		}
		return nil
	}
}

// Receive implements Socket: a non-blocking recvmsg with MSG_TRUNC, so a
// too-small buffer is detected, and a poll until deadline only when
// nothing is queued. The kernel handles a request inside the send call, so
// its replies are normally queued already and one system call reads each.
func (s *sysSocket) Receive(b []byte, deadline time.Time) (int, uint32, error) {
	for {
		n, _, flags, from, err := unix.Recvmsg(s.fd, b, nil, unix.MSG_DONTWAIT|unix.MSG_TRUNC)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if errors.Is(err, unix.EAGAIN) {
			if err := s.wait(deadline); err != nil {
				return 0, 0, err
			}
			continue
		}
		if err != nil {
			return 0, 0, os.NewSyscallError("recvmsg", err)
		}
		if flags&unix.MSG_TRUNC != 0 && n <= len(b) {
			n = len(b) + 1
		}
		sa, ok := from.(*unix.SockaddrNetlink)
		if !ok {
			return 0, 0, fmt.Errorf("recvmsg: unexpected source address %T", from)
		}
		return n, sa.Pid, nil
	}
}

// wait polls until the socket is readable or has an error, or deadline.
func (s *sysSocket) wait(deadline time.Time) error {
	for {
		wait := time.Until(deadline)
		if wait <= 0 {
			return os.ErrDeadlineExceeded
		}
		ms := min((wait+time.Millisecond-1)/time.Millisecond, math.MaxInt32)
		fds := []unix.PollFd{{Fd: int32(s.fd), Events: unix.POLLIN}}
		n, err := unix.Poll(fds, int(ms))
		if errors.Is(err, unix.EINTR) || (err == nil && n == 0) {
			continue
		}
		if err != nil {
			return os.NewSyscallError("poll", err)
		}
		// Readable, or POLLERR (for example ENOBUFS after an overrun),
		// which recvmsg reports.
		return nil
	}
}

// JoinGroup implements groupJoiner.
func (s *sysSocket) JoinGroup(group uint32) error {
	err := unix.SetsockoptInt(s.fd, unix.SOL_NETLINK, unix.NETLINK_ADD_MEMBERSHIP, int(group))
	return os.NewSyscallError("setsockopt NETLINK_ADD_MEMBERSHIP", err)
}

// Close implements Socket.
func (s *sysSocket) Close() error {
	return os.NewSyscallError("close", unix.Close(s.fd))
}
