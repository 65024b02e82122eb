package dnsclient

import (
	"errors"
	"fmt"
	"net/netip"

	"golang.org/x/net/dns/dnsmessage"
)

// Errors a lookup ends with, for errors.Is.
var (
	// ErrNotFound is NXDOMAIN: the name does not exist. It is the DNS's
	// final word, so no other server is asked.
	ErrNotFound = errors.New("no such host (NXDOMAIN)")
	// ErrNoAddress is an answer without A or AAAA records (NODATA): the
	// name exists but has no address.
	ErrNoAddress = errors.New("no A or AAAA records")
	// ErrServerFailure is SERVFAIL: the server could not answer; the next
	// one is asked.
	ErrServerFailure = errors.New("server failure (SERVFAIL)")
	// ErrRefused is REFUSED: the server does not answer us; the next one
	// is asked.
	ErrRefused = errors.New("query refused (REFUSED)")
	// ErrNoAnswer is a server that did not answer in time.
	ErrNoAnswer = errors.New("no answer")
	// ErrMalformed is an answer to our query that cannot be parsed or
	// contradicts itself.
	ErrMalformed = errors.New("malformed answer")
	// ErrCNAMEChain is a CNAME chain longer than MaxCNAMEs, or a loop.
	ErrCNAMEChain = errors.New("CNAME chain too long or looping")
	// ErrNoServers is a lookup without a server to ask.
	ErrNoServers = errors.New("no DNS server")
)

// errMismatch is a message that is not the answer to our query (another
// ID, another question, not a response): RFC 5452 §9.1 says to drop it and
// keep waiting for the real answer, which is what a spoofer tries to beat.
var errMismatch = errors.New("not an answer to the query")

// MaxCNAMEs is the longest CNAME chain an answer may take from the name
// asked to its addresses. Real chains have one to three links (a CDN's
// two); eight is generous and still stops a loop at once.
const MaxCNAMEs = 8

// query is one question, as sent.
type query struct {
	id  uint16
	q   dnsmessage.Question
	msg []byte
}

// newQuery builds the query for name's records of type typ: one question,
// recursion desired (we are a stub, RFC 1035 §7), no EDNS(0): A and AAAA
// answers fit 512 bytes, and a larger one comes back truncated and is
// asked again over TCP.
func newQuery(name dnsmessage.Name, typ dnsmessage.Type, id uint16) (query, error) {
	q := dnsmessage.Question{Name: name, Type: typ, Class: dnsmessage.ClassINET}
	b := dnsmessage.NewBuilder(make([]byte, 0, 64), dnsmessage.Header{ID: id, RecursionDesired: true})
	if err := b.StartQuestions(); err != nil {
		return query{}, err
	}
	if err := b.Question(q); err != nil {
		return query{}, err
	}
	msg, err := b.Finish()
	return query{id: id, q: q, msg: msg}, err
}

// reply is what one response says about one query.
type reply struct {
	rcode     dnsmessage.RCode
	truncated bool
	// chain lists the CNAME targets from the name asked, in order; the
	// last one is the name the addresses belong to.
	chain []string
	addrs []netip.Addr
	ttl   uint32 // the smallest TTL among the records used
}

// record is one answer record that may matter: a CNAME or an address.
type record struct {
	owner  string
	target string     // CNAME
	addr   netip.Addr // A, AAAA
	ttl    uint32
}

// parseReply checks that msg answers q and returns what it says. A message
// that is not the answer (another ID or question, not a response, more or
// fewer than one question) is errMismatch, to be dropped: servers echo the
// question (RFC 1035 §4.1.2), and RFC 5452 §9.1 wants it checked. For a
// truncated answer only the flag is returned: the answer is asked for
// again over TCP. Of the answer section only records of class IN on the
// CNAME chain from the name asked are used (RFC 2181 §5.4.1: the other
// sections, and records about other names, are not to be trusted for
// this). dnsmessage does the parsing, including compression pointers
// (bounded: a pointer loop is an error, not a hang).
func parseReply(msg []byte, q *query) (reply, error) {
	var p dnsmessage.Parser
	h, err := p.Start(msg)
	if err != nil {
		return reply{}, errMismatch // not even a header to match
	}
	if h.ID != q.id || !h.Response || h.OpCode != 0 {
		return reply{}, errMismatch
	}
	got, err := p.Question()
	if err != nil {
		return reply{}, errMismatch
	}
	if got.Type != q.q.Type || got.Class != q.q.Class || !sameName(got.Name.String(), q.q.Name.String()) {
		return reply{}, errMismatch
	}
	if _, err := p.Question(); err != dnsmessage.ErrSectionDone {
		return reply{}, errMismatch
	}
	r := reply{rcode: h.RCode, truncated: h.Truncated}
	if h.Truncated {
		return r, nil
	}
	if h.RCode != dnsmessage.RCodeSuccess && h.RCode != dnsmessage.RCodeNameError {
		return r, nil
	}
	// NXDOMAIN may come with the chain that led to the missing name (RFC
	// 6604): it is parsed for the log.
	var recs []record
	for {
		rh, err := p.AnswerHeader()
		if err == dnsmessage.ErrSectionDone {
			break
		}
		if err != nil {
			return r, fmt.Errorf("%w: %v", ErrMalformed, err)
		}
		if rh.Class != dnsmessage.ClassINET {
			if err := p.SkipAnswer(); err != nil {
				return r, fmt.Errorf("%w: %v", ErrMalformed, err)
			}
			continue
		}
		rec := record{owner: rh.Name.String(), ttl: rh.TTL}
		switch {
		case rh.Type == dnsmessage.TypeCNAME:
			c, err := p.CNAMEResource()
			if err != nil {
				return r, fmt.Errorf("%w: CNAME: %v", ErrMalformed, err)
			}
			rec.target = c.CNAME.String()
		case rh.Type == dnsmessage.TypeA && q.q.Type == dnsmessage.TypeA:
			a, err := p.AResource()
			if err != nil {
				return r, fmt.Errorf("%w: A: %v", ErrMalformed, err)
			}
			rec.addr = netip.AddrFrom4(a.A)
		case rh.Type == dnsmessage.TypeAAAA && q.q.Type == dnsmessage.TypeAAAA:
			a, err := p.AAAAResource()
			if err != nil {
				return r, fmt.Errorf("%w: AAAA: %v", ErrMalformed, err)
			}
			rec.addr = netip.AddrFrom16(a.AAAA)
		default:
			if err := p.SkipAnswer(); err != nil {
				return r, fmt.Errorf("%w: %v", ErrMalformed, err)
			}
			continue
		}
		recs = append(recs, rec)
	}
	return follow(r, q.q.Name.String(), recs)
}

// follow walks the CNAME chain from name through recs and collects the
// addresses of the name it ends at. A name with two different CNAMEs
// contradicts RFC 2181 §10.1 and makes the answer malformed.
func follow(r reply, name string, recs []record) (reply, error) {
	ttl := ^uint32(0)
	for {
		next := ""
		for _, rec := range recs {
			if rec.target == "" || !sameName(rec.owner, name) {
				continue
			}
			if next != "" && !sameName(next, rec.target) {
				return r, fmt.Errorf("%w: %s has two CNAMEs, %s and %s", ErrMalformed, name, next, rec.target)
			}
			if next == "" {
				next = rec.target
			}
			ttl = min(ttl, rec.ttl)
		}
		if next == "" {
			break
		}
		if len(r.chain) == MaxCNAMEs {
			return r, fmt.Errorf("%w: more than %d links from %s", ErrCNAMEChain, MaxCNAMEs, r.chain[0])
		}
		r.chain = append(r.chain, next)
		name = next
	}
	for _, rec := range recs {
		if rec.target == "" && sameName(rec.owner, name) {
			r.addrs = append(r.addrs, rec.addr)
			ttl = min(ttl, rec.ttl)
		}
	}
	if ttl != ^uint32(0) {
		r.ttl = ttl
	}
	return r, nil
}

// rcodeErr is the error a response code other than success stands for.
func rcodeErr(rc dnsmessage.RCode) error {
	switch rc {
	case dnsmessage.RCodeNameError:
		return ErrNotFound
	case dnsmessage.RCodeServerFailure:
		return ErrServerFailure
	case dnsmessage.RCodeRefused:
		return ErrRefused
	}
	return fmt.Errorf("response code %d", rc)
}
