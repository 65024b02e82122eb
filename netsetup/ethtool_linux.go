package netsetup

import (
	"fmt"
	"os"
	"unsafe"

	"golang.org/x/sys/unix"
)

// maxAddrLen is the longest hardware address a link can have:
//
//	#define MAX_ADDR_LEN	32	/* Largest hardware address length */	(include/linux/netdevice.h)
const maxAddrLen = 32

// ifreqData is struct ifreq with its union read as ifr_data: the pointer
// through which SIOCETHTOOL passes the ethtool command. The pointer keeps
// its type so that what it points to stays alive across the call.
//
//	struct ifreq {
//		union { char ifrn_name[IFNAMSIZ]; } ifr_ifrn;
//		union { ...; void __user *ifru_data; } ifr_ifru;	/* 24 bytes on LP64 */
//	};	/* include/uapi/linux/if.h */
type ifreqData struct {
	Name [unix.IFNAMSIZ]byte
	Data unsafe.Pointer
	_    [sizeofIfreq - unix.IFNAMSIZ - unsafe.Sizeof(unsafe.Pointer(nil))]byte
}

// sizeofIfreq is sizeof(struct ifreq) on the 64-bit targets (amd64, arm64).
const sizeofIfreq = 40

// ethtoolPermAddr is struct ethtool_perm_addr with room for the longest
// address:
//
//	struct ethtool_perm_addr {
//		__u32	cmd;	/* ETHTOOL_GPERMADDR */
//		__u32	size;	/* in: room in data; out: the address's length */
//		__u8	data[];
//	};	/* include/uapi/linux/ethtool.h */
type ethtoolPermAddr struct {
	Cmd  uint32
	Size uint32
	Data [maxAddrLen]byte
}

// PermanentAddr returns the permanent hardware address of the link called
// name (ETHTOOL_GPERMADDR through SIOCETHTOOL): the one its driver read
// from the hardware, which stays whatever address the link is given
// later. It is all zeros for a link whose driver has none (veth, dummy, a
// virtio NIC without a MAC from the host) and empty for a link without a
// hardware address (wireguard).
func PermanentAddr(name string) ([]byte, error) {
	var addr []byte
	err := withIfreq(name, func(fd int, _ *unix.Ifreq) error {
		var req ethtoolPermAddr
		req.Cmd, req.Size = unix.ETHTOOL_GPERMADDR, maxAddrLen
		ifr := ifreqData{Data: unsafe.Pointer(&req)}
		copy(ifr.Name[:], name)
		_, _, errno := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), unix.SIOCETHTOOL, uintptr(unsafe.Pointer(&ifr)))
		if errno != 0 {
			return os.NewSyscallError("ioctl SIOCETHTOOL ETHTOOL_GPERMADDR", errno)
		}
		if req.Size > maxAddrLen {
			return fmt.Errorf("ETHTOOL_GPERMADDR: address of %d bytes", req.Size)
		}
		addr = append([]byte(nil), req.Data[:req.Size]...)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("permanent address of %s: %w", name, err)
	}
	return addr, nil
}
