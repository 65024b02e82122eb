// Package randseed carries entropy across boots: a seed saved on the
// board's persistent storage is mixed into the kernel's random pool and
// credited (RNDADDENTROPY), then replaced at once with fresh bytes from
// getrandom, so that no seed is credited twice. It is the scheme of
// systemd-random-seed with credit, for a board that has no hardware RNG
// the kernel trusts and would otherwise wait for its CRNG.
//
// A seed is only worth crediting if nobody else has it: the file must be
// written by the board itself (by [Seed.Use] or [Seed.Renew]), never put
// into an image that many boards share.
package randseed
