package main

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"net/netip"
	"strings"

	"golang.org/x/net/dns/dnsmessage"
)

// zone holds the records of each name, lower case with the root's dot.
type zone map[string]*entry

type entry struct {
	a, aaaa   []netip.Addr
	cname     string
	truncated bool
}

// parseZone reads "<name> A|AAAA|CNAME <value>" and "<name> TC" lines;
// blank lines and lines starting with # are skipped.
func parseZone(sc *bufio.Scanner) (zone, error) {
	z := zone{}
	for n := 1; sc.Scan(); n++ {
		f := strings.Fields(sc.Text())
		if len(f) == 0 || strings.HasPrefix(f[0], "#") {
			continue
		}
		name := canonical(f[0])
		e := z[name]
		if e == nil {
			e = &entry{}
			z[name] = e
		}
		if len(f) == 2 && f[1] == "TC" {
			e.truncated = true
			continue
		}
		if len(f) != 3 {
			return nil, fmt.Errorf("line %d: want <name> <type> <value>", n)
		}
		switch f[1] {
		case "A", "AAAA":
			a, err := netip.ParseAddr(f[2])
			if err != nil || a.Is4() != (f[1] == "A") {
				return nil, fmt.Errorf("line %d: %q is not an %s address", n, f[2], f[1])
			}
			if a.Is4() {
				e.a = append(e.a, a)
			} else {
				e.aaaa = append(e.aaaa, a)
			}
		case "CNAME":
			e.cname = canonical(f[2])
		default:
			return nil, fmt.Errorf("line %d: unknown type %q", n, f[1])
		}
	}
	return z, sc.Err()
}

func canonical(name string) string {
	name = strings.ToLower(name)
	if !strings.HasSuffix(name, ".") {
		name += "."
	}
	return name
}

// answer builds the response to a query, and a line for the log. It
// follows the zone's CNAMEs (at most 8, like a resolver would give them)
// and answers the question echoed, with the query's ID. ok is false for a
// message it cannot answer at all.
func (z zone) answer(query []byte, udp bool) (resp []byte, line string, ok bool) {
	var p dnsmessage.Parser
	h, err := p.Start(query)
	if err != nil || h.Response {
		return nil, "", false
	}
	q, err := p.Question()
	if err != nil {
		return nil, "", false
	}
	rh := dnsmessage.Header{ID: h.ID, Response: true, Authoritative: true, RecursionDesired: h.RecursionDesired}
	var answers []dnsmessage.Resource
	name := canonical(q.Name.String())
	e := z[name]
	switch {
	case q.Class != dnsmessage.ClassINET:
		rh.RCode = dnsmessage.RCodeRefused
	case e == nil:
		rh.RCode = dnsmessage.RCodeNameError
	case udp && e.truncated:
		rh.Truncated = true
	default:
		for hops := 0; e != nil && hops <= 8; hops++ {
			owner := dnsmessage.MustNewName(name)
			hdr := dnsmessage.ResourceHeader{Name: owner, Class: dnsmessage.ClassINET, TTL: 60}
			if e.cname != "" {
				hdr.Type = dnsmessage.TypeCNAME
				answers = append(answers, dnsmessage.Resource{Header: hdr, Body: &dnsmessage.CNAMEResource{CNAME: dnsmessage.MustNewName(e.cname)}})
				name, e = e.cname, z[e.cname]
				if e == nil {
					rh.RCode = dnsmessage.RCodeNameError
				}
				continue
			}
			switch q.Type {
			case dnsmessage.TypeA:
				for _, a := range e.a {
					hdr.Type = q.Type
					answers = append(answers, dnsmessage.Resource{Header: hdr, Body: &dnsmessage.AResource{A: a.As4()}})
				}
			case dnsmessage.TypeAAAA:
				for _, a := range e.aaaa {
					hdr.Type = q.Type
					answers = append(answers, dnsmessage.Resource{Header: hdr, Body: &dnsmessage.AAAAResource{AAAA: a.As16()}})
				}
			}
			break
		}
	}
	m := dnsmessage.Message{Header: rh, Questions: []dnsmessage.Question{q}, Answers: answers}
	resp, err = m.Pack()
	if err != nil {
		return nil, "", false
	}
	var shown []string
	for _, a := range answers {
		switch b := a.Body.(type) {
		case *dnsmessage.AResource:
			shown = append(shown, netip.AddrFrom4(b.A).String())
		case *dnsmessage.AAAAResource:
			shown = append(shown, netip.AddrFrom16(b.AAAA).String())
		case *dnsmessage.CNAMEResource:
			shown = append(shown, "CNAME "+b.CNAME.String())
		}
	}
	rcode := map[dnsmessage.RCode]string{0: "NOERROR", 3: "NXDOMAIN", 5: "REFUSED"}[rh.RCode]
	if rh.Truncated {
		rcode += " TC"
	}
	typ := map[dnsmessage.Type]string{dnsmessage.TypeA: "A", dnsmessage.TypeAAAA: "AAAA"}[q.Type]
	if typ == "" {
		typ = fmt.Sprint(uint16(q.Type))
	}
	return resp, fmt.Sprintf("%s %s → %s %v", typ, q.Name.String(), rcode, shown), true
}

// server serves a zone over UDP and TCP.
type server struct {
	z    zone
	udp  *net.UDPConn
	tcp  *net.TCPListener
	logf func(format string, args ...any)
	// silent: queries are read and logged, never answered (a server
	// that is up but drops them: no ICMP error tells the client).
	silent bool
}

func listen(addr string, z zone, logf func(string, ...any)) (*server, error) {
	ua, err := net.ResolveUDPAddr("udp", addr)
	if err != nil {
		return nil, err
	}
	udp, err := net.ListenUDP("udp", ua)
	if err != nil {
		return nil, err
	}
	tcp, err := net.ListenTCP("tcp", &net.TCPAddr{IP: ua.IP, Port: udp.LocalAddr().(*net.UDPAddr).Port})
	if err != nil {
		udp.Close()
		return nil, err
	}
	return &server{z: z, udp: udp, tcp: tcp, logf: logf}, nil
}

func (s *server) addr() netip.AddrPort { return s.udp.LocalAddr().(*net.UDPAddr).AddrPort() }

func (s *server) close() {
	s.udp.Close()
	s.tcp.Close()
}

// serve answers until the sockets are closed.
func (s *server) serve() {
	go s.serveTCP()
	buf := make([]byte, 512)
	for {
		n, from, err := s.udp.ReadFromUDPAddrPort(buf)
		if err != nil {
			return
		}
		resp, line, ok := s.z.answer(buf[:n], true)
		if !ok {
			continue
		}
		if s.silent {
			s.logf("dns: udp %s %s, dropped (silent)", from, line)
			continue
		}
		s.logf("dns: udp %s %s", from, line)
		s.udp.WriteToUDPAddrPort(resp, from)
	}
}

func (s *server) serveTCP() {
	for {
		c, err := s.tcp.Accept()
		if err != nil {
			return
		}
		go func() {
			defer c.Close()
			for {
				var n [2]byte
				if _, err := io.ReadFull(c, n[:]); err != nil {
					return
				}
				q := make([]byte, binary.BigEndian.Uint16(n[:]))
				if _, err := io.ReadFull(c, q); err != nil {
					return
				}
				resp, line, ok := s.z.answer(q, false)
				if !ok || s.silent {
					return
				}
				s.logf("dns: tcp %s %s", c.RemoteAddr(), line)
				c.Write(append(binary.BigEndian.AppendUint16(nil, uint16(len(resp))), resp...))
			}
		}()
	}
}
