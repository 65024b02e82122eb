package wgkey

import (
	"errors"

	"golang.org/x/sys/unix"
)

// readRandom fills b from getrandom(2) with no flags: the kernel's CSPRNG,
// blocking only until it is first seeded, which is what crypto/rand does on
// Linux. It calls the kernel itself because importing crypto/rand links the
// FIPS 140 DRBG (with AES, SHA-2, SHA-3 and a 32 MiB arena), which this PID 1
// would carry for a function it never calls.
func readRandom(b []byte) error {
	for len(b) > 0 {
		n, err := unix.Getrandom(b, 0)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return err
		}
		b = b[n:]
	}
	return nil
}
