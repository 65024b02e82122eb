package krule

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/wgboot/wgboot/internal/krule/kruletest"
)

func TestCheckIfName(t *testing.T) {
	for _, tt := range kruletest.IfNames {
		err := CheckIfName(tt.Name)
		if (err == nil) != tt.OK {
			t.Errorf("CheckIfName(%q) = %v, want ok %v", tt.Name, err, tt.OK)
		}
		var ie *IfNameError
		if err != nil && (!errors.Is(err, ErrIfName) || !errors.As(err, &ie) || ie.Reason == "") {
			t.Errorf("CheckIfName(%q) = %v, not an IfNameError with a reason", tt.Name, err)
		}
	}
	if err := CheckIfName("wg%d"); err == nil || !strings.Contains(err.Error(), "'%'") {
		t.Errorf("CheckIfName(wg%%d) = %v, want it to name '%%'", err)
	}
}

func TestCarriesIPv6(t *testing.T) {
	for _, tt := range kruletest.MTUs {
		if got := CarriesIPv6(tt.MTU); got != tt.IPv6 {
			t.Errorf("CarriesIPv6(%d) = %v, want %v", tt.MTU, got, tt.IPv6)
		}
	}
}

func TestFoldName(t *testing.T) {
	for in, want := range map[string]string{"virtio-net": "virtio_net", "virtio_net": "virtio_net", "a-b-c": "a_b_c", "": ""} {
		if got := FoldName(in); got != want {
			t.Errorf("FoldName(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestSplitCmdline(t *testing.T) {
	tests := []struct {
		name          string
		in            string
		params, inits []string
	}{
		{"empty", "", nil, nil},
		{"spaces only", " \t\n", nil, nil},
		{"plain", "console=ttyS0 quiet  panic=-1\n", []string{"console=ttyS0", "quiet", "panic=-1"}, nil},
		{"all white space", "a\tb\nc\rd\ve\ff\xa0g", []string{"a", "b", "c", "d", "e", "f", "g"}, nil},
		{"quoted value", `wgboot.board="QEMU board" x`, []string{"wgboot.board=QEMU board", "x"}, nil},
		{"quoted parameter", `"wgboot.board=a b" x`, []string{"wgboot.board=a b", "x"}, nil},
		{"quote inside groups only", `a=b"c d"e x`, []string{`a=b"c d"e`, "x"}, nil},
		{"value quote not closed at the end", `a="b c"d`, []string{`a=b c"d`}, nil},
		{"unterminated quote runs to the end", `a="b c`, []string{"a=b c"}, nil},
		{"empty quoted value", `a="" b`, []string{"a=", "b"}, nil},
		{"lone quote", `"`, []string{""}, nil},
		{"equals in value", "a=b=c", []string{"a=b=c"}, nil},
		{"dashes end the parameters", "a=1 -- single b=2", []string{"a=1"}, []string{"single", "b=2"}},
		{"dashes at the end", "a -- ", []string{"a"}, nil},
		{"dashes quoted after", `a -- "x y" --`, []string{"a"}, []string{"x y", "--"}},
		{"dashes inside a word", "a--b --c", []string{"a--b", "--c"}, nil},
		{"quoted dashes are dashes", `a "--" b`, []string{"a"}, []string{"b"}},
		{"dashes inside quotes", `a="x -- y" b`, []string{"a=x -- y", "b"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			params, inits := SplitCmdline(tt.in)
			if !reflect.DeepEqual(params, tt.params) || !reflect.DeepEqual(inits, tt.inits) {
				t.Errorf("SplitCmdline(%q) = %q, %q; want %q, %q", tt.in, params, inits, tt.params, tt.inits)
			}
		})
	}
}

func FuzzSplitCmdline(f *testing.F) {
	f.Add(`a="b c" "d=e f" -- g`)
	f.Fuzz(func(t *testing.T, s string) {
		params, inits := SplitCmdline(s)
		for _, p := range append(params, inits...) {
			if strings.ContainsAny(p, " \t\n") && !strings.Contains(s, `"`) {
				t.Errorf("parameter %q has white space though %q has no quotes", p, s)
			}
			if len(p) > len(s) {
				t.Errorf("parameter %q longer than the input", p)
			}
		}
	})
}
