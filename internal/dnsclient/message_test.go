package dnsclient

import (
	"errors"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"golang.org/x/net/dns/dnsmessage"
)

// msg builds DNS messages for tests, the way a server would.
type msg struct {
	h         dnsmessage.Header
	questions []dnsmessage.Question
	answers   []rr
	authority []rr
	extra     []rr
}

// rr is a resource record: a CNAME when target is set, else an address.
type rr struct {
	name   string
	target string
	addr   string
	ttl    uint32
	class  dnsmessage.Class // 0: IN
}

func cname(name, target string) rr { return rr{name: name, target: target, ttl: 300} }
func addr(name, a string) rr       { return rr{name: name, addr: a, ttl: 60} }

func (m msg) build(t testing.TB) []byte {
	t.Helper()
	b := dnsmessage.NewBuilder(nil, m.h)
	b.EnableCompression()
	if err := b.StartQuestions(); err != nil {
		t.Fatal(err)
	}
	for _, q := range m.questions {
		if err := b.Question(q); err != nil {
			t.Fatal(err)
		}
	}
	for i, sec := range [][]rr{m.answers, m.authority, m.extra} {
		var err error
		switch i {
		case 0:
			err = b.StartAnswers()
		case 1:
			err = b.StartAuthorities()
		case 2:
			err = b.StartAdditionals()
		}
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range sec {
			addRR(t, &b, r)
		}
	}
	out, err := b.Finish()
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func addRR(t testing.TB, b *dnsmessage.Builder, r rr) {
	t.Helper()
	class := r.class
	if class == 0 {
		class = dnsmessage.ClassINET
	}
	h := dnsmessage.ResourceHeader{Name: dnsmessage.MustNewName(r.name), Class: class, TTL: r.ttl}
	var err error
	switch {
	case r.target != "":
		err = b.CNAMEResource(h, dnsmessage.CNAMEResource{CNAME: dnsmessage.MustNewName(r.target)})
	case netip.MustParseAddr(r.addr).Is4():
		err = b.AResource(h, dnsmessage.AResource{A: netip.MustParseAddr(r.addr).As4()})
	default:
		err = b.AAAAResource(h, dnsmessage.AAAAResource{AAAA: netip.MustParseAddr(r.addr).As16()})
	}
	if err != nil {
		t.Fatal(err)
	}
}

// testQuery is the query the replies below answer.
func testQuery(t testing.TB, name string, typ dnsmessage.Type) query {
	t.Helper()
	q, err := newQuery(dnsmessage.MustNewName(name), typ, 0x1234)
	if err != nil {
		t.Fatal(err)
	}
	return q
}

// answerTo is the header and question of a reply to q, with rcode.
func answerTo(q query, rcode dnsmessage.RCode) msg {
	return msg{
		h:         dnsmessage.Header{ID: q.id, Response: true, RecursionDesired: true, RecursionAvailable: true, RCode: rcode},
		questions: []dnsmessage.Question{q.q},
	}
}

func TestNewQuery(t *testing.T) {
	q := testQuery(t, "hub.example.net.", dnsmessage.TypeAAAA)
	// RFC 1035 §4.1: header (ID 0x1234, RD, one question), then the
	// question: hub.example.net, type AAAA (28), class IN.
	want := []byte{
		0x12, 0x34, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
		3, 'h', 'u', 'b', 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 3, 'n', 'e', 't', 0,
		0x00, 0x1c, 0x00, 0x01,
	}
	if !slices.Equal(q.msg, want) {
		t.Errorf("newQuery() = % x\nwant          % x", q.msg, want)
	}
}

func TestParseReply(t *testing.T) {
	qA := testQuery(t, "hub.example.net.", dnsmessage.TypeA)
	qAAAA := testQuery(t, "hub.example.net.", dnsmessage.TypeAAAA)
	long := answerTo(qA, dnsmessage.RCodeSuccess)
	prev := "hub.example.net."
	for i := range MaxCNAMEs {
		next := "c" + string(rune('a'+i)) + ".example.net."
		long.answers = append(long.answers, cname(prev, next))
		prev = next
	}
	long.answers = append(long.answers, addr(prev, "192.0.2.9"))
	tooLong := long
	tooLong.answers = slices.Clone(long.answers)
	tooLong.answers[len(tooLong.answers)-1] = cname(prev, "end.example.net.")
	tooLong.answers = append(tooLong.answers, addr("end.example.net.", "192.0.2.9"))

	tests := []struct {
		name    string
		q       query
		m       msg
		raw     func([]byte) []byte // edits the built message
		want    reply
		wantErr error
	}{
		{
			name: "one address",
			q:    qA,
			m:    with(answerTo(qA, 0), addr("hub.example.net.", "192.0.2.1")),
			want: reply{addrs: addrs("192.0.2.1"), ttl: 60},
		},
		{
			name: "several addresses in the server's order",
			q:    qAAAA,
			m:    with(answerTo(qAAAA, 0), addr("hub.example.net.", "2001:db8::2"), addr("hub.example.net.", "2001:db8::1")),
			want: reply{addrs: addrs("2001:db8::2", "2001:db8::1"), ttl: 60},
		},
		{
			name: "CNAME chain, in any order, with records about other names ignored",
			q:    qA,
			m: with(answerTo(qA, 0),
				addr("edge.cdn.example.", "192.0.2.7"),
				cname("www.example.net.", "edge.cdn.example."),
				cname("hub.example.net.", "www.example.net."),
				addr("other.example.", "198.51.100.1"),
				addr("hub.example.net.", "203.0.113.1"), // beside a CNAME: not on the chain's end
			),
			want: reply{chain: []string{"www.example.net.", "edge.cdn.example."}, addrs: addrs("192.0.2.7"), ttl: 60},
		},
		{
			name: "names compared without regard to case (RFC 4343)",
			q:    qA,
			m:    with(answerTo(qA, 0), cname("HUB.Example.NET.", "Edge.example."), addr("edge.EXAMPLE.", "192.0.2.7")),
			want: reply{chain: []string{"Edge.example."}, addrs: addrs("192.0.2.7"), ttl: 60},
		},
		{
			name: "chain of the longest length allowed",
			q:    qA,
			m:    long,
			want: reply{chain: chainOf(long.answers), addrs: addrs("192.0.2.9"), ttl: 60},
		},
		{
			name:    "chain one link too long",
			q:       qA,
			m:       tooLong,
			wantErr: ErrCNAMEChain,
		},
		{
			name:    "CNAME loop",
			q:       qA,
			m:       with(answerTo(qA, 0), cname("hub.example.net.", "a.example."), cname("a.example.", "hub.example.net.")),
			wantErr: ErrCNAMEChain,
		},
		{
			name:    "CNAME to itself",
			q:       qA,
			m:       with(answerTo(qA, 0), cname("hub.example.net.", "hub.example.net.")),
			wantErr: ErrCNAMEChain,
		},
		{
			name:    "two CNAMEs for one name (RFC 2181 §10.1)",
			q:       qA,
			m:       with(answerTo(qA, 0), cname("hub.example.net.", "a.example."), cname("hub.example.net.", "b.example."), addr("a.example.", "192.0.2.1")),
			wantErr: ErrMalformed,
		},
		{
			name: "the same CNAME twice is no contradiction",
			q:    qA,
			m:    with(answerTo(qA, 0), cname("hub.example.net.", "a.example."), cname("hub.example.net.", "A.example."), addr("a.example.", "192.0.2.1")),
			want: reply{chain: []string{"a.example."}, addrs: addrs("192.0.2.1"), ttl: 60},
		},
		{
			name: "empty answer: NODATA",
			q:    qAAAA,
			m:    answerTo(qAAAA, 0),
			want: reply{},
		},
		{
			name: "chain ending without an address: NODATA for the type",
			q:    qAAAA,
			m:    with(answerTo(qAAAA, 0), cname("hub.example.net.", "v4only.example.")),
			want: reply{chain: []string{"v4only.example."}, ttl: 300},
		},
		{
			name: "records of the other type are not answers",
			q:    qAAAA,
			m:    with(answerTo(qAAAA, 0), addr("hub.example.net.", "192.0.2.1")),
			want: reply{},
		},
		{
			name: "class CH records are ignored",
			q:    qA,
			m:    with(answerTo(qA, 0), rr{name: "hub.example.net.", addr: "192.0.2.66", ttl: 1, class: dnsmessage.ClassCHAOS}, addr("hub.example.net.", "192.0.2.1")),
			want: reply{addrs: addrs("192.0.2.1"), ttl: 60},
		},
		{
			name: "authority and additional sections are not trusted for addresses",
			q:    qA,
			m: func() msg {
				m := answerTo(qA, 0)
				m.authority = []rr{addr("hub.example.net.", "198.51.100.66")}
				m.extra = []rr{addr("hub.example.net.", "198.51.100.67")}
				return m
			}(),
			want: reply{},
		},
		{
			name: "NXDOMAIN",
			q:    qA,
			m:    answerTo(qA, dnsmessage.RCodeNameError),
			want: reply{rcode: dnsmessage.RCodeNameError},
		},
		{
			name: "NXDOMAIN at the end of a chain (RFC 6604)",
			q:    qA,
			m:    with(answerTo(qA, dnsmessage.RCodeNameError), cname("hub.example.net.", "gone.example.")),
			want: reply{rcode: dnsmessage.RCodeNameError, chain: []string{"gone.example."}, ttl: 300},
		},
		{
			name: "SERVFAIL",
			q:    qA,
			m:    answerTo(qA, dnsmessage.RCodeServerFailure),
			want: reply{rcode: dnsmessage.RCodeServerFailure},
		},
		{
			name: "SERVFAIL with answers: they are not looked at",
			q:    qA,
			m:    with(answerTo(qA, dnsmessage.RCodeServerFailure), addr("hub.example.net.", "192.0.2.1")),
			want: reply{rcode: dnsmessage.RCodeServerFailure},
		},
		{
			name: "truncated: only the flag",
			q:    qA,
			m: func() msg {
				m := with(answerTo(qA, 0), addr("hub.example.net.", "192.0.2.1"))
				m.h.Truncated = true
				return m
			}(),
			want: reply{truncated: true},
		},
		{
			name:    "another ID",
			q:       qA,
			m:       func() msg { m := with(answerTo(qA, 0), addr("hub.example.net.", "192.0.2.66")); m.h.ID++; return m }(),
			wantErr: errMismatch,
		},
		{
			name: "not a response",
			q:    qA,
			m: func() msg {
				m := with(answerTo(qA, 0), addr("hub.example.net.", "192.0.2.66"))
				m.h.Response = false
				return m
			}(),
			wantErr: errMismatch,
		},
		{
			name:    "another opcode",
			q:       qA,
			m:       func() msg { m := answerTo(qA, 0); m.h.OpCode = 2; return m }(),
			wantErr: errMismatch,
		},
		{
			name:    "another name in the question",
			q:       qA,
			m:       with(msg{h: answerTo(qA, 0).h, questions: []dnsmessage.Question{{Name: dnsmessage.MustNewName("evil.example."), Type: dnsmessage.TypeA, Class: dnsmessage.ClassINET}}}, addr("evil.example.", "192.0.2.66")),
			wantErr: errMismatch,
		},
		{
			name:    "another type in the question",
			q:       qA,
			m:       msg{h: answerTo(qA, 0).h, questions: []dnsmessage.Question{{Name: qA.q.Name, Type: dnsmessage.TypeAAAA, Class: dnsmessage.ClassINET}}},
			wantErr: errMismatch,
		},
		{
			name:    "another class in the question",
			q:       qA,
			m:       msg{h: answerTo(qA, 0).h, questions: []dnsmessage.Question{{Name: qA.q.Name, Type: dnsmessage.TypeA, Class: dnsmessage.ClassCHAOS}}},
			wantErr: errMismatch,
		},
		{
			name:    "no question",
			q:       qA,
			m:       msg{h: answerTo(qA, dnsmessage.RCodeRefused).h},
			wantErr: errMismatch,
		},
		{
			name:    "two questions",
			q:       qA,
			m:       msg{h: answerTo(qA, 0).h, questions: []dnsmessage.Question{qA.q, qA.q}},
			wantErr: errMismatch,
		},
		{
			name:    "cut in the answer section",
			q:       qA,
			m:       with(answerTo(qA, 0), addr("hub.example.net.", "192.0.2.1")),
			raw:     func(b []byte) []byte { return b[:len(b)-2] },
			wantErr: ErrMalformed,
		},
		{
			name:    "cut in the header",
			q:       qA,
			m:       answerTo(qA, 0),
			raw:     func(b []byte) []byte { return b[:7] },
			wantErr: errMismatch,
		},
		{
			name: "compression pointer loop in an answer's name",
			q:    qA,
			m:    with(answerTo(qA, 0), addr("hub.example.net.", "192.0.2.1")),
			raw: func(b []byte) []byte {
				// The answer's owner is a pointer to the question's
				// name (at 12); point it at itself instead.
				i := len(b) - 16
				if b[i] != 0xc0 || b[i+1] != 12 {
					panic("unexpected layout")
				}
				b[i+1] = byte(i)
				return b
			},
			wantErr: ErrMalformed,
		},
		{
			name: "compression pointer in a CNAME's target",
			q:    qA,
			m:    with(answerTo(qA, 0), cname("hub.example.net.", "a.hub.example.net."), addr("a.hub.example.net.", "192.0.2.1")),
			want: reply{chain: []string{"a.hub.example.net."}, addrs: addrs("192.0.2.1"), ttl: 60},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := tt.m.build(t)
			if tt.raw != nil {
				b = tt.raw(b)
			}
			got, err := parseReply(b, &tt.q)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("parseReply() error = %v, want %v", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("parseReply() error = %v", err)
			}
			if got.rcode != tt.want.rcode || got.truncated != tt.want.truncated || got.ttl != tt.want.ttl ||
				!slices.Equal(got.chain, tt.want.chain) || !slices.Equal(got.addrs, tt.want.addrs) {
				t.Errorf("parseReply() = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func with(m msg, answers ...rr) msg {
	m.answers = append(slices.Clone(m.answers), answers...)
	return m
}

func addrs(s ...string) []netip.Addr {
	var out []netip.Addr
	for _, a := range s {
		out = append(out, netip.MustParseAddr(a))
	}
	return out
}

func chainOf(rrs []rr) []string {
	var out []string
	for _, r := range rrs {
		if r.target != "" {
			out = append(out, r.target)
		}
	}
	return out
}

func TestCheckHost(t *testing.T) {
	for _, ok := range []string{
		"hub.example.net", "hub.example.net.", "HUB-1.Example.NET", "_srv.example", "a", "xn--bcher-kva.example",
		"1.example", "example.123a", strings.Repeat("a", 63) + ".example",
		strings.Repeat(strings.Repeat("a", 63)+".", 4)[:253],
	} {
		if err := CheckHost(ok); err != nil {
			t.Errorf("CheckHost(%q) = %v, want nil", ok, err)
		}
	}
	for _, bad := range []string{
		"", ".", "hub..example", ".hub.example", "hub.example..", "-hub.example", "hub-.example",
		"hub example", "hüb.example", "hub.example:51820", "192.0.2.300", "1.2.3", "10",
		strings.Repeat("a", 64) + ".example",
		strings.Repeat(strings.Repeat("a", 63)+".", 4)[:254],
	} {
		if err := CheckHost(bad); !errors.Is(err, ErrBadHost) {
			t.Errorf("CheckHost(%q) = %v, want ErrBadHost", bad, err)
		}
	}
}
