package image

import (
	"slices"
	"testing"
)

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
