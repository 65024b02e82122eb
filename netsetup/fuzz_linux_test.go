package netsetup

import (
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/wgboot/wgboot/netsetup/internal/nl"
)

// FuzzParseReplies feeds datagrams to every reply parser (link, address,
// route, rule). None may panic; whatever one accepts, the matching request
// builder (or, for links, the test's reply builder) turns back into a
// message that parses to the same value, with the builder's defaults.
// Seeds: the captured kernel replies and our golden requests.
func FuzzParseReplies(f *testing.F) {
	for _, glob := range []string{"testdata/replies/*.hex", "testdata/golden/*.hex", "testdata/golden/iproute2/*.hex"} {
		paths, err := filepath.Glob(glob)
		if err != nil {
			f.Fatal(err)
		}
		for _, p := range paths {
			b, err := readHex(p)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		msgs, err := nl.ParseMessages(b)
		if err != nil {
			return
		}
		for _, m := range msgs {
			fuzzLink(t, m)
			fuzzAddress(t, m)
			fuzzRoute(t, m)
			fuzzRule(t, m)
			// Only panics matter here.
			_, _ = carrierEvent([]nl.Message{m}, 2)
		}
	})
}

func fuzzLink(t *testing.T, m nl.Message) {
	l, err := parseLink(m)
	if err != nil {
		return
	}
	got, err := parseLink(linkMessage(t, unix.RTM_NEWLINK, l))
	if err != nil || got != l {
		t.Fatalf("link %+v re-encoded parses to %+v, %v", l, got, err)
	}
}

func fuzzAddress(t *testing.T, m nl.Message) {
	a, err := parseAddress(m)
	if err != nil {
		return
	}
	var o addrOptions
	if a.Valid != Forever || a.Preferred != Forever {
		o.valid, o.preferred = a.Valid, a.Preferred
	}
	req, err := addrRequest(unix.RTM_NEWADDR, flagsCreate, a.Index, a.Prefix, o)
	if err != nil {
		return
	}
	got, err := parseAddress(req)
	if err != nil || got.Index != a.Index || got.Prefix != a.Prefix || got.Valid != a.Valid || got.Preferred != a.Preferred {
		t.Fatalf("address %+v re-encoded parses to %+v, %v", a, got, err)
	}
}

func fuzzRoute(t *testing.T, m nl.Message) {
	r, _, err := parseRoute(m)
	if err != nil {
		return
	}
	_ = r.String() // must not panic
	req, err := routeRequest(unix.RTM_NEWROUTE, flagsReplace, r)
	if err != nil {
		return
	}
	got, cloned, err := parseRoute(req)
	if want := r.withDefaults(); err != nil || cloned || got != want {
		t.Fatalf("route %+v re-encoded parses to %+v, %v, want %+v", r, got, err, want)
	}
	if _, err := routeRequest(unix.RTM_DELROUTE, flagsAck, r); err != nil {
		t.Fatalf("route %+v: a delete request fails where a replace does not: %v", r, err)
	}
}

func fuzzRule(t *testing.T, m nl.Message) {
	pr, err := parseRule(m)
	if err != nil {
		return
	}
	_ = pr.String() // must not panic
	req, err := ruleRequest(unix.RTM_NEWRULE, flagsCreate, pr.Rule)
	if err != nil {
		return
	}
	got, err := parseRule(req)
	if err != nil || !got.normalized().equal(pr.normalized()) || !got.lookup || got.other {
		t.Fatalf("rule %s re-encoded parses to %s (lookup %v, other %v), %v", pr.Rule, got.Rule, got.lookup, got.other, err)
	}
}
