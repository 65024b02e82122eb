package nl_test

import (
	"fmt"

	"github.com/wgboot/wgboot/netsetup/internal/nl"
)

// Build an RTM_NEWLINK-style payload: a fixed header, then attributes with
// a nest, and encode the message.
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
	b, err := m.MarshalBinary()
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("message: %d bytes\n", len(b))
	// Output:
	// attribute bytes: 28
	// message: 60 bytes
}
