package wgkey

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"unsafe"
)

// MaxFileSize bounds how much of a key file is read: a key is 44 bytes of
// base64, and a path that names a device or a huge file must not hang the
// reader.
const MaxFileSize = 4096

// ErrNotKeyFile is wrapped by the errors of [ReadPrivateKeyFile] for a
// path that is not a regular file or is too large to be a key file.
var ErrNotKeyFile = errors.New("not a key file")

// ReadPrivateKeyFile reads a private key from a file as wg genkey writes
// one: 44 characters of base64, with white space around them allowed. It
// returns the file's permission bits too, so that callers can warn about a
// key that group or other can read. Errors name the problem, never the
// contents. Every error is an *fs.PathError; errors.Is(err,
// fs.ErrNotExist) tells a missing file.
func ReadPrivateKeyFile(name string) (PrivateKey, fs.FileMode, error) {
	var k PrivateKey
	mode, err := readKeyFile(name, func(text []byte) (err error) {
		k, err = ParsePrivateKeyBytes(text)
		return err
	})
	return k, mode, err
}

// ReadPresharedKeyFile is ReadPrivateKeyFile for a preshared key (wg
// genpsk).
func ReadPresharedKeyFile(name string) (PresharedKey, fs.FileMode, error) {
	var k PresharedKey
	mode, err := readKeyFile(name, func(text []byte) (err error) {
		k, err = ParsePresharedKey(unsafe.String(unsafe.SliceData(text), len(text)))
		return err
	})
	return k, mode, err
}

// readKeyFile reads a key file and hands its trimmed text to parse, then
// clears it.
func readKeyFile(name string, parse func([]byte) error) (fs.FileMode, error) {
	// Stat before opening: opening a FIFO would wait for a writer.
	st, err := os.Stat(name)
	if err != nil {
		return 0, err
	}
	if !st.Mode().IsRegular() {
		return 0, &fs.PathError{Op: "read", Path: name, Err: fmt.Errorf("%w: %v", ErrNotKeyFile, st.Mode().Type())}
	}
	f, err := os.Open(name)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	buf := make([]byte, MaxFileSize+1)
	defer clear(buf)
	n, err := io.ReadFull(f, buf)
	switch {
	case err == nil:
		return 0, &fs.PathError{Op: "read", Path: name, Err: fmt.Errorf("%w: larger than %d bytes", ErrNotKeyFile, MaxFileSize)}
	case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
	default:
		return 0, err // an *fs.PathError already
	}
	if err := parse(bytes.TrimSpace(buf[:n])); err != nil {
		return 0, &fs.PathError{Op: "read", Path: name, Err: err}
	}
	return st.Mode().Perm(), nil
}

// ParsePrivateKeyBytes is ParsePrivateKey for key text in a buffer the
// caller clears: it parses a view of text, so no string copy of the key
// outlives the call.
func ParsePrivateKeyBytes(text []byte) (PrivateKey, error) {
	return ParsePrivateKey(unsafe.String(unsafe.SliceData(text), len(text)))
}

// FileText is how a private key is written to a key file: the base64 form
// and a line break, as wg genkey writes it. The caller clears the slice
// once it is written.
func (k PrivateKey) FileText() []byte {
	b := k.raw()
	if b == nil {
		return nil
	}
	out := make([]byte, encodedLen+1)
	base64.StdEncoding.Encode(out, b[:])
	out[encodedLen] = '\n'
	return out
}
