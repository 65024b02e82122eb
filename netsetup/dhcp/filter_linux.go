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
