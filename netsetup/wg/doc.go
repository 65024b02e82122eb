// Package wg configures WireGuard devices through the kernel's "wireguard"
// generic netlink family, with no netlink library: every message goes
// through package nl.
//
// # Configuring
//
// [Client.Configure] applies a [Config] with WG_CMD_SET_DEVICE. The kernel
// applies a SET message in order and stops at the first error, and a large
// configuration spans several messages, so nothing is transactional:
// [Validate] checks the whole configuration before the first message is
// sent. Messages are packed up to a byte budget (60 KiB by default) the way
// wg(8) splits them: WGDEVICE_F_REPLACE_PEERS and the device fields only in
// the first message; a peer cut between two messages continues in the next
// with only its public key, its update-only flag and the remaining allowed
// IPs, and WGPEER_F_REPLACE_ALLOWEDIPS only in its first fragment.
//
// # Reading back
//
// [Client.Device] dumps a device with WG_CMD_GET_DEVICE, retrying a dump
// the kernel marks inconsistent (NLM_F_DUMP_INTR), and merges the fragments
// of peers split across messages. The kernel accepts some inputs without
// applying them (a peer whose key is the device's own, an endpoint of the
// wrong size), so callers compare with [Verify] after configuring.
// [Client.WaitHandshake] polls until peers have completed a handshake.
//
// # Secrets
//
// Private and preshared keys are [wgkey] secret types that never print.
// This package never formats them into errors, never returns them from
// [Client.Device], and wipes every buffer that held one, on the error paths
// too: the SET messages it builds (their encoders are sized before a key
// goes in, so that no growth leaves a copy behind) and the GET_DEVICE
// replies, which carry the private key and every preshared key (the
// kernel's wg_get_device_dump returns them to CAP_NET_ADMIN).
//
// # Deadlines
//
// [Client.SetDeadline] bounds every exchange by an absolute time, such as
// the deadline of the boot phase that uses the Client.
//
// Everything but this file is Linux-only.
package wg
