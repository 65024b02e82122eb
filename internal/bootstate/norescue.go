//go:build !rescue

package bootstate

// rescue writes nothing: only a rescue image's /init (built with the
// rescue tag, rescue.go) fills in the rescue member, and the default /init,
// flashed into every board, carries no code for it. Host tools read the
// member with encoding/json whatever their build.
func (e *encoder) rescue(*Rescue) {}
