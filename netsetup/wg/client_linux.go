package wg

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"golang.org/x/sys/unix"

	"github.com/wgboot/wgboot/internal/progress"
	"github.com/wgboot/wgboot/internal/wgkey"
	"github.com/wgboot/wgboot/netsetup/internal/nl"
)

// ErrNotLoaded is wrapped by the error of Open and NewClient when the
// kernel has no "wireguard" generic netlink family: the module is not
// loaded (or not built).
var ErrNotLoaded = errors.New("wireguard module not loaded")

// HandshakePollInterval is how often WaitHandshake reads the device.
const HandshakePollInterval = 100 * time.Millisecond

// Client talks to the kernel's WireGuard generic netlink family. Configure,
// Device and WaitHandshake are safe for concurrent use, serialised on one
// socket; call SetMessageSize before using it.
type Client struct {
	conn        *nl.Conn
	family      uint16
	messageSize int
}

// Open dials a generic netlink socket and resolves the "wireguard" family.
// If the module is not loaded, the error wraps ErrNotLoaded and
// unix.ENOENT.
func Open() (*Client, error) {
	conn, err := nl.Dial(unix.NETLINK_GENERIC)
	if err != nil {
		return nil, fmt.Errorf("open wireguard netlink: %w", err)
	}
	c, err := NewClient(conn)
	if err != nil {
		// The resolve error is what matters; the socket carried nothing.
		_ = conn.Close()
		return nil, err
	}
	return c, nil
}

// NewClient returns a Client that uses conn, a NETLINK_GENERIC connection,
// after resolving the "wireguard" family on it. The Client owns conn.
// Production code uses Open; tests pass a fake kernel's conn (nltest).
func NewClient(conn *nl.Conn) (*Client, error) {
	id, err := conn.ResolveFamily(unix.WG_GENL_NAME)
	if errors.Is(err, unix.ENOENT) {
		return nil, fmt.Errorf("%w: %w", ErrNotLoaded, err)
	}
	if err != nil {
		return nil, fmt.Errorf("resolve generic netlink family %q: %w", unix.WG_GENL_NAME, err)
	}
	return &Client{conn: conn, family: id, messageSize: DefaultMessageSize}, nil
}

// Close closes the netlink socket.
func (c *Client) Close() error {
	return c.conn.Close()
}

// SetDeadline bounds every netlink exchange of the Client that follows by
// t: no reply is awaited past it and no message sent after it, the error
// then wrapping os.ErrDeadlineExceeded; the zero time removes the bound.
// Bind a phase's context deadline to it so that a kernel call that never
// answers ends with the phase. WaitHandshake follows its context as well.
func (c *Client) SetDeadline(t time.Time) {
	c.conn.SetDeadline(t)
}

// SetMessageSize sets the byte budget of each SET message, headers
// included, clamped to [MinMessageSize, 65535]; n <= 0 restores
// DefaultMessageSize. Tests use small budgets to exercise splitting.
func (c *Client) SetMessageSize(n int) {
	switch {
	case n <= 0:
		n = DefaultMessageSize
	case n < MinMessageSize:
		n = MinMessageSize
	case n > maxMessageSize:
		n = maxMessageSize
	}
	c.messageSize = n
}

// Device reads the WireGuard device ifname with a WG_CMD_GET_DEVICE dump,
// retrying (up to 10 times) while the kernel reports that the device
// changed during the dump, and merges peers split across reply parts.
func (c *Client) Device(ifname string) (*Device, error) {
	if err := checkIfname(ifname); err != nil {
		return nil, fmt.Errorf("read wireguard device: %w", err)
	}
	replies, err := c.getDevice(ifname)
	// The replies hold the private and preshared keys.
	defer func() {
		for _, m := range replies {
			clear(m.Data)
		}
	}()
	if err != nil {
		return nil, fmt.Errorf("read wireguard device %s: %w", ifname, err)
	}
	d, err := parseDevice(replies)
	if err != nil {
		return nil, fmt.Errorf("read wireguard device %s: %w", ifname, err)
	}
	return d, nil
}

// getDevice runs the WG_CMD_GET_DEVICE dump of ifname, retrying (up to 10
// times) while the kernel reports that the device changed during the dump.
// The replies carry the private and preshared keys: the caller wipes them.
func (c *Client) getDevice(ifname string) ([]nl.Message, error) {
	var ae nl.AttrEncoder
	ae.String(unix.WGDEVICE_A_IFNAME, ifname)
	data, err := nl.GenlPayload(nl.GenlHeader{Command: unix.WG_CMD_GET_DEVICE, Version: unix.WG_GENL_VERSION}, &ae)
	if err != nil {
		return nil, err
	}
	return c.conn.ExecuteDump(nl.Message{Header: nl.Header{Type: c.family}, Data: data}, "WG_CMD_GET_DEVICE")
}

// WaitHandshake polls the device every HandshakePollInterval until each of
// peers (every peer of the device if peers is empty) has completed a
// handshake after since, or ctx ends. It returns the handshake times seen
// so far; on timeout the error wraps ctx's error and names a peer still
// waiting.
//
// Each poll costs time linear in the device's peers: the dump is decoded
// for public keys and handshake times only, into a map keyed by public key,
// and only the peers still waiting are looked up.
//
// Handshake times are wall-clock times, so since should come from
// time.Now, and a clock set between the two makes the result meaningless.
func (c *Client) WaitHandshake(ctx context.Context, ifname string, since time.Time, peers []wgkey.Key) (map[wgkey.Key]time.Time, error) {
	if err := checkIfname(ifname); err != nil {
		return nil, fmt.Errorf("wait for handshake: %w", err)
	}
	got := make(map[wgkey.Key]time.Time)
	every := len(peers) == 0
	pending := slices.Clone(peers)
	var seen map[wgkey.Key]time.Time
	t := time.NewTicker(HandshakePollInterval)
	defer t.Stop()
	for {
		var err error
		if seen, err = c.handshakes(ifname, seen); err != nil {
			return got, err
		}
		if every {
			// The device's peers as they are now, less those done.
			pending = pending[:0]
			for k := range seen {
				if _, done := got[k]; !done {
					pending = append(pending, k)
				}
			}
		}
		pending = shookHands(seen, since, pending, got)
		if len(pending) == 0 {
			return got, nil
		}
		select {
		case <-ctx.Done():
			return got, fmt.Errorf("wait for handshake on %s: %d of %d peers pending, %s first: %w",
				ifname, len(pending), len(pending)+len(got), pending[0], ctx.Err())
		case <-t.C:
			progress.Report(ctx) // waiting in bounds: the boot moves
		}
	}
}

// shookHands moves the peers of pending whose handshake in seen is after
// since to got, and returns the others, reusing pending's array: one map
// lookup per waiting peer.
func shookHands(seen map[wgkey.Key]time.Time, since time.Time, pending []wgkey.Key, got map[wgkey.Key]time.Time) []wgkey.Key {
	waiting := pending[:0]
	for _, k := range pending {
		if hs := seen[k]; hs.After(since) {
			got[k] = hs
		} else if _, done := got[k]; !done {
			waiting = append(waiting, k)
		}
	}
	return waiting
}

// handshakes reads the last handshake time of every peer of ifname into
// seen, emptied first (allocated if nil), with a WG_CMD_GET_DEVICE dump
// decoded for public keys and handshake times only.
func (c *Client) handshakes(ifname string, seen map[wgkey.Key]time.Time) (map[wgkey.Key]time.Time, error) {
	replies, err := c.getDevice(ifname)
	// The replies hold the private and preshared keys.
	defer func() {
		for _, m := range replies {
			clear(m.Data)
		}
	}()
	if err != nil {
		return seen, fmt.Errorf("read wireguard device %s: %w", ifname, err)
	}
	if seen == nil {
		seen = make(map[wgkey.Key]time.Time)
	}
	clear(seen)
	if err := parseHandshakes(replies, seen); err != nil {
		return seen, fmt.Errorf("read wireguard device %s: %w", ifname, err)
	}
	return seen, nil
}
