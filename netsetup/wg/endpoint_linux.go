package wg

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"os"
	"strconv"

	"golang.org/x/sys/unix"
)

// WGPEER_A_ENDPOINT carries a struct sockaddr_in or sockaddr_in6. The
// family is in host byte order, the port in network byte order; the kernel
// ignores, without an error, an endpoint of any other size or family
// (drivers/net/wireguard/netlink.c, set_peer).
//
//	struct sockaddr_in {
//		__kernel_sa_family_t	sin_family;	/* AF_INET */
//		__be16			sin_port;
//		struct in_addr		sin_addr;
//		unsigned char		__pad[8];
//	};
//
//	struct sockaddr_in6 {
//		unsigned short int	sin6_family;	/* AF_INET6 */
//		__be16			sin6_port;
//		__be32			sin6_flowinfo;
//		struct in6_addr		sin6_addr;
//		__u32			sin6_scope_id;
//	};

// appendSockaddr appends the sockaddr for ep; a v4-mapped IPv6 address
// stays IPv6, as the caller wrote it. scope is the sockaddr_in6 scope ID.
func appendSockaddr(b []byte, ep netip.AddrPort, scope uint32) []byte {
	a := ep.Addr()
	if a.Is4() {
		b = binary.NativeEndian.AppendUint16(b, unix.AF_INET)
		b = binary.BigEndian.AppendUint16(b, ep.Port())
		v4 := a.As4()
		b = append(b, v4[:]...)
		return append(b, make([]byte, 8)...)
	}
	b = binary.NativeEndian.AppendUint16(b, unix.AF_INET6)
	b = binary.BigEndian.AppendUint16(b, ep.Port())
	b = binary.BigEndian.AppendUint32(b, 0) // flow info
	v6 := a.As16()
	b = append(b, v6[:]...)
	return binary.NativeEndian.AppendUint32(b, scope)
}

// parseSockaddr decodes a sockaddr_in or sockaddr_in6; a non-zero scope ID
// becomes the address's zone, in decimal.
func parseSockaddr(b []byte) (netip.AddrPort, error) {
	if len(b) < 2 {
		return netip.AddrPort{}, fmt.Errorf("endpoint: %d bytes", len(b))
	}
	switch fam := binary.NativeEndian.Uint16(b); {
	case fam == unix.AF_INET && len(b) == unix.SizeofSockaddrInet4:
		a := netip.AddrFrom4([4]byte(b[4:8]))
		return netip.AddrPortFrom(a, binary.BigEndian.Uint16(b[2:4])), nil
	case fam == unix.AF_INET6 && len(b) == unix.SizeofSockaddrInet6:
		a := netip.AddrFrom16([16]byte(b[8:24]))
		if scope := binary.NativeEndian.Uint32(b[24:28]); scope != 0 {
			a = a.WithZone(strconv.FormatUint(uint64(scope), 10))
		}
		return netip.AddrPortFrom(a, binary.BigEndian.Uint16(b[2:4])), nil
	default:
		return netip.AddrPort{}, fmt.Errorf("endpoint: family %d with %d bytes", fam, len(b))
	}
}

// scopeID returns the sockaddr_in6 scope ID for an endpoint zone: the
// number itself, or the index of the named interface.
func scopeID(zone string) (uint32, error) {
	if zone == "" {
		return 0, nil
	}
	if n, err := strconv.ParseUint(zone, 10, 32); err == nil {
		return uint32(n), nil
	}
	return ifindex(zone)
}

// ifindex looks an interface up by name with SIOCGIFINDEX.
func ifindex(name string) (uint32, error) {
	ifr, err := unix.NewIfreq(name)
	if err != nil {
		return 0, fmt.Errorf("interface %q: %w", name, err)
	}
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return 0, os.NewSyscallError("socket", err)
	}
	defer unix.Close(fd)
	if err := unix.IoctlIfreq(fd, unix.SIOCGIFINDEX, ifr); err != nil {
		return 0, fmt.Errorf("interface %q: %w", name, os.NewSyscallError("ioctl SIOCGIFINDEX", err))
	}
	return ifr.Uint32(), nil
}
