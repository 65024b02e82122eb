package image

import (
	"slices"
	"strings"
	"testing"
)

// TestArgsCPU: Config.CPU replaces the arch's CPU model and nothing else.
func TestArgsCPU(t *testing.T) {
	c := Config{Arch: "amd64", Kernel: "k"}
	def, err := c.Args()
	if err != nil {
		t.Fatal(err)
	}
	c.CPU = "qemu64"
	got, err := c.Args()
	if err != nil {
		t.Fatal(err)
	}
	i := slices.Index(got, "-cpu")
	if i < 0 || got[i+1] != "qemu64" || def[i+1] != "max" {
		t.Errorf("Args() with CPU qemu64 = %q", got)
	}
	got[i+1] = def[i+1]
	if !slices.Equal(got, def) {
		t.Errorf("CPU changed more than the model:\n%q\n%q", got, def)
	}
	if _, ok := Arches["amd64"]; !ok || Arches["amd64"].Machine[3] != "max" {
		t.Errorf("Config.Args changed Arches: %q", Arches["amd64"].Machine)
	}
}

// TestConfigArgsIcount checks QEMU's argument list with and without Icount:
// the boot benchmark's instruction-time tables rest on -icount
// shift=0,sleep=off being passed exactly once, and on ordinary guests not
// getting it.
func TestConfigArgsIcount(t *testing.T) {
	for _, arch := range []string{"amd64", "arm64"} {
		c := Config{Arch: arch, Kernel: "/k", Initrd: "/i", Append: []string{"x=1"}}
		plain, err := c.Args()
		if err != nil {
			t.Fatal(err)
		}
		if slices.Contains(plain, "-icount") {
			t.Errorf("%s: -icount without Icount: %q", arch, plain)
		}
		c.Icount = true
		got, err := c.Args()
		if err != nil {
			t.Fatal(err)
		}
		i := slices.Index(got, "-icount")
		if i < 0 || i+1 >= len(got) || got[i+1] != "shift=0,sleep=off" {
			t.Fatalf("%s: Icount args = %q, want -icount shift=0,sleep=off", arch, got)
		}
		if n := strings.Count(strings.Join(got, " "), "-icount"); n != 1 {
			t.Errorf("%s: -icount %d times: %q", arch, n, got)
		}
		// Otherwise the same guest: removing the option gives the plain list.
		if rest := slices.Delete(slices.Clone(got), i, i+2); !slices.Equal(rest, plain) {
			t.Errorf("%s: Icount changed more than -icount:\n%q\n%q", arch, rest, plain)
		}
	}
}
