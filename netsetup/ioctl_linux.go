package netsetup

import (
	"os"

	"golang.org/x/sys/unix"
)

// The ioctl path: a datagram socket in the network namespace of the
// calling thread, and a struct ifreq addressed by a link's name. Netlink
// does every configuration job better (a Handle reports the kernel's
// reason for a failure); ioctls remain for what only they do, such as a
// link's permanent address (PermanentAddr, through SIOCETHTOOL).

// ioctlSocket opens the socket the ioctls go through.
func ioctlSocket() (int, error) {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return -1, os.NewSyscallError("socket", err)
	}
	return fd, nil
}

// withIfreq validates name, opens the ioctl socket and calls fn with it and
// a fresh ifreq for name; the socket is closed afterwards.
func withIfreq(name string, fn func(fd int, ifr *unix.Ifreq) error) error {
	if err := ValidateLinkName(name); err != nil {
		return err
	}
	ifr, err := unix.NewIfreq(name)
	if err != nil {
		return err
	}
	fd, err := ioctlSocket()
	if err != nil {
		return err
	}
	// A close error on a socket used only for ioctls changes nothing.
	defer unix.Close(fd)
	return fn(fd, ifr)
}
