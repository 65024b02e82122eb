//go:build !unix

package image

import "sync"

var lockMu sync.Mutex

// lockFile serialises builds within this process only.
func lockFile(string) (func(), error) {
	lockMu.Lock()
	return lockMu.Unlock, nil
}
