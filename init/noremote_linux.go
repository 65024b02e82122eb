//go:build !rescue

package main

import (
	"errors"
	"fmt"
	"io"
	"os"
)

// The default /init (make build, make image) carries none of the remote
// rescue: that is remote_linux.go, built with the rescue tag into a rescue
// image's /init only (make image RESCUE=1), so that every board's flash
// does not pay for it. This /init still reads profiles that ask for one
// (on_failure = "remote", remote_fallback, [rescue]); it follows
// remote_fallback, as a rescue image's /init does when it cannot offer a
// rescue (wgboot check -image minimal says so at build time).

// errNoRemote is why this /init offers no remote rescue.
var errNoRemote = errors.New("this image has no remote rescue: rebuild it with RESCUE=1 (make image RESCUE=1 builds its /init with -tags rescue)")

// remote follows remote_fallback.
func (b *boot) remote() { b.remoteFallback(errNoRemote) }

// onRetrySignal takes no retry request: there is no rescue to take one.
func (b *boot) onRetrySignal() bool { return false }

// remoteReboot takes no reboot signal: there is no rescue to end.
func (b *boot) remoteReboot(os.Signal) bool { return false }

// retryCmd is `wgboot retry`: this image has nothing to retry in.
func retryCmd(stdout, stderr io.Writer, args []string) int {
	fmt.Fprintln(stderr, "wgboot retry:", errNoRemote)
	return 1
}
