package wg

import (
	"errors"
	"testing"

	"github.com/wgboot/wgboot/internal/krule/kruletest"
)

// TestConfigure_ifnames runs the interface names that board.Validate is
// tested with too (kruletest.IfNames): Configure refuses, before sending
// anything, exactly the names check refuses.
func TestConfigure_ifnames(t *testing.T) {
	for _, tt := range kruletest.IfNames {
		if err := checkIfname(tt.Name); (err == nil) != tt.OK {
			t.Errorf("checkIfname(%q) = %v, want ok %v", tt.Name, err, tt.OK)
		}
		if tt.OK {
			continue
		}
		f := newFakeWG(t, "wg0")
		c, rec := f.client(t)
		if err := c.Configure(tt.Name, Config{}); !errors.Is(err, ErrInvalid) {
			t.Errorf("Configure(%q) = %v, want ErrInvalid", tt.Name, err)
		}
		if n := len(setRequests(t, rec.Requests())); n != 0 {
			t.Errorf("Configure(%q) sent %d SET messages, want 0", tt.Name, n)
		}
	}
}
