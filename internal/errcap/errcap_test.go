package errcap

import (
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"testing"
)

func TestJoinCaps(t *testing.T) {
	var errs []error
	for i := range 10000 {
		errs = append(errs, fmt.Errorf("route 10.%d.%d.0/24: %w", i/256, i%256, fs.ErrExist))
	}
	err := Join(3, errs...)
	msg := err.Error()
	if n := strings.Count(msg, "\n"); n != 3 {
		t.Errorf("%d lines, want 3 errors and a summary:\n%s", n+1, msg)
	}
	if !strings.HasSuffix(msg, "… and 9997 more") {
		t.Errorf("message does not end in the count of dropped errors:\n%s", msg)
	}
	if !errors.Is(err, fs.ErrExist) {
		t.Error("errors.Is does not see the kept errors")
	}
}

func TestListSmall(t *testing.T) {
	var l List
	if l.Err() != nil {
		t.Fatal("empty list has an error")
	}
	l.Add(nil)
	l.Add(errors.New("a"))
	l.Add(errors.New("b"))
	if got, want := l.Err().Error(), "a\nb"; got != want {
		t.Errorf("Err() = %q, want %q", got, want)
	}
	if l.Len() != 2 {
		t.Errorf("Len() = %d, want 2", l.Len())
	}
}

func TestListDefaultMax(t *testing.T) {
	var l List
	for range DefaultMax + 5 {
		l.Add(errors.New("x"))
	}
	if l.Len() != DefaultMax+5 {
		t.Errorf("Len() = %d, want %d", l.Len(), DefaultMax+5)
	}
	if !strings.HasSuffix(l.Err().Error(), "… and 5 more") {
		t.Errorf("Err() = %q", l.Err())
	}
}
