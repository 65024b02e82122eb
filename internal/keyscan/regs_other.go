//go:build !amd64

package keyscan

// Registers returns nil: only amd64 copies through vector registers
// (arm64's runtime.memmove uses general-purpose registers, which ordinary
// code overwrites at once).
func Registers() []byte { return nil }

// HasRegisters reports whether Registers reads this architecture's vector
// registers.
const HasRegisters = false
