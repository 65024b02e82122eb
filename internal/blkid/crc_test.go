package blkid

import (
	"hash/crc32"
	"math/rand/v2"
	"testing"
)

// TestCRC32IEEE: the GPT checksum is hash/crc32's ChecksumIEEE.
func TestCRC32IEEE(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, n := range []int{0, 1, 7, 92, 128, 4096, 16384, 16385} {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
		if got, want := crc32IEEE(b), crc32.ChecksumIEEE(b); got != want {
			t.Errorf("%d bytes: %#08x, want %#08x", n, got, want)
		}
	}
	if got := crc32IEEE([]byte("123456789")); got != 0xcbf43926 {
		t.Errorf("check value %#08x, want 0xcbf43926", got)
	}
}
