package netsetup

import (
	"fmt"
	"time"

	"golang.org/x/sys/unix"

	"github.com/wgboot/wgboot/netsetup/internal/nl"
)

// Handle runs rtnetlink operations over one NETLINK_ROUTE socket. It acts on
// the network namespace the socket was opened in. Its methods are safe for
// concurrent use; requests are serialised.
type Handle struct {
	c *nl.Conn
	// subscribe opens a notification socket joined to groups, for
	// WaitCarrier and WaitDAD. Tests replace it to open the socket inside
	// their network namespace.
	subscribe func(groups ...uint32) (*nl.Subscription, error)
}

// Open opens a Handle on a new NETLINK_ROUTE socket in the network namespace
// of the calling thread.
func Open() (*Handle, error) {
	c, err := nl.Dial(unix.NETLINK_ROUTE)
	if err != nil {
		return nil, fmt.Errorf("open rtnetlink socket: %w", err)
	}
	return NewHandle(c), nil
}

// NewHandle returns a Handle that uses c, a NETLINK_ROUTE connection: one
// dialled in another network namespace, or a fake kernel from nltest.
// [Handle.WaitCarrier] and [Handle.WaitDAD] subscribe to events in the
// namespace of the calling thread.
func NewHandle(c *nl.Conn) *Handle {
	return &Handle{c: c, subscribe: subscribe}
}

// subscribe opens a notification socket for rtnetlink groups.
func subscribe(groups ...uint32) (*nl.Subscription, error) {
	return nl.Subscribe(unix.NETLINK_ROUTE, groups...)
}

// Close closes the Handle's socket.
func (h *Handle) Close() error {
	return h.c.Close()
}

// OptionsErr reports the best-effort socket options (extended ACK, capped
// ACK, strict checking) the kernel refused, for a debug log line; nil if it
// accepted them all.
func (h *Handle) OptionsErr() error {
	return h.c.OptionsErr()
}

// ack runs a request built with NLM_F_ACK, whose only reply is the
// acknowledgement.
func (h *Handle) ack(req nl.Message, op string) error {
	_, err := h.c.Execute(req, op)
	return err
}

// Flags of the requests. Execute adds NLM_F_REQUEST too; the builders set it
// so that their output is the message as sent, compared with the golden
// vectors.
const (
	flagsGet     = unix.NLM_F_REQUEST
	flagsDump    = unix.NLM_F_REQUEST | unix.NLM_F_DUMP
	flagsAck     = unix.NLM_F_REQUEST | unix.NLM_F_ACK
	flagsCreate  = flagsAck | unix.NLM_F_CREATE | unix.NLM_F_EXCL
	flagsReplace = flagsAck | unix.NLM_F_CREATE | unix.NLM_F_REPLACE
)

// message builds a request from a fixed header and attributes, which may be
// nil.
func message(typ, flags uint16, fixed []byte, ae *nl.AttrEncoder) (nl.Message, error) {
	data, err := nl.Payload(fixed, ae)
	if err != nil {
		return nl.Message{}, err
	}
	return nl.Message{Header: nl.Header{Type: typ, Flags: flags}, Data: data}, nil
}

// SetDeadline bounds every netlink exchange of the Handle that follows by
// t: no reply is awaited past it and no request sent after it, the error
// then wrapping os.ErrDeadlineExceeded; the zero time removes the bound.
// Bind a phase's context deadline to it so that a kernel call that never
// answers ends with the phase. WaitCarrier and WaitDAD follow their
// context as well.
func (h *Handle) SetDeadline(t time.Time) {
	h.c.SetDeadline(t)
}
