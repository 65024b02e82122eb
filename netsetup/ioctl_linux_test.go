package netsetup

import (
	"encoding/binary"
	"fmt"
	"math"
	"net/netip"
	"os"

	"golang.org/x/sys/unix"
)

// The AF_INET ioctl path for configuration, for tests only:
// TestIntegrationIoctl checks that a link configured with ioctls reads back
// through a Handle as one configured over rtnetlink. Nothing boots with
// these, so they are not part of the package; the socket and the ifreq
// they go through are (ioctl_linux.go), for PermanentAddr.

// SetUpIoctl sets the link called name administratively up with
// SIOCGIFFLAGS and SIOCSIFFLAGS. The read-modify-write of all flags is
// fine for a link nothing else is changing, such as "lo" at boot;
// [Handle.SetLinkUp] changes only IFF_UP.
func SetUpIoctl(name string) error {
	err := withIfreq(name, func(fd int, ifr *unix.Ifreq) error {
		if err := unix.IoctlIfreq(fd, unix.SIOCGIFFLAGS, ifr); err != nil {
			return os.NewSyscallError("ioctl SIOCGIFFLAGS", err)
		}
		ifr.SetUint16(ifr.Uint16() | unix.IFF_UP)
		if err := unix.IoctlIfreq(fd, unix.SIOCSIFFLAGS, ifr); err != nil {
			return os.NewSyscallError("ioctl SIOCSIFFLAGS", err)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("set %s up: %w", name, err)
	}
	return nil
}

// SetMTUIoctl sets the MTU of the link called name with SIOCSIFMTU.
func SetMTUIoctl(name string, mtu int) error {
	err := withIfreq(name, func(fd int, ifr *unix.Ifreq) error {
		if mtu <= 0 || mtu > math.MaxInt32 {
			return fmt.Errorf("invalid mtu %d", mtu)
		}
		ifr.SetUint32(uint32(mtu))
		if err := unix.IoctlIfreq(fd, unix.SIOCSIFMTU, ifr); err != nil {
			return os.NewSyscallError("ioctl SIOCSIFMTU", err)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("set mtu %d on %s: %w", mtu, name, err)
	}
	return nil
}

// SetIPv4Ioctl sets p, such as 10.0.0.2/24, as the IPv4 address of the link
// called name with SIOCSIFADDR then SIOCSIFNETMASK. SIOCSIFADDR replaces
// the link's primary IPv4 address, if any, instead of adding one; use
// [Handle.AddAddress] to add addresses and for IPv6.
func SetIPv4Ioctl(name string, p netip.Prefix) error {
	err := withIfreq(name, func(fd int, ifr *unix.Ifreq) error {
		if !p.IsValid() || !p.Addr().Is4() || p.Addr().IsUnspecified() {
			return fmt.Errorf("not an IPv4 host prefix")
		}
		a := p.Addr().As4()
		if err := ifr.SetInet4Addr(a[:]); err != nil {
			return err
		}
		if err := unix.IoctlIfreq(fd, unix.SIOCSIFADDR, ifr); err != nil {
			return os.NewSyscallError("ioctl SIOCSIFADDR", err)
		}
		// SIOCSIFADDR set the classful mask; set ours. The ifreq union
		// still holds the address; overwrite it with the mask.
		// Go defines a shift by 32 as 0: /0 gives mask 0.
		mask := binary.BigEndian.AppendUint32(nil, ^uint32(0)<<(32-p.Bits()))
		if err := ifr.SetInet4Addr(mask); err != nil {
			return err
		}
		if err := unix.IoctlIfreq(fd, unix.SIOCSIFNETMASK, ifr); err != nil {
			return os.NewSyscallError("ioctl SIOCSIFNETMASK", err)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("set IPv4 address %s on %s: %w", p, name, err)
	}
	return nil
}
