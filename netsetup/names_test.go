package netsetup

import (
	"errors"
	"testing"
)

func TestValidateLinkName(t *testing.T) {
	tests := []struct {
		name string
		ok   bool
	}{
		{"eth0", true},
		{"wg0", true},
		{"a", true},
		{"fifteen-bytes-x", true},
		{"sixteen-bytes-xx", false},
		{"", false},
		{".", false},
		{"..", false},
		{"...", true},
		{"a/b", false},
		{"a:1", false},
		{"a b", false},
		{"a\tb", false},
		{"a\nb", false},
		{"a\x00b", false},
		{"wg%d", false},
		{"nbsp\u00a0", false},
		{"ünï", true},
	}
	for _, tt := range tests {
		err := ValidateLinkName(tt.name)
		if (err == nil) != tt.ok {
			t.Errorf("ValidateLinkName(%q) = %v, want ok %v", tt.name, err, tt.ok)
		}
		if err != nil && !errors.Is(err, ErrInvalidName) {
			t.Errorf("ValidateLinkName(%q) = %v, does not wrap ErrInvalidName", tt.name, err)
		}
	}
}
