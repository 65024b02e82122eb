package dhcp

import (
	"slices"
	"testing"

	"golang.org/x/net/bpf"
)

// TestBootpcFilterAssembled checks that the filter the socket gets is the
// program TestBootpcFilter runs.
func TestBootpcFilterAssembled(t *testing.T) {
	want, err := bpf.Assemble(bootpcProgram)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(bootpcFilter, want) {
		t.Errorf("bootpcFilter = %+v\nbpf.Assemble(bootpcProgram) = %+v", bootpcFilter, want)
	}
}
