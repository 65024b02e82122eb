// Package kruletest holds the cases that every implementation of a kernel
// rule is tested with: the `check` path (board.Validate) and the boot path
// (netsetup, netsetup/wg) run the same tables, so that a profile `check`
// accepts is one the boot accepts.
package kruletest

// IfName is an interface name and whether wgboot takes it.
type IfName struct {
	Name string
	OK   bool
}

// IfNames are the interface names at the edges of krule.CheckIfName.
var IfNames = []IfName{
	{"eth0", true},
	{"wg0", true},
	{"a", true},
	{"enp0s31f6", true},
	{"wg-hub_1.v2", true},
	{"fifteen-bytes-x", true},
	{"~!@#$^&*()+={}", true},
	{"...", true},
	{"sixteen-bytes-xx", false},
	{"", false},
	{".", false},
	{"..", false},
	{"a/b", false},
	{"a:1", false},
	{"a b", false},
	{" a", false},
	{"a\tb", false},
	{"a\nb", false},
	{"a\x00b", false},
	{"a\x7f", false},
	{"a\x1b", false},
	{"wg%d", false},
	{"%", false},
	{"nbsp\u00a0", false},
	{"\u00e0", false}, // c3 a0: the kernel's isspace counts 0xa0
	{"ünï", false},
	{"wg\xff", false},
}

// MTU is a tunnel MTU and whether the tunnel can carry IPv6 with it.
type MTU struct {
	MTU  int
	IPv6 bool
}

// MTUs are the MTUs at the edge of the IPv6 minimum.
var MTUs = []MTU{
	{68, false},
	{576, false},
	{1279, false},
	{1280, true},
	{1420, true},
	{9000, true},
}
