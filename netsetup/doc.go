// Package netsetup configures links, addresses, routes and policy rules over
// rtnetlink, and brings up the uplink and the WireGuard tunnel links of a
// wgboot board.
//
// All netlink I/O goes through package nl (netsetup/internal/nl); netsetup
// builds the requests (pure functions, each with a golden byte vector under
// testdata/golden) and decodes the replies. WireGuard device configuration
// (generic netlink) lives in package netsetup/wg.
//
// # Why rtnetlink
//
// A [Handle] does everything over rtnetlink (NETLINK_ROUTE), no AF_INET
// ioctls:
//
//   - Creating a typed link (wireguard, veth, dummy) has no ioctl at all.
//   - IPv6 addresses and routes, policy rules, routing tables other than
//     main and more than one address per link have no AF_INET ioctl either.
//   - Netlink errors carry the kernel's extended-ACK text ("Nexthop has
//     invalid gateway"), which PID 1 logs; ioctls return a bare errno.
//   - Flag changes use ifi_change, so setting IFF_UP changes only that bit;
//     SIOCSIFFLAGS is a read-modify-write of all flags that can race.
//   - A Handle's socket is bound to the network namespace it was opened in,
//     whatever thread later uses it; an ioctl acts on the namespace of the
//     calling thread.
//
// # Idempotency
//
// Operations that PID 1 may repeat are idempotent, and an "already exists"
// answer counts as success only after the existing state has been checked:
// [Handle.AddAddress] and [Handle.AddRule] confirm by a dump that the same
// address or rule is there, [Handle.ReplaceRoute] uses NLM_F_REPLACE, and
// [Handle.EnsureWireGuardLink] reports an existing link instead of failing.
//
// # Many routes
//
// [Handle.ReplaceRoutes], which [Handle.ConfigureTunnelLink] uses for a
// tunnel's allowed IPs, sends its requests many per write and matches each
// acknowledgement back to its route, so that 10,000 routes cost about a
// hundred writes instead of 10,000 exchanges; a refused route is named in
// the error and does not stop the others.
//
// # Duplicate address detection
//
// An IPv6 address is tentative while the kernel checks that no other host
// has it, about a second or two, and the kernel sends nothing from it
// meanwhile: a first WireGuard handshake over an IPv6-only uplink would be
// lost and retried 5 s later. [Handle.WaitDAD] waits, bounded, until a
// link's addresses are no longer tentative and reports a duplicate
// (IFA_F_DADFAILED) by name; [NoDAD] adds an address that skips the check.
// [Uplink] has both.
//
// # Deadlines
//
// [Handle.SetDeadline] bounds every exchange of a Handle by an absolute
// time, such as the deadline of the boot phase that uses it, so that a
// kernel call that never answers ends with the phase.
//
// # Errors
//
// Errors say what was being done and wrap the *nl.Error of the netlink
// exchange, which unwraps to a unix.Errno: callers branch with
// errors.Is(err, unix.ENODEV), and the error text ends with the kernel's
// extended-ACK message when there is one. Operations that go on after a
// failure join at most 10 errors and count the rest (package errcap): one
// failure repeated over 10,000 routes stays a short message.
package netsetup
