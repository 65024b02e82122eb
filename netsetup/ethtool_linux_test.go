package netsetup

import (
	"bytes"
	"errors"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

// The checks of TestEthtoolLayout at compile time, so that `GOARCH=arm64
// go vet` (make vet) fails on arm64 too.
var (
	_ = [1]struct{}{}[unsafe.Sizeof(ifreqData{})-unsafe.Sizeof(unix.Ifreq{})]
	_ = [1]struct{}{}[unsafe.Sizeof(unix.Ifreq{})-unsafe.Sizeof(ifreqData{})]
	_ = [1]struct{}{}[unsafe.Offsetof(ifreqData{}.Data)-unix.IFNAMSIZ]
	_ = [1]struct{}{}[unsafe.Offsetof(ethtoolPermAddr{}.Data)-8]
)

// TestEthtoolLayout pins the SIOCETHTOOL request structs to the kernel's:
// struct ifreq (40 bytes on LP64, ifr_data after the 16-byte name; x/sys's
// Ifreq is generated from the kernel headers) and struct
// ethtool_perm_addr (cmd, size, then the address at offset 8).
func TestEthtoolLayout(t *testing.T) {
	var ifr ifreqData
	var pa ethtoolPermAddr
	for _, c := range []struct {
		name      string
		got, want uintptr
	}{
		{"sizeof(struct ifreq)", unsafe.Sizeof(ifr), sizeofIfreq},
		{"sizeof(unix.Ifreq)", unsafe.Sizeof(unix.Ifreq{}), sizeofIfreq},
		{"offsetof(ifr_data)", unsafe.Offsetof(ifr.Data), unix.IFNAMSIZ},
		{"offsetof(ethtool_perm_addr.size)", unsafe.Offsetof(pa.Size), 4},
		{"offsetof(ethtool_perm_addr.data)", unsafe.Offsetof(pa.Data), 8},
		{"sizeof(data)", unsafe.Sizeof(pa.Data), maxAddrLen},
	} {
		if c.got != c.want {
			t.Errorf("%s = %d, want %d", c.name, c.got, c.want)
		}
	}
}

// TestIntegrationPermanentAddr: a dummy link (ifb on a host kernel without
// dummy) has an Ethernet address but
// no permanent one (all zeros, 6 bytes), whatever address it is given; a
// missing link is ENODEV. (A NIC's permanent address is checked in the
// QEMU guests, on virtio-net: TestE2EUplinkByMAC.)
func TestIntegrationPermanentAddr(t *testing.T) {
	t.Parallel()
	ns := newNetNS(t)
	h := ns.handle(t)
	newDummy(t, h, "d0")
	var got []byte
	if err := ns.Do(func() (err error) { got, err = PermanentAddr("d0"); return err }); err != nil {
		t.Fatal(err)
	}
	if len(got) != 6 || !bytes.Equal(got, make([]byte, 6)) {
		t.Errorf("PermanentAddr(d0) = %x, want 6 zero bytes", got)
	}
	err := ns.Do(func() error { _, err := PermanentAddr("nosuch0"); return err })
	if !errors.Is(err, unix.ENODEV) {
		t.Errorf("PermanentAddr(nosuch0) = %v, want ENODEV", err)
	}
	if _, err := PermanentAddr("this-name-is-too-long"); !errors.Is(err, ErrInvalidName) {
		t.Errorf("PermanentAddr(long name) = %v, want ErrInvalidName", err)
	}
}
