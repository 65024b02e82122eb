package board

import (
	"testing"
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
