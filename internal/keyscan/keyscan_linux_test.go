package keyscan

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// TestScan finds a key in each of its forms on the heap, and no longer
// once that copy is cleared.
func TestScan(t *testing.T) {
	k, err := New()
	if err != nil {
		t.Fatal(err)
	}
	other, err := New()
	if err != nil {
		t.Fatal(err)
	}
	if hits, err := Scan(k, other); err != nil || len(hits) != 0 {
		t.Fatalf("Scan() of keys nobody holds = %v, %v", hits, err)
	}
	// The copy goes to the heap through heldCopy: a local buffer the
	// compiler keeps on this goroutine's stack is left behind, uncleared,
	// in the old stack when a later call grows the stack, and Scan finds
	// it there twice.
	k.Raw(func(raw []byte) { heldCopy = append(make([]byte, 0, 64), raw...) })
	held := heldCopy
	heldCopy = nil
	hits, err := Scan(k, other)
	if err != nil {
		t.Fatal(err)
	}
	if len(hits) != 1 || hits[0].Key != 0 || hits[0].Form != "raw" {
		t.Errorf("Scan() with a raw copy held = %v, want one raw hit of key 0", hits)
	}
	clear(held)

	// The key file's text, read back.
	name := filepath.Join(t.TempDir(), "k")
	if err := k.WriteFile(name); err != nil {
		t.Fatal(err)
	}
	text, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	hits, _ = Scan(k)
	if len(hits) != 1 || hits[0].Form != "base64" {
		t.Errorf("Scan() with the key file's text held = %v, want one base64 hit", hits)
	}
	clear(text)
	runtime.KeepAlive(held)
	if hits, _ := Scan(k); len(hits) != 0 {
		t.Errorf("Scan() after clearing = %v, want none", hits)
	}
}

// heldCopy makes TestScan's copy of a key escape to the heap.
var heldCopy []byte

// copyLen is a variable so that copy calls runtime.memmove.
var copyLen = 200

// TestRegisters sees a key that a copy moved through the vector
// registers.
func TestRegisters(t *testing.T) {
	if !HasRegisters {
		t.Skip("no vector registers read on " + runtime.GOARCH)
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	k, err := New()
	if err != nil {
		t.Fatal(err)
	}
	src, dst := make([]byte, copyLen), make([]byte, copyLen)
	k.Raw(func(raw []byte) {
		for i, c := range raw {
			src[150+i] = c
		}
	})
	copy(dst, src)
	regs := Registers()
	clear(src)
	clear(dst)
	if got := k.In(regs); len(got) != 1 || got[0] != "raw" {
		t.Errorf("after a 200-byte copy, the registers hold the key as %v, want raw", got)
	}
	clear(regs)
}
