// Package secmem clears what the CPU keeps of secrets after a copy.
//
// Zeroing a buffer that held a key is not enough: the copy that filled it
// (runtime.memmove, behind copy and append) went through registers, and on
// amd64 it leaves the last bytes it moved in the vector registers X0–X15
// (up to 256 bytes, in order) until another copy replaces them, which in a
// PID 1 that has gone idle may be never. Registers are not memory, but each
// signal the thread takes — the runtime's preemption signal, SIGCHLD —
// makes the kernel save them in a signal frame on the thread's signal
// stack, and the runtime's asynchronous preemption saves them on the
// goroutine's stack, where they stay: a 32-byte key copied last shows up
// there whole. [ClearRegisters] after the copies that move keys leaves
// only the instants before it for a signal to catch.
package secmem

// zeros is the source ClearRegisters copies from.
var zeros [256]byte

// clearLen is len(zeros), in a variable so that the compiler calls
// runtime.memmove for the copy instead of inlining moves of its own.
var clearLen = len(zeros)

// ClearRegisters overwrites the registers that runtime.memmove uses for
// copies of up to 256 bytes with zeros, on the calling thread: X0–X15 on
// amd64 (copies of 129 to 256 bytes load all sixteen from the source; the
// AVX path, for longer copies, uses only their low halves, and ends with
// VZEROUPPER), R6–R17 on arm64. Call it on the thread that made the
// copies: right after them, with no call in between that may reschedule
// the goroutine, or with the goroutine locked to its thread.
//
//go:nosplit
func ClearRegisters() {
	var dst [len(zeros)]byte
	copy(dst[:clearLen], zeros[:clearLen])
}
