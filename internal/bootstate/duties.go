package bootstate

import (
	"strconv"
	"time"
)

// Watchdog is the hardware watchdog ([board] watchdog) as PID 1 left it.
type Watchdog struct {
	Device   string `json:"device"`
	Identity string `json:"identity,omitempty"` // the driver's name for it
	// TimeoutS is the timeout in effect, in seconds: what the driver
	// granted, which may differ from the profile's.
	TimeoutS int `json:"timeout_s,omitempty"`
	// LastResetByWatchdog: the driver says the watchdog caused the last
	// reset (WDIOF_CARDRESET; hardware that records it).
	LastResetByWatchdog bool `json:"last_reset_by_watchdog,omitempty"`
	// Handoff is "armed" (left running: the next stage must open the
	// device within timeout_s of the handoff) or "disarmed" (stopped
	// with the magic close); absent when PID 1 never opened it.
	Handoff string `json:"handoff,omitempty"`
	Error   string `json:"error,omitempty"`
}

// Clock is where the system clock came from.
type Clock struct {
	// Source is "ntp" ([clock] ntp), "saved" (the saved clock of
	// [persist] save_clock), "build" (wgboot's build time, the floor)
	// or "kernel" (as the kernel had it: a real-time clock, or the
	// command line's).
	Source string `json:"source"`
	// NTPServer is the server whose time was taken, as address:port;
	// NTPHost the host name it was looked up by, when [clock] ntp named
	// the server so.
	NTPServer string `json:"ntp_server,omitempty"`
	NTPHost   string `json:"ntp_host,omitempty"`
	// StepNS is how far the boot moved the clock in all, forward when
	// positive.
	StepNS int64 `json:"step_ns,omitempty"`
	// Saved is the saved clock read at boot; SavedNow the time written
	// back at the end of the boot.
	Saved    time.Time `json:"saved,omitzero"`
	SavedNow time.Time `json:"saved_now,omitzero"`
	// Error says why NTP or the saved clock failed; the source says what
	// the clock is instead.
	Error string `json:"error,omitempty"`
}

// RandomSeed is what the saved random seed ([persist] random_seed) did.
type RandomSeed struct {
	// CreditedBits were credited to the kernel's pool from the seed
	// saved by the boot before; 0 without one.
	CreditedBits int `json:"credited_bits"`
	// Renewed: a fresh seed replaced it (or was written, on a first boot).
	Renewed bool   `json:"renewed"`
	Error   string `json:"error,omitempty"`
}

func (e *encoder) watchdog(w *Watchdog) {
	e.key("watchdog")
	e.begin('{')
	e.str("device", w.Device)
	e.optStr("identity", w.Identity)
	e.optInt("timeout_s", int64(w.TimeoutS))
	e.optTrue("last_reset_by_watchdog", w.LastResetByWatchdog)
	e.optStr("handoff", w.Handoff)
	e.optStr("error", w.Error)
	e.end('}')
}

func (e *encoder) clock(c *Clock) {
	e.key("clock")
	e.begin('{')
	e.str("source", c.Source)
	e.optStr("ntp_server", c.NTPServer)
	e.optStr("ntp_host", c.NTPHost)
	e.optInt("step_ns", c.StepNS)
	e.time("saved", c.Saved)
	e.time("saved_now", c.SavedNow)
	e.optStr("error", c.Error)
	e.end('}')
}

func (e *encoder) randomSeed(r *RandomSeed) {
	e.key("random_seed")
	e.begin('{')
	e.int("credited_bits", int64(r.CreditedBits))
	e.bool("renewed", r.Renewed)
	e.optStr("error", r.Error)
	e.end('}')
}

func (e *encoder) bool(name string, v bool) {
	e.key(name)
	e.buf = strconv.AppendBool(e.buf, v)
}

// Rescue is on_failure = "remote" as PID 1 started it: where its SSH server
// listens, and the host key an operator checks before logging in. Only a
// rescue image's /init (built with the rescue tag) fills it in and writes
// it (rescue.go): the default /init offers no remote rescue, and carries
// no code for this member.
type Rescue struct {
	Listen []string `json:"listen,omitempty"` // ADDR:PORT, the tunnels' own addresses
	// HostKey is the host key's fingerprint, SHA256:… as ssh prints it.
	HostKey     string `json:"host_key,omitempty"`
	HostKeyFile string `json:"host_key_file,omitempty"` // absent: a key for this run only
	// Retries counts the `wgboot retry` whose handoff failed again; the
	// state's failure is the last one's.
	Retries int    `json:"retries,omitempty"`
	Error   string `json:"error,omitempty"`
}
