package board

import (
	"net/netip"
	"os"
	"reflect"
	"testing"
	"time"
)

func TestParseMAC(t *testing.T) {
	for _, c := range []struct {
		in   string
		want string // "" for an error
	}{
		{"52:54:00:12:34:56", "52:54:00:12:34:56"},
		{"52:54:00:AB:cd:Ef", "52:54:00:ab:cd:ef"},
		{"02:00:00:00:00:01", "02:00:00:00:00:01"}, // locally administered
		{"00:00:00:00:00:00", ""},
		{"ff:ff:ff:ff:ff:ff", ""},
		{"01:00:5e:00:00:fb", ""},
		{"33:33:00:00:00:01", ""},
		{"52-54-00-12-34-56", ""},
		{"525400123456", ""},
		{"52:54:00:12:34", ""},
		{"52:54:00:12:34:56:78", ""},
		{"52:54:00:12:34:5g", ""},
		{" 52:54:00:12:34:5", ""},
		{"", ""},
	} {
		m, err := ParseMAC(c.in)
		switch {
		case c.want == "" && err == nil:
			t.Errorf("ParseMAC(%q) = %s, want an error", c.in, m)
		case c.want != "" && (err != nil || m.String() != c.want):
			t.Errorf("ParseMAC(%q) = %s, %v; want %s", c.in, m, err, c.want)
		}
	}
}

// TestDutiesKeys: the duties' keys as the profile gives them.
func TestDutiesKeys(t *testing.T) {
	data, err := os.ReadFile("testdata/valid/duties.toml")
	if err != nil {
		t.Fatal(err)
	}
	p, ds := Parse("duties.toml", data)
	if err := ds.Err(); err != nil {
		t.Fatal(err)
	}
	want := Board{Name: "duties", Modules: p.Board.Modules, Watchdog: "/dev/watchdog0", WatchdogTimeout: 30 * time.Second, WatchdogHandoff: WatchdogDisarm}
	if !reflect.DeepEqual(p.Board, want) {
		t.Errorf("[board] = %+v, want %+v", p.Board, want)
	}
	if ps := p.Persist; !ps.RandomSeed || !ps.SaveClock {
		t.Errorf("[persist] = %+v, want random_seed and save_clock", ps)
	}
	if want := []Endpoint{{Addr: netip.MustParseAddrPort("192.0.2.123:123")}, {Addr: netip.MustParseAddrPort("[2001:db8::123]:1123")}}; !reflect.DeepEqual(p.Clock.NTP, want) {
		t.Errorf("[clock] ntp = %v, want %v", p.Clock.NTP, want)
	}
	named, ds := Parse("names.toml", []byte("[board]\nname = \"n\"\n[clock]\nntp = [\"pool.ntp.org\", \"time.example.net:1123\"]\n"))
	if want := []Endpoint{{Host: "pool.ntp.org", Port: NTPPort}, {Host: "time.example.net", Port: 1123}}; !reflect.DeepEqual(named.Clock.NTP, want) {
		t.Errorf("[clock] ntp by name = %v (%v), want %v", named.Clock.NTP, ds, want)
	}
	if p.Uplink.MAC != (MAC{0x52, 0x54, 0, 0x12, 0x34, 0x56}) || p.Uplink.Interface != "" {
		t.Errorf("[uplink] mac = %s, interface = %q", p.Uplink.MAC, p.Uplink.Interface)
	}
}
