package dhcp

import "golang.org/x/net/bpf"

// bootpcProgram passes only UDP datagrams to port 68 (bootpc) that are
// not a later fragment, of the IPv4 packets a SOCK_DGRAM packet socket
// sees (they start at the IP header). Without it every IPv4 packet on the
// link would be copied to the client while it waits.
var bootpcProgram = []bpf.Instruction{
	bpf.LoadAbsolute{Off: 9, Size: 1},                           // IP protocol
	bpf.JumpIf{Cond: bpf.JumpNotEqual, Val: 17, SkipTrue: 6},    // not UDP: drop
	bpf.LoadAbsolute{Off: 6, Size: 2},                           // flags and fragment offset
	bpf.JumpIf{Cond: bpf.JumpBitsSet, Val: 0x1fff, SkipTrue: 4}, // a later fragment: drop
	bpf.LoadMemShift{Off: 0},                                    // X = IP header length
	bpf.LoadIndirect{Off: 2, Size: 2},                           // UDP destination port
	bpf.JumpIf{Cond: bpf.JumpNotEqual, Val: 68, SkipTrue: 1},    // not bootpc: drop
	bpf.RetConstant{Val: 0xffff},                                // the whole packet
	bpf.RetConstant{Val: 0},                                     // drop
}

// bootpcFilter is bootpcProgram assembled, as TestBootpcFilterAssembled checks:
// assembling it at run time would link bpf.Assemble and every
// instruction type into /init, 4.4 KB (xz).
var bootpcFilter = []bpf.RawInstruction{
	{Op: 0x30, K: 9},
	{Op: 0x15, Jf: 6, K: 17},
	{Op: 0x28, K: 6},
	{Op: 0x45, Jt: 4, K: 0x1fff},
	{Op: 0xb1},
	{Op: 0x48, K: 2},
	{Op: 0x15, Jf: 1, K: 68},
	{Op: 0x06, K: 0xffff},
	{Op: 0x06},
}
