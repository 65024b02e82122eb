package nl

import (
	"encoding/binary"
	"encoding/hex"
	"testing"
)

// skipBigEndian skips byte-table tests on big-endian hosts: the vectors
// are little-endian, like both wgboot targets.
func skipBigEndian(t *testing.T) {
	t.Helper()
	if binary.NativeEndian.Uint16([]byte{1, 0}) != 1 {
		t.Skip("skipping, byte tables are little-endian")
	}
}

// diffBytes reports got != want with hex dumps.
func diffBytes(t *testing.T, what string, got, want []byte) {
	t.Helper()
	if string(got) != string(want) {
		t.Errorf("%s:\ngot:\n%swant:\n%s", what, hex.Dump(got), hex.Dump(want))
	}
}
