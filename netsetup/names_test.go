package netsetup

import (
	"errors"
	"testing"

	"github.com/wgboot/wgboot/internal/krule/kruletest"
)

// TestValidateLinkName runs the interface names that board.Validate is
// tested with too (kruletest.IfNames): the boot takes what check takes.
func TestValidateLinkName(t *testing.T) {
	for _, tt := range kruletest.IfNames {
		err := ValidateLinkName(tt.Name)
		if (err == nil) != tt.OK {
			t.Errorf("ValidateLinkName(%q) = %v, want ok %v", tt.Name, err, tt.OK)
		}
		if err != nil && !errors.Is(err, ErrInvalidName) {
			t.Errorf("ValidateLinkName(%q) = %v, does not wrap ErrInvalidName", tt.Name, err)
		}
	}
}
