// Package errcap joins errors with a bound on how many are kept, so that
// one failure repeated over 10,000 peers or routes gives a short message:
// a log line on a 115200-baud console costs about 87 µs a byte, and the
// boot has a deadline.
package errcap

import (
	"errors"
	"strconv"
)

// DefaultMax is how many errors a List keeps unless told otherwise.
const DefaultMax = 10

// List collects errors, keeping the first Max of them (DefaultMax when Max
// is 0) and counting the rest. The zero value is ready to use.
type List struct {
	Max     int
	errs    []error
	dropped int
}

// Add records err; nil is ignored.
func (l *List) Add(err error) {
	if err == nil {
		return
	}
	limit := l.Max
	if limit <= 0 {
		limit = DefaultMax
	}
	if len(l.errs) >= limit {
		l.dropped++
		return
	}
	l.errs = append(l.errs, err)
}

// Len is the number of errors added, dropped ones included.
func (l *List) Len() int { return len(l.errs) + l.dropped }

// Err joins the kept errors as errors.Join does, followed by
// "… and N more" when some were dropped. It is nil when none was added.
// errors.Is and errors.As see every kept error.
func (l *List) Err() error {
	if len(l.errs) == 0 {
		return nil
	}
	if l.dropped == 0 {
		return errors.Join(l.errs...)
	}
	return errors.Join(append(l.errs[:len(l.errs):len(l.errs)], moreError(l.dropped))...)
}

// Join is errors.Join keeping at most max errors (DefaultMax when max is 0).
func Join(max int, errs ...error) error {
	l := List{Max: max}
	for _, err := range errs {
		l.Add(err)
	}
	return l.Err()
}

// moreError stands for the errors left out.
type moreError int

func (n moreError) Error() string { return "… and " + strconv.Itoa(int(n)) + " more" }
