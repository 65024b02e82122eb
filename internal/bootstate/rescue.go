//go:build rescue

package bootstate

// rescue writes the rescue member, when there is one. Only a rescue
// image's /init has this: the default /init offers no remote rescue
// (norescue.go).
func (e *encoder) rescue(r *Rescue) {
	if len(r.Listen) == 0 && r.HostKey == "" && r.HostKeyFile == "" && r.Retries == 0 && r.Error == "" {
		return
	}
	e.key("rescue")
	e.begin('{')
	e.optStrs("listen", r.Listen)
	e.optStr("host_key", r.HostKey)
	e.optStr("host_key_file", r.HostKeyFile)
	e.optInt("retries", int64(r.Retries))
	e.optStr("error", r.Error)
	e.end('}')
}
