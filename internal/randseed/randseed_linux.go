package randseed

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Size is how many bytes a new seed has: 256 bits, what the kernel's CRNG
// needs to count as initialised (POOL_READY_BITS, Linux 5.18 and later;
// older kernels credit it all the same).
const Size = 32

// maxSize bounds what is read of a seed file: a longer file is not a seed
// this package wrote, and its first maxSize bytes are used.
const maxSize = 512

// Seed is a seed file and the way to write it.
type Seed struct {
	Path string
	// Write writes data to path atomically (persist.WriteFile): a power
	// cut must leave the old seed or the new one, never a torn file.
	Write func(path string, data []byte, perm fs.FileMode) error

	// Tests replace the kernel: credit is RNDADDENTROPY, fill getrandom.
	credit func(b []byte) error
	fill   func(b []byte) error
}

// Result is what Use did.
type Result struct {
	// Credited is how many bits the kernel was credited: 8 a byte of
	// the saved seed; 0 without one.
	Credited int
	// Renewed is true when the file already holds a fresh seed; false
	// when the CRNG was not ready for one, and [Seed.Renew] should be
	// called once it is.
	Renewed bool
}

// ErrNotReady is returned while the kernel's CRNG is not initialised:
// no bytes of it are fit for a seed yet.
var ErrNotReady = errors.New("the kernel's CRNG is not initialised")

// Use mixes the saved seed into the kernel's pool, credited, and wipes it
// from memory; then it replaces the file with a fresh seed at once, or,
// if the CRNG is not ready for one (a seed shorter than [Size]), removes
// it, so that it is never credited again. A missing file is no error:
// Result.Credited is 0. An error after the credit still reports the
// credit.
func (s Seed) Use() (Result, error) {
	var res Result
	seed, err := readSeed(s.Path)
	if errors.Is(err, fs.ErrNotExist) {
		return res, nil
	}
	if err != nil {
		return res, err
	}
	credit := s.credit
	if credit == nil {
		credit = addEntropy
	}
	err = credit(seed)
	if err == nil {
		res.Credited = 8 * len(seed)
	}
	clear(seed)
	if err != nil {
		// Not credited: the seed stays for the next boot.
		return res, err
	}
	switch err := s.Renew(); {
	case err == nil:
		res.Renewed = true
		return res, nil
	case errors.Is(err, ErrNotReady):
		if rerr := os.Remove(s.Path); rerr != nil {
			return res, fmt.Errorf("remove the used seed (the CRNG is not ready for a new one): %w", rerr)
		}
		return res, nil
	default:
		rerr := os.Remove(s.Path)
		return res, errors.Join(err, rerr)
	}
}

// Renew writes a fresh seed of [Size] bytes from getrandom to the file. It
// returns [ErrNotReady], writing nothing, while the CRNG is not
// initialised.
func (s Seed) Renew() error {
	buf := make([]byte, Size)
	defer clear(buf)
	fill := s.fill
	if fill == nil {
		fill = getrandom
	}
	if err := fill(buf); err != nil {
		return err
	}
	if err := s.Write(s.Path, buf, 0o600); err != nil {
		return fmt.Errorf("write a new seed: %w", err)
	}
	return nil
}

// getrandom fills b from the kernel's CRNG without blocking.
func getrandom(b []byte) error {
	for n := 0; n < len(b); {
		m, err := unix.Getrandom(b[n:], unix.GRND_NONBLOCK)
		switch {
		case errors.Is(err, unix.EAGAIN):
			return ErrNotReady
		case errors.Is(err, unix.EINTR):
			continue
		case err != nil:
			return os.NewSyscallError("getrandom", err)
		}
		n += m
	}
	return nil
}

// readSeed reads at most maxSize bytes of path.
func readSeed(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	buf := make([]byte, maxSize)
	n, err := io.ReadFull(f, buf)
	if err == io.ErrUnexpectedEOF || err == io.EOF {
		err = nil
	}
	if err != nil {
		clear(buf)
		return nil, err
	}
	return buf[:n], nil
}

// randPoolInfo is struct rand_pool_info with room for a seed:
//
//	struct rand_pool_info {
//		int	entropy_count;	/* bits credited */
//		int	buf_size;	/* bytes in buf */
//		__u32	buf[0];
//	};	/* include/uapi/linux/random.h */
//
// RNDADDENTROPY's request number declares only the two ints
// (_IOW('R', 0x03, int [2])); the kernel then reads buf_size bytes.
type randPoolInfo struct {
	EntropyCount int32
	BufSize      int32
	Buf          [maxSize]byte
}

// addEntropy mixes b into the input pool and credits it, 8 bits a byte,
// with RNDADDENTROPY on /dev/urandom (CAP_SYS_ADMIN). The kernel caps the
// credit at what the pool can hold.
func addEntropy(b []byte) error {
	if len(b) > maxSize {
		return fmt.Errorf("seed of %d bytes, at most %d", len(b), maxSize)
	}
	fd, err := unix.Open("/dev/urandom", unix.O_WRONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return &os.PathError{Op: "open", Path: "/dev/urandom", Err: err}
	}
	// A close error on a device only written by ioctl changes nothing.
	defer unix.Close(fd)
	info := randPoolInfo{EntropyCount: int32(8 * len(b)), BufSize: int32(len(b))}
	copy(info.Buf[:], b)
	defer clear(info.Buf[:])
	_, _, errno := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), unix.RNDADDENTROPY, uintptr(unsafe.Pointer(&info)))
	if errno != 0 {
		return os.NewSyscallError("ioctl RNDADDENTROPY", errno)
	}
	return nil
}
