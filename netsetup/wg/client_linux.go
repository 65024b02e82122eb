package wg

import (
	"context"
	"errors"
	"fmt"
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
// socket; call SetLogf and SetMessageSize before using it.
type Client struct {
	conn        *nl.Conn
	family      uint16
	messageSize int
	logf        func(format string, args ...any)
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

// SetLogf sets where Configure reports what it applied: one line, printf
// style and without a trailing newline, with the interface, peer and
// message counts, bytes sent, duration and the device's public key. nil,
// the default, logs nothing. Secret keys are never logged.
//
// It takes a function rather than a *slog.Logger so that the init binary
// does not link log/slog for one line; log.Printf fits it as it is.
func (c *Client) SetLogf(logf func(format string, args ...any)) {
	c.logf = logf
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
	var ae nl.AttrEncoder
	ae.String(unix.WGDEVICE_A_IFNAME, ifname)
	data, err := nl.GenlPayload(nl.GenlHeader{Command: unix.WG_CMD_GET_DEVICE, Version: unix.WG_GENL_VERSION}, &ae)
	if err != nil {
		return nil, fmt.Errorf("read wireguard device %s: %w", ifname, err)
	}
	replies, err := c.conn.ExecuteDump(nl.Message{Header: nl.Header{Type: c.family}, Data: data}, "WG_CMD_GET_DEVICE")
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

// WaitHandshake polls the device every HandshakePollInterval until each of
// peers (every peer of the device if peers is empty) has completed a
// handshake after since, or ctx ends. It returns the handshake times seen
// so far; on timeout the error wraps ctx's error and names a peer still
// waiting.
//
// Handshake times are wall-clock times, so since should come from
// time.Now, and a clock set between the two makes the result meaningless.
func (c *Client) WaitHandshake(ctx context.Context, ifname string, since time.Time, peers []wgkey.Key) (map[wgkey.Key]time.Time, error) {
	got := make(map[wgkey.Key]time.Time)
	t := time.NewTicker(HandshakePollInterval)
	defer t.Stop()
	for {
		d, err := c.Device(ifname)
		if err != nil {
			return got, err
		}
		want := peers
		if len(want) == 0 {
			want = make([]wgkey.Key, len(d.Peers))
			for i := range d.Peers {
				want[i] = d.Peers[i].PublicKey
			}
		}
		byKey := make(map[wgkey.Key]time.Time, len(d.Peers))
		for i := range d.Peers {
			byKey[d.Peers[i].PublicKey] = d.Peers[i].LastHandshake
		}
		var pending []wgkey.Key
		for _, k := range want {
			if hs := byKey[k]; hs.After(since) {
				got[k] = hs
			} else {
				pending = append(pending, k)
			}
		}
		if len(pending) == 0 {
			return got, nil
		}
		select {
		case <-ctx.Done():
			return got, fmt.Errorf("wait for handshake on %s: %d of %d peers pending, %s first: %w",
				ifname, len(pending), len(want), pending[0], ctx.Err())
		case <-t.C:
			progress.Report(ctx) // waiting in bounds: the boot moves
		}
	}
}
