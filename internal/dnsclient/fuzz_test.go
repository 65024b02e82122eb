package dnsclient

import (
	"errors"
	"net/netip"
	"testing"

	"golang.org/x/net/dns/dnsmessage"
)

// FuzzParseReply feeds parseReply arbitrary messages as answers to a query
// for hub.example.net (A when the first byte is even, else AAAA). It must
// never panic or loop, and what it accepts must hold: a chain within
// MaxCNAMEs, addresses of the type asked, and — when dnsmessage can unpack
// the whole message — each address an answer-section record of that type
// owned by the name the chain ends at.
func FuzzParseReply(f *testing.F) {
	qA := testQuery(f, "hub.example.net.", dnsmessage.TypeA)
	qAAAA := testQuery(f, "hub.example.net.", dnsmessage.TypeAAAA)
	for _, m := range []msg{
		with(answerTo(qA, 0), addr("hub.example.net.", "192.0.2.1")),
		with(answerTo(qA, 0), cname("hub.example.net.", "a.example."), cname("a.example.", "b.example."), addr("b.example.", "192.0.2.1")),
		with(answerTo(qA, 0), cname("hub.example.net.", "a.example."), cname("a.example.", "hub.example.net.")),
		with(answerTo(qA, dnsmessage.RCodeNameError), cname("hub.example.net.", "gone.example.")),
		answerTo(qA, dnsmessage.RCodeServerFailure),
	} {
		f.Add(append([]byte{0}, m.build(f)...))
	}
	for _, m := range []msg{
		with(answerTo(qAAAA, 0), addr("hub.example.net.", "2001:db8::1"), addr("hub.example.net.", "192.0.2.1")),
		func() msg { m := answerTo(qAAAA, 0); m.h.Truncated = true; return m }(),
	} {
		f.Add(append([]byte{1}, m.build(f)...))
	}
	// A compression pointer to itself, in the answer's name.
	loop := with(answerTo(qA, 0), addr("hub.example.net.", "192.0.2.1")).build(f)
	loop[len(loop)-15] = byte(len(loop) - 16)
	f.Add(append([]byte{0}, loop...))

	f.Fuzz(func(t *testing.T, in []byte) {
		if len(in) == 0 {
			return
		}
		q := qA
		if in[0]&1 == 1 {
			q = qAAAA
		}
		b := in[1:]
		r, err := parseReply(b, &q)
		if err != nil {
			if !errors.Is(err, errMismatch) && !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrCNAMEChain) {
				t.Fatalf("parseReply() error = %v, not one of its kinds", err)
			}
			return
		}
		if len(r.chain) > MaxCNAMEs {
			t.Fatalf("chain of %d links", len(r.chain))
		}
		for _, a := range r.addrs {
			if a.Is4() != (q.q.Type == dnsmessage.TypeA) {
				t.Fatalf("address %v in an answer to %v", a, q.q.Type)
			}
		}
		if r.truncated && (len(r.addrs) > 0 || len(r.chain) > 0) {
			t.Fatalf("truncated reply with records: %+v", r)
		}
		var m dnsmessage.Message
		if m.Unpack(b) != nil {
			return
		}
		end := q.q.Name.String()
		if len(r.chain) > 0 {
			end = r.chain[len(r.chain)-1]
		}
		for _, a := range r.addrs {
			if !hasAnswer(m.Answers, end, a) {
				t.Fatalf("address %v is no answer record of %s", a, end)
			}
		}
	})
}

func hasAnswer(answers []dnsmessage.Resource, owner string, a netip.Addr) bool {
	for _, rr := range answers {
		if !sameName(rr.Header.Name.String(), owner) || rr.Header.Class != dnsmessage.ClassINET {
			continue
		}
		switch body := rr.Body.(type) {
		case *dnsmessage.AResource:
			if netip.AddrFrom4(body.A) == a {
				return true
			}
		case *dnsmessage.AAAAResource:
			if netip.AddrFrom16(body.AAAA) == a {
				return true
			}
		}
	}
	return false
}
