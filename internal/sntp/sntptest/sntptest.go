// Package sntptest is an NTP server for tests: it answers SNTP requests
// with the time of a clock it is given, as a stratum-1 server would. The
// QEMU hub guest serves its clients with it; it is no NTP server for
// production (no leap seconds, no rate limiting, no authentication).
package sntptest

import (
	"encoding/binary"
	"net"
	"time"
)

// Server answers NTP requests.
type Server struct {
	// Now is the server's clock; nil means time.Now.
	Now func() time.Time
	// Hold is how long the server keeps each request before it answers,
	// as a loaded server would.
	Hold time.Duration
	// Rewrite, if not nil, replaces each reply with what it returns
	// (none, several, or altered ones), for tests of a client's checks.
	Rewrite func(req, rep []byte) [][]byte
	// Logf, if not nil, receives one line per request.
	Logf func(format string, args ...any)
}

// Serve answers the requests that come on pc until it is closed.
func (s *Server) Serve(pc net.PacketConn) error {
	now := s.Now
	if now == nil {
		now = time.Now
	}
	buf := make([]byte, 512)
	for {
		n, from, err := pc.ReadFrom(buf)
		if err != nil {
			return err
		}
		if n < 48 || buf[0]&7 != 3 {
			continue // not a client request
		}
		recv := now()
		rep := make([]byte, 48)
		rep[0] = buf[0]&(7<<3) | 4 // the client's version, mode server, no leap
		rep[1] = 1                 // stratum 1
		rep[2] = buf[2]            // poll
		rep[3] = 0xec              // precision 2^-20 s
		copy(rep[12:16], "LOCL")
		binary.BigEndian.PutUint64(rep[16:], Stamp(recv))
		copy(rep[24:32], buf[40:48]) // origin: the client's transmit timestamp
		binary.BigEndian.PutUint64(rep[32:], Stamp(recv))
		time.Sleep(s.Hold)
		sent := now()
		binary.BigEndian.PutUint64(rep[40:], Stamp(sent))
		out := [][]byte{rep}
		if s.Rewrite != nil {
			out = s.Rewrite(buf[:n], rep)
		}
		for _, o := range out {
			pc.WriteTo(o, from)
		}
		if s.Logf != nil {
			s.Logf("ntp: %s asked; answered %s", from, sent.UTC().Format(time.RFC3339Nano))
		}
	}
}

// Stamp is t as a 64-bit NTP timestamp: seconds since 1900 in the high 32
// bits (of t's era), the fraction in the low 32.
func Stamp(t time.Time) uint64 {
	secs := uint64(t.Unix()+2208988800) & (1<<32 - 1)
	frac := (uint64(t.Nanosecond())<<32 + uint64(time.Second)/2) / uint64(time.Second)
	return secs<<32 | frac
}
