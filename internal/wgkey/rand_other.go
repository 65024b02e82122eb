//go:build !linux

package wgkey

import (
	"crypto/rand"
	"io"
)

// readRandom fills b from crypto/rand; only the Linux build (the one in the
// image) avoids linking it.
func readRandom(b []byte) error {
	_, err := io.ReadFull(rand.Reader, b)
	return err
}
