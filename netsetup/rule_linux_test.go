package netsetup

import (
	"errors"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/wgboot/wgboot/netsetup/internal/nl"
	"github.com/wgboot/wgboot/netsetup/internal/nltest"
)

// ruleDump returns a fake RTM_GETRULE handler listing rules.
func ruleDump(rules ...Rule) nltest.Func {
	return func(req nl.Message) ([]nl.Message, error) {
		var msgs []nl.Message
		for _, r := range rules {
			m, err := ruleRequest(unix.RTM_NEWRULE, 0, r)
			if err != nil {
				return nil, err
			}
			msgs = append(msgs, m)
		}
		return nltest.Dump(req, msgs...), nil
	}
}

func TestAddRule(t *testing.T) {
	fwmark := Rule{Family: unix.AF_INET, Table: 51820, Mark: 51820, Invert: true}
	withPrio := func(r Rule, p uint32) Rule { r.Priority = p; return r }
	notInverted := fwmark
	notInverted.Invert = false
	tests := []struct {
		name        string
		add         Rule
		present     []Rule
		newRule     nltest.Func
		wantErr     bool
		wantEEXIST  bool
		wantNewRule int
	}{
		{name: "no priority, absent: added", add: fwmark, wantNewRule: 1},
		{name: "no priority, present at any priority: nothing sent", add: fwmark,
			present: []Rule{withPrio(fwmark, 32765)}},
		{name: "no priority, present but not inverted: added", add: fwmark,
			present: []Rule{withPrio(notInverted, 32765)}, wantNewRule: 1},
		{name: "priority, EEXIST for the same rule: success", add: withPrio(fwmark, 100),
			present: []Rule{withPrio(fwmark, 100)}, newRule: eexist, wantNewRule: 1},
		{name: "priority, EEXIST for a rule differing in invert: error", add: withPrio(fwmark, 100),
			present: []Rule{withPrio(notInverted, 100)}, newRule: eexist, wantNewRule: 1, wantErr: true, wantEEXIST: true},
		{name: "suppress_prefixlength 0 matches the kernel's mask", add: Rule{Family: unix.AF_INET, SuppressPrefixLen: new(0)},
			present: []Rule{{Family: unix.AF_INET, Priority: 32764, Table: unix.RT_TABLE_MAIN, SuppressPrefixLen: new(0)}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k := newKernel(t)
			k.on[unix.RTM_GETRULE] = ruleDump(tt.present...)
			if tt.newRule != nil {
				k.on[unix.RTM_NEWRULE] = tt.newRule
			}
			err := k.handle().AddRule(tt.add)
			if (err != nil) != tt.wantErr {
				t.Fatalf("AddRule(%s) = %v, want error %v", tt.add, err, tt.wantErr)
			}
			if errors.Is(err, unix.EEXIST) != tt.wantEEXIST {
				t.Errorf("AddRule(%s) = %v, want wrapping EEXIST %v", tt.add, err, tt.wantEEXIST)
			}
			n := 0
			for _, m := range k.requests() {
				if m.Type == unix.RTM_NEWRULE {
					n++
				}
			}
			if n != tt.wantNewRule {
				t.Errorf("sent %d RTM_NEWRULE, want %d:\n%s", n, tt.wantNewRule, k.Transcript())
			}
		})
	}
}

func TestRuleRequestValidation(t *testing.T) {
	for _, r := range []Rule{
		{Family: unix.AF_UNSPEC},
		{Family: unix.AF_INET, SuppressPrefixLen: new(33)},
		{Family: unix.AF_INET6, SuppressPrefixLen: new(-1)},
	} {
		if _, err := ruleRequest(unix.RTM_NEWRULE, flagsCreate, r); err == nil {
			t.Errorf("ruleRequest(%s) succeeded, want an error", r)
		}
	}
}

func TestRuleString(t *testing.T) {
	r := Rule{Family: unix.AF_INET6, Priority: 100, Table: 51820, Mark: 0xca6c, Mask: 0xffff, Invert: true, SuppressPrefixLen: new(0)}
	if got, want := r.String(), "-6 100: not from all fwmark 0xca6c/0xffff lookup 51820 suppress_prefixlength 0"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
}
