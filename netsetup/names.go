package netsetup

import "github.com/wgboot/wgboot/internal/krule"

// ErrInvalidName is wrapped by the errors of ValidateLinkName, and so of every
// operation given a bad interface name.
var ErrInvalidName = krule.ErrIfName

// ValidateLinkName reports whether name is an interface name wgboot uses,
// so that a bad name fails with a clear error before any request is sent.
// The rule is [krule.CheckIfName], the one `wgboot check` applies too.
func ValidateLinkName(name string) error {
	return krule.CheckIfName(name)
}
