package main

import "testing"

func TestVmHWM(t *testing.T) {
	status := "Name:\tinit\nVmPeak:\t  712000 kB\nVmHWM:\t    3424 kB\nVmRSS:\t    3100 kB\n"
	if got := vmHWM([]byte(status)); got != 3424 {
		t.Errorf("vmHWM = %d, want 3424", got)
	}
	if got := vmHWM([]byte("Name:\tinit\n")); got != 0 {
		t.Errorf("vmHWM without the field = %d, want 0", got)
	}
}
