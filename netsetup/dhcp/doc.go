// Package dhcp obtains a DHCPv4 lease for an uplink and turns it into
// kernel state: an address with the lease's lifetimes, routes and an MTU.
//
// The protocol is insomniacslk/dhcp's: dhcpv4 builds and parses the
// messages, nclient4 exchanges them over a packet socket, so that the
// interface needs no address yet. This package adds what a boot needs
// around them: retransmissions with RFC 2131's backoff inside a deadline
// ([Obtain]), a strict reading of the ACK ([FromACK]: every option that is
// missing or malformed is either replaced by its documented default or
// ignored, and said so in [Lease.Notes]), and the translation into
// netsetup's requests ([Lease.Plan]): classless static routes (option 121)
// instead of the router option (option 3), as RFC 3442 requires, and a
// host route to any gateway outside the leased subnet.
//
// It applies nothing itself: netsetup/bringup does, with wgboot's own
// rtnetlink, and records the lease for the next stage.
package dhcp
