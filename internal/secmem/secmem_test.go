package secmem

import (
	"runtime"
	"testing"
	"unsafe"

	"github.com/wgboot/wgboot/internal/keyscan"
)

// copyLen is a variable so that copy calls runtime.memmove.
var copyLen = 256

// TestClearRegisters: a key copied by runtime.memmove is in the vector
// registers afterwards, for each of its code paths, and not after
// ClearRegisters.
func TestClearRegisters(t *testing.T) {
	if !keyscan.HasRegisters {
		t.Skip("no vector registers to read on " + runtime.GOARCH)
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	k, err := keyscan.New()
	if err != nil {
		t.Fatal(err)
	}
	// dst is 8 bytes off a 16-byte boundary: memmove copies 2 KiB or more
	// to an aligned destination with REP MOVSQ on CPUs that prefer it,
	// through no vector register, and the test would see nothing. Where
	// the compiler places a buffer (heap, or this frame, whose layout
	// shifts with any change to the code) must not decide which path the
	// 4096-byte copy takes.
	src, buf := make([]byte, 4096), make([]byte, 4096+16)
	off := 8 - int(uintptr(unsafe.Pointer(&buf[0]))%16)
	if off < 0 {
		off += 16
	}
	dst := buf[off : off+4096]
	for _, n := range []int{32, 48, 100, 200, copyLen, 352, 1000, 4096} {
		clear(src)
		k.Raw(func(raw []byte) {
			for i, c := range raw {
				src[n-32+i] = c // the key last, where copies leave it
			}
		})
		copy(dst[:n], src[:n])
		before := keyscan.Registers()
		copy(dst[:n], src[:n])
		ClearRegisters()
		after := keyscan.Registers()
		if len(k.In(before)) == 0 {
			t.Errorf("a %d-byte copy left no trace of the key in the registers: the test sees nothing", n)
		}
		if forms := k.In(after); len(forms) > 0 {
			t.Errorf("after a %d-byte copy and ClearRegisters, the registers hold the key (%v)", n, forms)
		}
		clear(before)
		clear(after)
	}
	clear(src)
	clear(buf)
}
