// Package persist is the board's config partition as PID 1 uses it: where
// it is mounted, and how a file is written there so that a power cut at
// any moment leaves the old file or the new one, never a torn or empty
// one.
//
// PID 1 mounts the partition that the profile's [persist] table names at
// [Dir] (nodev, nosuid, noexec) before the clock, crng and keys phases, and
// unmounts it before the handoff: the main system mounts it with its own
// options when it wants it. Everything PID 1 keeps there — the tunnels'
// private keys (private_key_file = "/persist/wg0.key" with generate_key),
// their .pub files, profiles under wgboot/profiles, a rescue host key, a
// random seed, a saved clock — is written with [WriteFile] or
// [CreateFile].
package persist

// Dir is where PID 1 mounts the partition.
const Dir = "/persist"

// ProfileDir is where, below Dir, a board's own profiles are: they are
// read before the image's (see docs/fleet.md).
const ProfileDir = "wgboot/profiles"
