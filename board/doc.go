// Package board loads, validates and selects TOML board profiles.
//
// A board profile says which kernel modules a board needs, how its uplink
// is addressed, which WireGuard tunnels to bring up and how to hand off to
// the real root. docs/profile.md is the reference for the file format;
// this package is its only implementation.
//
// # Pipeline
//
// [Parse] turns TOML into a [Profile] and reports syntax errors, type
// errors and unknown keys. [Profile.ReadKeys] reads private_key_file and
// preshared_key_file. [Profile.Validate] lints the result. [Load] does all
// three for one file of an [fs.FS]. Every step reports all problems it
// finds as [Diagnostics], each with a severity, a field path such as
// tunnel[0].peer[2].allowed_ips[1] and a file:line:col position.
//
// The toml package is the parser of record. Beside it the package has one
// scanner of its own (scan.go), which reads the plain TOML profiles are
// written in straight into a Profile, several times faster, for hubs with
// 10,000 peers; finds the positions of problems, which the toml package
// does not export; and finds inline keys. Anything outside its subset, and
// any profile with a problem, goes through the toml package; both give the
// same results.
//
// # Boot
//
// PID 1 reads the kernel command line with [ParseCmdline], parses every
// profile of the image's profile directory with [LoadDir], identifies the
// board with [Identify] and picks a profile with [Select]; it reads the
// chosen profile's keys with [Profile.ReadKeys], lints it with
// [Profile.Validate] and applies the command line with
// [Profile.ApplyOverrides] (profile < command line). A profile named by
// wgboot.profile= is read with [Load] instead. Files are read only if they
// are regular and not too large. Once the keys are in the kernel,
// [Profile.Wipe] zeroes every copy of them the package made.
//
// [MarshalSecrets] writes a profile back as TOML, for `wgboot import`.
//
// The package has no global state and performs I/O only through the fs.FS
// values it is given.
package board
