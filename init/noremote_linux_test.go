//go:build !rescue

package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/wgboot/wgboot/board"
	"github.com/wgboot/wgboot/internal/kmsg"
)

// TestNoRemote: the default /init, asked for on_failure = "remote" (by the
// profile or the command line, before a profile was read), takes
// remote_fallback when a failure needs the policy, says why, and records
// the action taken; other policies stay as they are.
func TestNoRemote(t *testing.T) {
	for _, c := range []struct {
		policy board.OnFailure
		p      *board.Profile
		want   board.OnFailure
	}{
		{board.FailRemote, nil, board.FailReboot},
		{board.FailRemote, &board.Profile{Handoff: board.Handoff{RemoteFallback: board.FailHalt}}, board.FailHalt},
		{board.FailRemote, &board.Profile{Handoff: board.Handoff{RemoteFallback: board.FailContinue}}, board.FailContinue},
		{board.FailShell, &board.Profile{Handoff: board.Handoff{RemoteFallback: board.FailHalt}}, board.FailShell},
	} {
		var logs bytes.Buffer
		b := newBoot(kmsg.New("wgboot", &logs))
		b.policy, b.profile = c.policy, c.p
		b.noRemote()
		if b.policy != c.want {
			t.Errorf("%s with %+v: policy %s, want %s", c.policy, c.p, b.policy, c.want)
		}
		said := strings.Contains(logs.String(), "remote rescue: this image has no remote rescue: rebuild it with RESCUE=1")
		if c.policy == board.FailRemote {
			if !said || !strings.Contains(logs.String(), "remote_fallback "+string(c.want)+": "+policyText[c.want]) || b.state.Policy != string(c.want) {
				t.Errorf("%s → %s: state policy %q, log:\n%s", c.policy, c.want, b.state.Policy, logs.String())
			}
		} else if said || b.state.Policy != "" {
			t.Errorf("%s: state policy %q, log:\n%s", c.policy, b.state.Policy, logs.String())
		}
	}
}

// TestRetryNoRemote: the default /init has no `wgboot retry` (nothing to
// retry in), and a SIGHUP takes no request.
func TestRetryNoRemote(t *testing.T) {
	var out, errb bytes.Buffer
	if code := runCLI(&out, &errb, []string{"retry"}); code != 2 || !strings.Contains(errb.String(), `unknown command "retry"`) {
		t.Errorf("retry = %d, stdout %q, stderr %q", code, out.String(), errb.String())
	}
	if strings.Contains(usage(), "retry") {
		t.Errorf("the usage lists retry:\n%s", usage())
	}
}
