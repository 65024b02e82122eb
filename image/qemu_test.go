package image

import (
	"slices"
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

func TestConfigArgsIcount(t *testing.T) {
	for _, icount := range []bool{false, true} {
		args, err := Config{Arch: "arm64", Kernel: "Image", Icount: icount}.Args()
		if err != nil {
			t.Fatal(err)
		}
		i := slices.Index(args, "-icount")
		if got := i >= 0 && i+1 < len(args) && args[i+1] == "shift=0,sleep=off"; got != icount {
			t.Errorf("Icount %v: args %q", icount, args)
		}
	}
}
