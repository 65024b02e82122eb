package main

import (
	"testing"

	"github.com/wgboot/wgboot/board"
)

// TestRemoteFallbackOf: the policy that follows when no remote rescue can
// be offered is the profile's remote_fallback, else reboot.
func TestRemoteFallbackOf(t *testing.T) {
	for _, c := range []struct {
		p    *board.Profile
		want board.OnFailure
	}{
		{nil, board.FailReboot},
		{&board.Profile{}, board.FailReboot},
		{&board.Profile{Handoff: board.Handoff{RemoteFallback: board.FailHalt}}, board.FailHalt},
		{&board.Profile{Handoff: board.Handoff{RemoteFallback: board.FailContinue}}, board.FailContinue},
		{&board.Profile{Handoff: board.Handoff{RemoteFallback: board.FailRemote}}, board.FailReboot},
	} {
		if got := remoteFallbackOf(c.p); got != c.want {
			t.Errorf("remote_fallback of %+v = %s, want %s", c.p, got, c.want)
		}
	}
}
