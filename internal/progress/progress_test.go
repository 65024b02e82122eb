package progress

import (
	"context"
	"testing"
)

func TestReport(t *testing.T) {
	Report(context.Background()) // no reporter: nothing happens
	n := 0
	ctx, cancel := context.WithCancel(With(context.Background(), func() { n++ }))
	Report(ctx)
	Report(ctx)
	if n != 2 {
		t.Errorf("reporter called %d times, want 2", n)
	}
	cancel()
	Report(ctx)
	if n != 2 {
		t.Errorf("a done context reported: %d calls", n)
	}
}
