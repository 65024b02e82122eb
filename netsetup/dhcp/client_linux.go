package dhcp

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv4"
	"github.com/insomniacslk/dhcp/dhcpv4/nclient4"
	"github.com/mdlayher/packet"
	"golang.org/x/sys/unix"
)

// Config says where to ask for a lease.
type Config struct {
	// Interface, Index and HWAddr name the link: its name, interface
	// index and Ethernet address.
	Interface string
	Index     int32
	HWAddr    net.HardwareAddr
	// Logf, if not nil, receives a line for each unanswered message,
	// NAK and unusable ACK.
	Logf func(format string, args ...any)

	// Retransmit is the wait after the n-th transmission of a message
	// (n from 0); nil means RFC 2131 section 4.1's schedule (see
	// [Backoff]). Tests shorten it.
	Retransmit func(n int) time.Duration
	// conn replaces the packet socket, for tests.
	conn net.PacketConn
}

// requestTries is how often a REQUEST is sent before the client starts
// over with a DISCOVER (RFC 2131 section 3.1, step 5).
const requestTries = 3

// restartDelay separates a NAK or an unusable ACK from the next DISCOVER,
// so that a broken server cannot make the client spin.
var restartDelay = time.Second

// Backoff is RFC 2131 section 4.1's retransmission schedule: 4 s before
// the second transmission, doubling up to 64 s, each randomised by ±1 s.
func Backoff(n int) time.Duration {
	d := 4 * time.Second << min(n, 4)
	return d - time.Second + rand.N(2*time.Second)
}

// Client is a DHCP client on one link, its packet socket open.
type Client struct {
	c  Config
	cl *nclient4.Client
}

// Open opens the client's packet socket, in the network namespace of the
// calling thread: a client that runs its exchange on another goroutine is
// still bound to the link it was opened for.
func Open(c Config) (*Client, error) {
	if len(c.HWAddr) != 6 {
		return nil, fmt.Errorf("dhcp on %s: hardware address %v is not Ethernet's", c.Interface, c.HWAddr)
	}
	if c.Retransmit == nil {
		c.Retransmit = Backoff
	}
	if c.Logf == nil {
		c.Logf = func(string, ...any) {}
	}
	conn := c.conn
	if conn == nil {
		var err error
		if conn, err = openConn(c); err != nil {
			return nil, fmt.Errorf("dhcp on %s: %w", c.Interface, err)
		}
	}
	// Each transmission is ended by its own context, not by nclient4's
	// timer; one try per SendAndRead, so that the schedule is ours.
	cl, err := nclient4.NewWithConn(conn, c.HWAddr, nclient4.WithRetry(1), nclient4.WithTimeout(time.Hour))
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("dhcp on %s: %w", c.Interface, err)
	}
	return &Client{c: c, cl: cl}, nil
}

// Close closes the client's socket.
func (c *Client) Close() error { return c.cl.Close() }

// Obtain opens a client, obtains a lease (see [Client.Obtain]) and closes
// the client.
func Obtain(ctx context.Context, c Config) (*Lease, error) {
	cl, err := Open(c)
	if err != nil {
		return nil, err
	}
	defer cl.Close()
	return cl.Obtain(ctx)
}

// Obtain runs DHCPv4's DISCOVER, OFFER, REQUEST, ACK exchange on the link
// until it has a usable lease or ctx ends; give ctx a deadline. Each
// message is retransmitted with backoff; a REQUEST that stays unanswered,
// a NAK or an unusable ACK starts the exchange over. The link must be up;
// it needs no address: messages go through a packet socket, broadcast.
//
// The client identifies itself by its hardware address, in chaddr and as
// client identifier 01:<mac> (option 61), so that the next stage's client
// can renew the lease (see docs/boot.md).
func (c *Client) Obtain(ctx context.Context) (*Lease, error) {
	x := exchange{c: c.c, cl: c.cl, start: time.Now()}
	for {
		l, err := x.once(ctx)
		if err == nil {
			return l, nil
		}
		if ctx.Err() != nil {
			return nil, fmt.Errorf("dhcp on %s: no lease within %v: %w", c.c.Interface,
				time.Since(x.start).Round(100*time.Millisecond), x.cause(err))
		}
		x.last = err
		c.c.Logf("dhcp on %s: %v; starting over", c.c.Interface, err)
		if !sleep(ctx, restartDelay) {
			return nil, fmt.Errorf("dhcp on %s: no lease within %v: %w", c.c.Interface,
				time.Since(x.start).Round(100*time.Millisecond), err)
		}
	}
}

// exchange is one Obtain's state.
type exchange struct {
	c     Config
	cl    *nclient4.Client
	start time.Time
	sent  int   // DISCOVERs sent, for the final error
	last  error // why the previous round failed
}

// errNoOffer and errNoAck are the rounds that timed out.
var (
	errNoOffer = errors.New("no DHCPOFFER")
	errNoAck   = errors.New("no DHCPACK")
)

// cause is what Obtain reports when ctx ends during a round that failed
// with err: the round's own failure if it had one beyond the deadline,
// else the previous round's.
func (x *exchange) cause(err error) error {
	if errors.Is(err, errNoOffer) {
		if x.last != nil && !errors.Is(x.last, errNoOffer) {
			return fmt.Errorf("%d DHCPDISCOVER unanswered, after: %w", x.sent, x.last)
		}
		return fmt.Errorf("%d DHCPDISCOVER unanswered: %w", x.sent, errNoOffer)
	}
	return err
}

// options are the parameters asked for (option 55) besides the library's
// mask, router, domain name and name servers.
var options = []dhcpv4.OptionCode{
	dhcpv4.OptionClasslessStaticRoute, dhcpv4.OptionInterfaceMTU,
	dhcpv4.OptionIPAddressLeaseTime, dhcpv4.OptionRenewTimeValue, dhcpv4.OptionRebindingTimeValue,
	dhcpv4.OptionServerIdentifier,
}

// once is one DISCOVER to ACK round.
func (x *exchange) once(ctx context.Context) (*Lease, error) {
	mods := []dhcpv4.Modifier{
		dhcpv4.WithRequestedOptions(options...),
		dhcpv4.WithOption(dhcpv4.OptClientIdentifier(append([]byte{1}, x.c.HWAddr...))),
		dhcpv4.WithOption(dhcpv4.OptMaxMessageSize(nclient4.MaxMessageSize)),
	}
	discover, err := dhcpv4.NewDiscovery(x.c.HWAddr, mods...)
	if err != nil {
		return nil, err
	}
	offer, err := x.send(ctx, discover, -1, nclient4.IsMessageType(dhcpv4.MessageTypeOffer))
	if err != nil {
		if errors.Is(err, errNoAnswer) {
			return nil, errNoOffer
		}
		return nil, err
	}
	server := offer.ServerIdentifier()
	request, err := dhcpv4.NewRequestFromOffer(offer, mods...)
	if err != nil {
		return nil, err
	}
	reply, err := x.send(ctx, request, requestTries, nclient4.IsAll(
		nclient4.IsCorrectServer(server),
		nclient4.IsMessageType(dhcpv4.MessageTypeAck, dhcpv4.MessageTypeNak)))
	if err != nil {
		if errors.Is(err, errNoAnswer) {
			return nil, fmt.Errorf("%w from %v for %v (%v)", errNoAck, server, offer.YourIPAddr, err)
		}
		return nil, err
	}
	if reply.MessageType() == dhcpv4.MessageTypeNak {
		msg := reply.Message()
		if msg != "" {
			msg = fmt.Sprintf(" (%q)", msg)
		}
		return nil, fmt.Errorf("DHCPNAK from %v for %v%s", server, offer.YourIPAddr, msg)
	}
	l, err := FromACK(reply, time.Now())
	if err != nil {
		return nil, fmt.Errorf("unusable DHCPACK from %v: %w", server, err)
	}
	return l, nil
}

// errNoAnswer ends a send whose transmissions all went unanswered.
var errNoAnswer = errors.New("unanswered")

// send transmits m up to tries times (forever if tries < 0), waiting
// Retransmit(n) after the n-th, and returns the first reply that match
// accepts. secs counts the seconds since the client began (RFC 2131
// section 2).
func (x *exchange) send(ctx context.Context, m *dhcpv4.DHCPv4, tries int, match nclient4.Matcher) (*dhcpv4.DHCPv4, error) {
	for n := 0; tries < 0 || n < tries; n++ {
		m.NumSeconds = uint16(min(time.Since(x.start)/time.Second, 0xffff))
		if m.MessageType() == dhcpv4.MessageTypeDiscover {
			x.sent++
		}
		wait := x.c.Retransmit(n)
		tctx, cancel := context.WithTimeout(ctx, wait)
		reply, err := x.cl.SendAndRead(tctx, nclient4.DefaultServers, m, match)
		cancel()
		switch {
		case err == nil:
			return reply, nil
		case ctx.Err() != nil:
			return nil, fmt.Errorf("%d sent, %w", n+1, errNoAnswer)
		case errors.Is(err, context.DeadlineExceeded):
			x.c.Logf("dhcp on %s: %s unanswered after %v", x.c.Interface, m.MessageType(), wait.Round(time.Millisecond))
		default:
			return nil, err
		}
	}
	return nil, fmt.Errorf("%d sent, %w", tries, errNoAnswer)
}

// sleep waits d or until ctx ends; false if ctx ended.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// openConn opens the packet socket the exchange runs on: IPv4 datagrams
// of the link, filtered in the kernel to UDP to port 68, wrapped by
// nclient4 into a broadcasting UDP conn.
func openConn(c Config) (net.PacketConn, error) {
	ifi := &net.Interface{Index: int(c.Index), Name: c.Interface, HardwareAddr: c.HWAddr}
	raw, err := packet.Listen(ifi, packet.Datagram, unix.ETH_P_IP, &packet.Config{Filter: bootpcFilter})
	if err != nil {
		return nil, fmt.Errorf("open packet socket: %w", err)
	}
	return nclient4.NewBroadcastUDPConn(raw, &net.UDPAddr{Port: nclient4.ClientPort}), nil
}
