//go:build !rescue

package main

import (
	"errors"
	"io"
	"os"

	"github.com/wgboot/wgboot/board"
)

// The default /init (make build, make image) carries none of the remote
// rescue: that is remote_linux.go, built with the rescue tag into a rescue
// image's /init only (make image RESCUE=1), so that every board's flash
// does not pay for it. This /init still reads profiles that ask for one
// (on_failure = "remote", remote_fallback, [rescue]) as a rescue image's
// does; when one fails it follows remote_fallback, as a rescue image's
// /init does when it cannot offer a rescue (wgboot check -image minimal
// says so at build time).

// remoteBuild is false: code only a remote rescue needs is left out.
const remoteBuild = false

// remoteHooks is empty: there is no rescue to signal.
type remoteHooks struct{}

// errNoRemote is why this /init offers no remote rescue.
var errNoRemote = errors.New("this image has no remote rescue: rebuild it with RESCUE=1 (make image RESCUE=1 builds its /init with -tags rescue)")

// noRemote makes on_failure = "remote" remote_fallback once a failure
// needs the policy (finish calls it before it writes the state file), and
// says so: the state file tells the action taken, and the rest of the
// boot follows it as it would the profile's own.
func (b *boot) noRemote() {
	if b.policy != board.FailRemote {
		return
	}
	fb := remoteFallbackOf(b.profile)
	b.log.Outcomef(levelErr, "remote rescue: %v; remote_fallback %s: %s", errNoRemote, fb, policyText[fb])
	b.policy = fb
	b.state.Policy = string(fb)
}

// remote, onRetrySignal, remoteReboot and retryCmd are only called when
// remoteBuild is true.

func (b *boot) remote() {}

func (b *boot) onRetrySignal() bool { return false }

func (b *boot) remoteReboot(os.Signal) bool { return false }

func retryCmd(io.Writer, io.Writer, []string) int { return 2 }
