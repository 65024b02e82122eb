//go:build !rescue

package main

import (
	"bytes"
	"os"
	"strings"
	"testing"
)

// TestRetryNoRemote: in the default /init, `wgboot retry` says the image
// has no remote rescue, and a SIGHUP takes no request.
func TestRetryNoRemote(t *testing.T) {
	var out, errb bytes.Buffer
	if code := retryCmd(&out, &errb, nil); code != 1 || !strings.Contains(errb.String(), "this image has no remote rescue") || out.Len() != 0 {
		t.Errorf("retry = %d, stdout %q, stderr %q", code, out.String(), errb.String())
	}
	if (&boot{}).onRetrySignal() {
		t.Error("a SIGHUP took a retry request")
	}
	if (&boot{}).remoteReboot(os.Interrupt) {
		t.Error("a reboot signal went to a remote rescue")
	}
}
