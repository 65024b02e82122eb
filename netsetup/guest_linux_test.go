package netsetup

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"os"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/wgboot/wgboot/netsetup/internal/nl"
)

// TestGuestRoutes measures adding 10,000 routes through a link (5,000 IPv4
// /32 and 5,000 IPv6 /128, in table 51820, as a tunnel's allowed IPs would
// be): the way ReplaceRoute did it before batching (its own request, then
// poll and recvmsg for its acknowledgement), one ReplaceRoute per route
// now, and ReplaceRoutes, taking turns, each on a fresh link. It runs
// inside a QEMU guest (TestE2EGuestRoutes); under -icount the guest clock
// counts instructions, kernel and user, so the times are instruction
// counts: 1 ms is a million instructions.
func TestGuestRoutes(t *testing.T) {
	if os.Getenv("WGBOOT_IN_GUEST") != "1" {
		t.Skip("runs inside QEMU via TestE2EGuestRoutes")
	}
	h, err := Open()
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	routes := append(manyRoutes(5000, false), manyRoutes(5000, true)...)
	modes := []struct {
		name string
		run  func(rs []Route) error
	}{
		{"before (one exchange per route, poll then recvmsg)", func(rs []Route) error {
			o, err := dialOldRoutes()
			if err != nil {
				return err
			}
			defer unix.Close(o.fd)
			for _, r := range rs {
				if err := o.replace(r); err != nil {
					return err
				}
			}
			return nil
		}},
		{"ReplaceRoute per route", func(rs []Route) error {
			for _, r := range rs {
				if err := h.ReplaceRoute(r); err != nil {
					return err
				}
			}
			return nil
		}},
		{"ReplaceRoutes", h.ReplaceRoutes},
	}
	// The guest loads wireguard; elsewhere a dummy stands in.
	kind := "wireguard"
	if _, err := h.CreateLink("wg9", kind); err == nil {
		if err := h.DeleteLink(mustLink(t, h, "wg9").Index); err != nil {
			t.Fatal(err)
		}
	} else if errors.Is(err, unix.EOPNOTSUPP) {
		kind = dummyKind(t, h)
	}
	const rounds = 3
	total := make([]time.Duration, len(modes))
	for round := range rounds {
		for i, m := range modes {
			l, err := h.CreateLink("wg9", kind)
			if err == nil {
				err = h.SetLinkUp(l.Index, true)
			}
			if err != nil {
				t.Fatal(err)
			}
			rs := make([]Route, len(routes))
			for j, r := range routes {
				r.OIF, r.Table = l.Index, 51820
				rs[j] = r
			}
			start := time.Now()
			if err := m.run(rs); err != nil {
				t.Fatalf("%s: %v", m.name, err)
			}
			d := time.Since(start)
			total[i] += d
			t.Logf("round %d: %s: %v", round+1, m.name, d.Round(time.Microsecond))
			if err := h.DeleteLink(l.Index); err != nil {
				t.Fatal(err)
			}
		}
	}
	for i, m := range modes {
		avg := total[i] / rounds
		t.Logf("%d routes, %s: %.1f ms, %.2fx the batched time", len(routes), m.name,
			float64(avg.Microseconds())/1000, float64(total[i])/float64(total[len(modes)-1]))
	}
}

// oldRoutes replays the exchange of ReplaceRoute before batching, system
// call for system call: sendto of the request, poll, recvmsg of the
// acknowledgement, on a socket with the options Dial sets.
type oldRoutes struct {
	fd  int
	seq uint32
	buf []byte
}

func dialOldRoutes() (*oldRoutes, error) {
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.NETLINK_ROUTE)
	if err != nil {
		return nil, err
	}
	if err := unix.Bind(fd, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		unix.Close(fd)
		return nil, err
	}
	for _, opt := range []int{unix.NETLINK_EXT_ACK, unix.NETLINK_CAP_ACK, unix.NETLINK_GET_STRICT_CHK} {
		unix.SetsockoptInt(fd, unix.SOL_NETLINK, opt, 1)
	}
	return &oldRoutes{fd: fd, buf: make([]byte, 64<<10)}, nil
}

func (o *oldRoutes) replace(r Route) error {
	req, err := routeRequest(unix.RTM_NEWROUTE, flagsReplace, r)
	if err != nil {
		return err
	}
	o.seq++
	req.Seq = o.seq
	b, err := req.MarshalBinary()
	if err != nil {
		return err
	}
	err = unix.Sendto(o.fd, b, 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK})
	clear(b)
	if err != nil {
		return err
	}
	deadline := time.Now().Add(nl.DefaultTimeout)
	for {
		ms := min((time.Until(deadline)+time.Millisecond-1)/time.Millisecond, math.MaxInt32)
		if ms <= 0 {
			return os.ErrDeadlineExceeded
		}
		fds := []unix.PollFd{{Fd: int32(o.fd), Events: unix.POLLIN}}
		if n, err := unix.Poll(fds, int(ms)); err != nil || n == 0 {
			continue
		}
		n, _, _, _, err := unix.Recvmsg(o.fd, o.buf, nil, unix.MSG_DONTWAIT|unix.MSG_TRUNC)
		if errors.Is(err, unix.EAGAIN) {
			continue
		}
		if err != nil {
			return err
		}
		msgs, err := nl.ParseMessages(o.buf[:n])
		clear(o.buf[:n])
		if err != nil {
			return err
		}
		for _, m := range msgs {
			if m.Seq == o.seq && m.Type == unix.NLMSG_ERROR && len(m.Data) >= 4 {
				if code := int32(binary.NativeEndian.Uint32(m.Data)); code != 0 {
					return fmt.Errorf("route %s: %w", r, unix.Errno(-code))
				}
				return nil
			}
		}
	}
}

func mustLink(t *testing.T, h *Handle, name string) Link {
	t.Helper()
	l, err := h.LinkByName(name)
	if err != nil {
		t.Fatal(err)
	}
	return l
}
