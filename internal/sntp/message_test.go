package sntp

import (
	"encoding/binary"
	"errors"
	"testing"
	"time"

	"github.com/wgboot/wgboot/internal/sntp/sntptest"
)

func ntpStamp(t time.Time) uint64 { return sntptest.Stamp(t) }

func TestNTPTime(t *testing.T) {
	build := time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		name string
		want time.Time
		base time.Time
	}{
		{"now", time.Date(2026, 12, 7, 6, 30, 0, 500_000_000, time.UTC), build},
		{"before the build", time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC), build},
		{"last second of era 0", time.Date(2036, 2, 7, 6, 28, 15, 0, time.UTC), build},
		{"first second of era 1", time.Date(2036, 2, 7, 6, 28, 16, 0, time.UTC), build},
		{"era 1, built in era 1", time.Date(2040, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2037, 1, 1, 0, 0, 0, 0, time.UTC)},
		{"era 0, built in era 1", time.Date(2035, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2037, 1, 1, 0, 0, 0, 0, time.UTC)},
		{"68 years after the build", time.Date(2094, 1, 1, 0, 0, 0, 0, time.UTC), build},
	} {
		got := ntpTime(ntpStamp(c.want), c.base)
		if d := got.Sub(c.want); d < -time.Nanosecond || d > time.Nanosecond {
			t.Errorf("%s: ntpTime(%#x, %v) = %v, want %v", c.name, ntpStamp(c.want), c.base, got, c.want)
		}
	}
}

// serverReply is a server's answer to the request with nonce.
func serverReply(nonce [8]byte, mutate func([]byte)) []byte {
	b := make([]byte, packetLen)
	b[0] = 0<<6 | 4<<3 | modeServer
	b[1] = 2 // stratum
	copy(b[24:32], nonce[:])
	now := time.Date(2026, 12, 7, 6, 30, 0, 0, time.UTC)
	binary.BigEndian.PutUint64(b[32:], ntpStamp(now))
	binary.BigEndian.PutUint64(b[40:], ntpStamp(now.Add(time.Millisecond)))
	if mutate != nil {
		mutate(b)
	}
	return b
}

func TestParseReply(t *testing.T) {
	nonce := [8]byte{1, 2, 3, 4, 5, 6, 7, 8}
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	if got := request(nonce); got[0] != 0x23 || [8]byte(got[40:48]) != nonce || len(got) != packetLen {
		t.Errorf("request = %x, want LI 0, VN 4, mode 3 and the nonce as transmit timestamp", got)
	}
	r, err := parseReply(serverReply(nonce, nil), nonce, base)
	if err != nil || r.stratum != 2 || r.transmit.Sub(r.receive) != time.Millisecond ||
		!r.receive.Equal(time.Date(2026, 12, 7, 6, 30, 0, 0, time.UTC)) {
		t.Errorf("parseReply(good) = %+v, %v", r, err)
	}
	for _, c := range []struct {
		name   string
		mutate func([]byte)
		want   error
	}{
		{"short", nil, ErrMalformed},
		{"client mode", func(b []byte) { b[0] = 4<<3 | modeClient }, ErrMalformed},
		{"version 2", func(b []byte) { b[0] = 2<<3 | modeServer }, ErrMalformed},
		{"not our nonce", func(b []byte) { b[31] ^= 1 }, ErrMalformed},
		{"no transmit time", func(b []byte) { clear(b[40:48]) }, ErrMalformed},
		{"kiss-o'-death RATE", func(b []byte) { b[1] = 0; copy(b[12:], "RATE") }, ErrKissOfDeath},
		{"leap alarm", func(b []byte) { b[0] |= 3 << 6 }, ErrUnsynchronized},
		{"stratum 16", func(b []byte) { b[1] = 16 }, ErrUnsynchronized},
	} {
		b := serverReply(nonce, c.mutate)
		if c.name == "short" {
			b = b[:47]
		}
		if _, err := parseReply(b, nonce, base); !errors.Is(err, c.want) {
			t.Errorf("%s: parseReply = %v, want %v", c.name, err, c.want)
		}
	}
	version3 := serverReply(nonce, func(b []byte) { b[0] = 3<<3 | modeServer })
	if _, err := parseReply(version3, nonce, base); err != nil {
		t.Errorf("NTPv3 reply: %v", err)
	}
}

func FuzzParseReply(f *testing.F) {
	nonce := [8]byte{1, 2, 3, 4, 5, 6, 7, 8}
	f.Add(serverReply(nonce, nil))
	f.Add(serverReply(nonce, func(b []byte) { b[1] = 0 }))
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := parseReply(b, nonce, base)
		if err == nil && (r.stratum == 0 || r.stratum > maxStratum) {
			t.Errorf("accepted stratum %d", r.stratum)
		}
	})
}
