package nl_test

import (
	"fmt"
	"os"

	"github.com/wgboot/wgboot/netsetup/internal/nl"
)

// Build an RTM_NEWLINK-style payload: a fixed header, then attributes with
// a nest, and print it.
func ExampleAttrEncoder() {
	const (
		iflaIfname   = 3  // IFLA_IFNAME
		iflaLinkinfo = 18 // IFLA_LINKINFO
		iflaInfoKind = 1  // IFLA_INFO_KIND
		rtmNewlink   = 16 // RTM_NEWLINK
	)
	var ae nl.AttrEncoder
	ae.String(iflaIfname, "wg0")
	ae.Nested(iflaLinkinfo, func(ae *nl.AttrEncoder) error {
		ae.String(iflaInfoKind, "wireguard")
		return nil
	})
	fmt.Println("attribute bytes:", ae.Len())

	data, err := nl.Payload(make([]byte, 16), &ae) // struct ifinfomsg
	if err != nil {
		fmt.Println(err)
		return
	}
	m := nl.Message{Header: nl.Header{Type: rtmNewlink, Flags: 0x605, Seq: 1}, Data: data}
	if err := nl.Fprint(os.Stdout, m); err != nil {
		fmt.Println(err)
	}
	// Output:
	// attribute bytes: 28
	// RTM_NEWLINK flags=REQUEST|ACK|EXCL|CREATE seq=1 pid=0 len=60 hdr=00000000000000000000000000000000 attrs=[3:4 18:N[1:10]]
}
