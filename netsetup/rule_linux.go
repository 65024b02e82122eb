package netsetup

import (
	"encoding/binary"
	"errors"
	"fmt"

	"golang.org/x/sys/unix"

	"github.com/wgboot/wgboot/netsetup/internal/nl"
)

// Rule is a routing policy rule that looks up a table: what `ip rule add
// [not] [fwmark M[/MASK]] [table T] [suppress_prefixlength N] [priority P]`
// creates. A full tunnel uses two, as wg-quick(8) does:
//
//	{Family: unix.AF_INET, Table: 51820, Mark: 51820, Invert: true}
//	{Family: unix.AF_INET, Table: unix.RT_TABLE_MAIN, SuppressPrefixLen: new(0)}
type Rule struct {
	// Family is unix.AF_INET or unix.AF_INET6.
	Family uint8
	// Priority orders the rules, lower first. 0 lets the kernel choose one
	// below the lowest non-zero priority in use.
	Priority uint32
	// Table is the table to look up; 0 means main (254).
	Table uint32
	// Mark, if Mark or Mask is not 0, matches packets whose firewall mark
	// ANDed with Mask equals Mark.
	Mark uint32
	// Mask is the firewall mark mask; 0 means all bits (0xffffffff).
	Mask uint32
	// SuppressPrefixLen, if not nil, rejects lookup results whose prefix
	// length is at most *SuppressPrefixLen: with 0, the default route of
	// Table is ignored.
	SuppressPrefixLen *int
	// Invert negates the match ("not").
	Invert bool
}

// String formats r in the style of ip-rule(8).
func (r Rule) String() string {
	s := ""
	if r.Priority != 0 {
		s = fmt.Sprintf("%d: ", r.Priority)
	}
	if r.Invert {
		s += "not "
	}
	s += "from all"
	if r.Mark != 0 || r.Mask != 0 {
		s += fmt.Sprintf(" fwmark %#x", r.Mark)
		if r.Mask != 0 {
			s += fmt.Sprintf("/%#x", r.Mask)
		}
	}
	table := r.Table
	if table == 0 {
		table = unix.RT_TABLE_MAIN
	}
	s += fmt.Sprintf(" lookup %d", table)
	if r.SuppressPrefixLen != nil {
		s += fmt.Sprintf(" suppress_prefixlength %d", *r.SuppressPrefixLen)
	}
	if r.Family == unix.AF_INET6 {
		s = "-6 " + s
	}
	return s
}

// AddRule adds r unless the same rule is already there.
//
// The kernel's own duplicate check (NLM_F_EXCL) is not enough: with no
// priority it gives the new rule a fresh one, so repeating the command adds
// a copy each time; and its EEXIST ignores the invert flag. So AddRule
// first looks for an equal rule when r has no priority, and on EEXIST
// succeeds only if an equal rule with r's priority is there.
func (h *Handle) AddRule(r Rule) error {
	req, err := ruleRequest(unix.RTM_NEWRULE, flagsCreate, r)
	if err != nil {
		return fmt.Errorf("add rule %s: %w", r, err)
	}
	if r.Priority == 0 {
		found, err := h.findRule(r)
		if err != nil {
			return fmt.Errorf("add rule %s: %w", r, err)
		}
		if found {
			return nil
		}
	}
	err = h.ack(req, "RTM_NEWRULE")
	if err == nil {
		return nil
	}
	if !errors.Is(err, unix.EEXIST) {
		return fmt.Errorf("add rule %s: %w", r, err)
	}
	found, ferr := h.findRule(r)
	if ferr != nil {
		return fmt.Errorf("add rule %s: %w (and checking the existing rule: %w)", r, err, ferr)
	}
	if !found {
		return fmt.Errorf("add rule %s: a different rule has priority %d: %w", r, r.Priority, err)
	}
	return nil
}

// DeleteRule deletes the first rule matching r. A zero Priority matches any
// priority. If there is none, the error wraps unix.ENOENT.
func (h *Handle) DeleteRule(r Rule) error {
	req, err := ruleRequest(unix.RTM_DELRULE, flagsAck, r)
	if err == nil {
		err = h.ack(req, "RTM_DELRULE")
	}
	if err != nil {
		return fmt.Errorf("delete rule %s: %w", r, err)
	}
	return nil
}

// Rules returns the table-lookup rules of family (unix.AF_INET or
// unix.AF_INET6), in priority order. Other actions (blackhole, goto, ...)
// are skipped, and selectors that Rule does not model (from, to, iif, ...)
// are not reported.
func (h *Handle) Rules(family uint8) ([]Rule, error) {
	rules, err := h.rules(family)
	if err != nil {
		return nil, err
	}
	out := make([]Rule, 0, len(rules))
	for _, pr := range rules {
		if pr.lookup {
			out = append(out, pr.Rule)
		}
	}
	return out, nil
}

// parsedRule is a decoded rule with what Rule cannot represent.
type parsedRule struct {
	Rule
	// lookup: the action is FR_ACT_TO_TBL.
	lookup bool
	// other: the rule has selectors that Rule does not model.
	other bool
}

// rules dumps and decodes the rules of family.
func (h *Handle) rules(family uint8) ([]parsedRule, error) {
	req, err := dumpRulesRequest(family)
	if err != nil {
		return nil, fmt.Errorf("list rules: %w", err)
	}
	msgs, err := h.c.ExecuteDump(req, "RTM_GETRULE")
	if err != nil {
		return nil, fmt.Errorf("list rules of family %d: %w", family, err)
	}
	var rules []parsedRule
	for _, m := range msgs {
		if m.Type != unix.RTM_NEWRULE {
			continue
		}
		pr, err := parseRule(m)
		if err != nil {
			return nil, fmt.Errorf("list rules of family %d: %w", family, err)
		}
		if pr.Family == family {
			rules = append(rules, pr)
		}
	}
	return rules, nil
}

// HasRule reports whether a rule equal to r exists; a zero r.Priority
// matches any priority, and the defaults (table main, a mask of all bits)
// compare equal to their zero values.
func (h *Handle) HasRule(r Rule) (bool, error) { return h.findRule(r) }

// findRule reports whether a rule equal to r exists; a zero r.Priority
// matches any priority.
func (h *Handle) findRule(r Rule) (bool, error) {
	rules, err := h.rules(r.Family)
	if err != nil {
		return false, err
	}
	want := r.normalized()
	for _, pr := range rules {
		if !pr.lookup || pr.other {
			continue
		}
		got := pr.Rule.normalized()
		if want.Priority == 0 {
			got.Priority = 0
		}
		if got.equal(want) {
			return true, nil
		}
	}
	return false, nil
}

// normalized applies the defaults: table main, and a mask of all bits
// stands for "no mask".
func (r Rule) normalized() Rule {
	if r.Table == 0 {
		r.Table = unix.RT_TABLE_MAIN
	}
	if r.Mask == 0xffffffff {
		r.Mask = 0
	}
	return r
}

// equal compares two rules field by field, SuppressPrefixLen by value.
func (r Rule) equal(o Rule) bool {
	sp := func(p *int) int {
		if p == nil {
			return -1
		}
		return *p
	}
	return r.Family == o.Family && r.Priority == o.Priority && r.Table == o.Table &&
		r.Mark == o.Mark && r.Mask == o.Mask && r.Invert == o.Invert &&
		sp(r.SuppressPrefixLen) == sp(o.SuppressPrefixLen)
}

// fibRuleHdr encodes a struct fib_rule_hdr (see sizeofFibRuleHdr).
func fibRuleHdr(family, table, action uint8, flags uint32) []byte {
	b := []byte{family, 0, 0, 0, table, 0, 0, action, 0, 0, 0, 0}
	binary.NativeEndian.PutUint32(b[8:12], flags)
	return b
}

// checkFamily accepts AF_INET and AF_INET6.
func checkFamily(family uint8) error {
	if family != unix.AF_INET && family != unix.AF_INET6 {
		return fmt.Errorf("unsupported address family %d", family)
	}
	return nil
}

// ruleRequest builds RTM_NEWRULE or RTM_DELRULE. Attributes come in the
// order of `ip rule add fwmark M/MASK table T suppress_prefixlength N
// priority P`. A delete carries action 0, which matches any action, as
// iproute2 sends it.
func ruleRequest(typ, flags uint16, r Rule) (nl.Message, error) {
	if err := checkFamily(r.Family); err != nil {
		return nl.Message{}, err
	}
	maxLen := 32
	if r.Family == unix.AF_INET6 {
		maxLen = 128
	}
	if p := r.SuppressPrefixLen; p != nil && (*p < 0 || *p > maxLen) {
		return nl.Message{}, fmt.Errorf("suppress_prefixlength %d out of range 0-%d", *p, maxLen)
	}
	table := r.Table
	if table == 0 {
		table = unix.RT_TABLE_MAIN
	}
	hdrTable := uint8(unix.RT_TABLE_UNSPEC)
	if table < 256 {
		hdrTable = uint8(table)
	}
	var action uint8
	if typ == unix.RTM_NEWRULE {
		action = unix.FR_ACT_TO_TBL
	}
	var ruleFlags uint32
	if r.Invert {
		ruleFlags = unix.FIB_RULE_INVERT
	}
	var ae nl.AttrEncoder
	if r.Mark != 0 || r.Mask != 0 {
		ae.Uint32(unix.FRA_FWMARK, r.Mark)
	}
	if r.Mask != 0 {
		ae.Uint32(unix.FRA_FWMASK, r.Mask)
	}
	if table >= 256 {
		ae.Uint32(unix.FRA_TABLE, table)
	}
	if p := r.SuppressPrefixLen; p != nil {
		ae.Uint32(unix.FRA_SUPPRESS_PREFIXLEN, uint32(*p))
	}
	if r.Priority != 0 {
		ae.Uint32(unix.FRA_PRIORITY, r.Priority)
	}
	return message(typ, flags, fibRuleHdr(r.Family, hdrTable, action, ruleFlags), &ae)
}

// dumpRulesRequest builds the RTM_GETRULE dump of family.
func dumpRulesRequest(family uint8) (nl.Message, error) {
	if err := checkFamily(family); err != nil {
		return nl.Message{}, err
	}
	return message(unix.RTM_GETRULE, flagsDump, fibRuleHdr(family, 0, 0, 0), nil)
}

// parseRule decodes an RTM_NEWRULE message.
func parseRule(m nl.Message) (parsedRule, error) {
	fixed, attrs, err := nl.SplitPayload(m.Data, sizeofFibRuleHdr)
	if err != nil {
		return parsedRule{}, fmt.Errorf("rule message: %w", err)
	}
	pr := parsedRule{
		Rule: Rule{
			Family: fixed[0],
			Table:  uint32(fixed[4]),
			Invert: binary.NativeEndian.Uint32(fixed[8:12])&unix.FIB_RULE_INVERT != 0,
		},
		lookup: fixed[7] == unix.FR_ACT_TO_TBL,
		// dst_len, src_len, tos
		other: fixed[1] != 0 || fixed[2] != 0 || fixed[3] != 0,
	}
	ad := nl.NewAttrDecoder(attrs)
	for ad.Next() {
		switch ad.Type() {
		case unix.FRA_PRIORITY:
			pr.Priority = ad.Uint32()
		case unix.FRA_TABLE:
			pr.Table = ad.Uint32()
		case unix.FRA_FWMARK:
			pr.Mark = ad.Uint32()
		case unix.FRA_FWMASK:
			pr.Mask = ad.Uint32()
		case unix.FRA_SUPPRESS_PREFIXLEN:
			// The kernel always sends it; -1 (0xffffffff) means none.
			if v := int32(ad.Uint32()); v >= 0 {
				n := int(v)
				pr.SuppressPrefixLen = &n
			}
		case unix.FRA_SUPPRESS_IFGROUP:
			if int32(ad.Uint32()) != -1 {
				pr.other = true
			}
		case unix.FRA_PROTOCOL:
			// Who added the rule; not a selector.
		default:
			pr.other = true
		}
	}
	if err := ad.Err(); err != nil {
		return parsedRule{}, fmt.Errorf("rule: %w", err)
	}
	// The kernel reports a mark's default mask; Rule spells it 0.
	if pr.Mask == 0xffffffff {
		pr.Mask = 0
	}
	return pr, nil
}
