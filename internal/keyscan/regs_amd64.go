package keyscan

// vectorRegisters stores X0–X15 of the calling thread in dst, in order, as
// a signal frame holds them.
//
//go:noescape
func vectorRegisters(dst *[256]byte)

// Registers returns what the calling thread's vector registers hold, as a
// signal frame would save them (X0–X15 in order). The goroutine should be
// locked to its thread (runtime.LockOSThread) since the code under test
// ran.
func Registers() []byte {
	var r [256]byte
	vectorRegisters(&r)
	return r[:]
}

// HasRegisters reports whether Registers reads this architecture's vector
// registers.
const HasRegisters = true
