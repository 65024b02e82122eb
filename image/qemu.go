package image

import (
	"fmt"
	"slices"
	"strings"
)

// Arch describes how QEMU boots one guest architecture.
type Arch struct {
	Name    string // GOARCH: amd64 or arm64
	QEMU    string // qemu-system-x86_64 or qemu-system-aarch64
	Machine []string
	Console string // the kernel's console device
}

// Arches are the guest architectures wgboot supports.
var Arches = map[string]Arch{
	// -cpu max gives the guest RDRAND, which this kernel trusts to seed
	// its CRNG; without it WireGuard drops handshakes for a long time.
	"amd64": {Name: "amd64", QEMU: "qemu-system-x86_64", Machine: []string{"-M", "pc", "-cpu", "max"}, Console: "ttyS0"},
	// cortex-a57 rather than max: max is about six times slower under TCG.
	// The virt machine seeds the CRNG from the device tree.
	"arm64": {Name: "arm64", QEMU: "qemu-system-aarch64", Machine: []string{"-M", "virt", "-cpu", "cortex-a57"}, Console: "ttyAMA0"},
}

// Net is one virtio NIC connected to a QEMU UDP socket netdev on 127.0.0.1:
// the guest's frames go to Remote and come from Local. Two guests with
// swapped ports share a point-to-point Ethernet, and nothing else.
type Net struct {
	Local, Remote int
	MAC           string // optional
}

// Config is one guest.
type Config struct {
	Arch     string
	Kernel   string
	Initrd   string
	Append   []string // kernel command line beyond the console settings
	Nets     []Net
	Disks    []string // raw images attached as virtio-blk, in order (vda, vdb…)
	MemoryMB int
	// CPU replaces the arch's CPU model: "qemu64" is an amd64 CPU without
	// RDRAND, whose kernel must seed its CRNG without the CPU's help.
	CPU string
	// Icount runs the guest with -icount shift=0,sleep=off: its clock
	// advances 1 ns per instruction executed, so guest-measured times are
	// instruction counts, independent of host load and of the time QEMU
	// spends translating code, which a board never pays. Guests run
	// slower in wall time. The boot benchmark uses it; a guest waiting on
	// the outside world should not (sleep=off lets an idle guest's clock
	// jump ahead).
	Icount bool
}

// Args returns QEMU's argv (without the program name) for c. Guests get no
// default devices and no user-mode network: only what c lists.
func (c Config) Args() ([]string, error) {
	a, ok := Arches[c.Arch]
	if !ok {
		return nil, fmt.Errorf("image: unknown arch %q", c.Arch)
	}
	mem := c.MemoryMB
	if mem == 0 {
		mem = 512
	}
	cmdline := append([]string{"console=" + a.Console, "panic=-1", "printk.devkmsg=on"}, c.Append...)
	args := append([]string(nil), a.Machine...)
	if c.CPU != "" {
		i := slices.Index(args, "-cpu")
		if i < 0 || i+1 >= len(args) {
			return nil, fmt.Errorf("image: arch %s has no -cpu to replace", c.Arch)
		}
		args[i+1] = c.CPU
	}
	args = append(args,
		"-m", fmt.Sprint(mem),
		"-smp", "1",
		"-nodefaults", "-no-reboot",
		"-display", "none", "-monitor", "none",
		"-serial", "stdio",
		"-kernel", c.Kernel,
		"-append", strings.Join(cmdline, " "),
	)
	if c.Initrd != "" {
		args = append(args, "-initrd", c.Initrd)
	}
	if c.Icount {
		args = append(args, "-icount", "shift=0,sleep=off")
	}
	for i, n := range c.Nets {
		id := fmt.Sprintf("n%d", i)
		args = append(args, "-netdev", fmt.Sprintf("socket,id=%s,udp=127.0.0.1:%d,localaddr=127.0.0.1:%d", id, n.Remote, n.Local))
		dev := "virtio-net-pci,netdev=" + id + ",romfile="
		if n.MAC != "" {
			dev += ",mac=" + n.MAC
		}
		args = append(args, "-device", dev)
	}
	for i, d := range c.Disks {
		id := fmt.Sprintf("d%d", i)
		args = append(args,
			"-drive", fmt.Sprintf("file=%s,if=none,id=%s,format=raw", d, id),
			"-device", "virtio-blk-pci,drive="+id)
	}
	return args, nil
}
