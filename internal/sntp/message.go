package sntp

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"
)

// packetLen is the length of an NTP header without extensions (RFC 5905
// figure 8).
const packetLen = 48

// Header fields, RFC 5905 §7.3.
const (
	version    = 4
	modeClient = 3
	modeServer = 4
	leapAlarm  = 3 // leap indicator: the server's clock is not synchronised
	maxStratum = 15
)

// Errors of a reply that gives no time.
var (
	// ErrKissOfDeath is a server telling the client to stop asking
	// (stratum 0 with a kiss code: RATE, DENY, RSTR, …; RFC 5905 §7.4).
	ErrKissOfDeath = errors.New("kiss-o'-death")
	// ErrUnsynchronized is a server whose own clock is not set.
	ErrUnsynchronized = errors.New("server not synchronised")
	// ErrMalformed is a reply that is not an answer to the request.
	ErrMalformed = errors.New("malformed reply")
)

// request builds a client request whose transmit timestamp is nonce.
func request(nonce [8]byte) []byte {
	b := make([]byte, packetLen)
	b[0] = version<<3 | modeClient // LI 0
	copy(b[40:48], nonce[:])
	return b
}

// reply is what a server's answer says.
type reply struct {
	stratum  uint8
	receive  time.Time // T2: when the server got the request
	transmit time.Time // T3: when it sent the reply
}

// parseReply checks b as the answer to the request that carried nonce and
// returns its times. base is a time near the answer's (the clock floor),
// which resolves the 136-year NTP era.
func parseReply(b []byte, nonce [8]byte, base time.Time) (reply, error) {
	if len(b) < packetLen {
		return reply{}, fmt.Errorf("%w: %d bytes", ErrMalformed, len(b))
	}
	li, vn, mode := b[0]>>6, b[0]>>3&7, b[0]&7
	if mode != modeServer || vn < 3 || vn > 4 {
		return reply{}, fmt.Errorf("%w: version %d mode %d", ErrMalformed, vn, mode)
	}
	if [8]byte(b[24:32]) != nonce {
		return reply{}, fmt.Errorf("%w: origin timestamp is not the request's", ErrMalformed)
	}
	r := reply{stratum: b[1]}
	switch {
	case r.stratum == 0:
		return reply{}, fmt.Errorf("%w: %q", ErrKissOfDeath, kissCode(b[12:16]))
	case r.stratum > maxStratum || li == leapAlarm:
		return reply{}, fmt.Errorf("%w: stratum %d, leap indicator %d", ErrUnsynchronized, r.stratum, li)
	}
	tx := binary.BigEndian.Uint64(b[40:])
	if tx == 0 {
		return reply{}, fmt.Errorf("%w: no transmit timestamp", ErrMalformed)
	}
	r.receive = ntpTime(binary.BigEndian.Uint64(b[32:]), base)
	r.transmit = ntpTime(tx, base)
	return r, nil
}

// kissCode is the four ASCII letters of a kiss-o'-death, printable.
func kissCode(b []byte) string {
	out := make([]byte, 0, 4)
	for _, c := range b {
		if c < ' ' || c > '~' {
			c = '?'
		}
		out = append(out, c)
	}
	return string(out)
}

// unixToNTP is the NTP timestamp of the Unix epoch: seconds from
// 1900-01-01 to 1970-01-01.
const unixToNTP = 2208988800

// eraSeconds is the length of an NTP era: 2^32 seconds, about 136 years.
const eraSeconds = 1 << 32

// ntpTime converts a 64-bit NTP timestamp (32.32 fixed-point seconds) to a
// time. A timestamp names one second in each 136-year era; ntpTime picks
// the one within 68 years of base, so that with the build time as base it
// is right, across the 2036 rollover, for 68 years after any build.
func ntpTime(ts uint64, base time.Time) time.Time {
	secs := int64(ts >> 32)
	nsec := int64(((ts&(1<<32-1))*uint64(time.Second) + 1<<31) >> 32) // rounded
	baseSecs := base.Unix() + unixToNTP
	era := floorDiv(baseSecs-secs+eraSeconds/2, eraSeconds)
	return time.Unix(era*eraSeconds+secs-unixToNTP, nsec)
}

// floorDiv is a/b rounded towards minus infinity, for b > 0.
func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b < 0 {
		q--
	}
	return q
}
