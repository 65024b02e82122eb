package gchold

import (
	"math"
	"runtime"
	"runtime/debug"
	"testing"
)

func TestLimit(t *testing.T) {
	for _, c := range []struct {
		ram  uint64
		want int64
	}{
		{0, 16 << 20},
		{32 << 20, 16 << 20},
		{64 << 20, 16 << 20},
		{128 << 20, 32 << 20},
		{256 << 20, 64 << 20},
		{1 << 30, 256 << 20},
		{64 << 30, 256 << 20},
	} {
		if got := Limit(c.ram); got != c.want {
			t.Errorf("Limit(%d MiB) = %d MiB, want %d MiB", c.ram>>20, got>>20, c.want>>20)
		}
	}
}

// TestHold: under Hold the collector does not run while the heap grows
// by several times its size, the limit is the board's, and restore puts
// back what was in force before.
func TestHold(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(77))
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(math.MaxInt64))
	runtime.GC()

	restore := Hold()
	if got := debug.SetGCPercent(-1); got != -1 {
		t.Errorf("GC percent under Hold = %d, want -1 (off)", got)
	}
	limit := debug.SetMemoryLimit(-1) // -1 reads it
	if limit < minLimit || limit > maxLimit {
		t.Errorf("memory limit under Hold = %d, want within [%d, %d]", limit, minLimit, maxLimit)
	}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	var keep [][]byte
	for range 1000 {
		keep = append(keep, make([]byte, 8<<10)) // 8 MiB in all, under the 16 MiB floor
	}
	runtime.ReadMemStats(&after)
	if after.NumGC != before.NumGC {
		t.Errorf("%d collections under Hold while 8 MiB were allocated", after.NumGC-before.NumGC)
	}
	runtime.KeepAlive(keep)

	restore()
	if got := debug.SetGCPercent(77); got != 77 {
		t.Errorf("GC percent after restore = %d, want 77", got)
	}
	if got := debug.SetMemoryLimit(-1); got != math.MaxInt64 {
		t.Errorf("memory limit after restore = %d, want %d", got, int64(math.MaxInt64))
	}
}
