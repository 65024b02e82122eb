package board

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/wgboot/wgboot/internal/krule"
)

// Overrides are the wgboot.* parameters of the kernel command line. They
// take precedence over the profile.
type Overrides struct {
	Profile   string    // wgboot.profile=PATH: use this profile file, skip matching
	Board     string    // wgboot.board=NAME: select the profile by board name
	OnFailure OnFailure // wgboot.on_failure=ACTION; "" keeps the profile's
	Debug     bool      // wgboot.debug (or wgboot.debug=1|0|true|false|on|off)
	// Quiet is wgboot.quiet: the outcome lines (READY, FAILED, the
	// policy, the handoff) are not written to the console when the
	// kernel's console level (quiet, loglevel=) hides them.
	Quiet bool
	// Test lists the test behaviours of wgboot.test=a,b, which the QEMU
	// tests use to provoke rare events. A production command line has none.
	Test []string
	// Root holds root=, rootfstype=, rootflags=, ro, rw, rootwait and
	// rootdelay=, which override handoff.root and fstype.
	Root RootArgs
	// Uplink is what the ip= parameters (dracut's syntax) say: it
	// replaces the profile's addressing of the uplink. nil without ip=.
	Uplink *UplinkOverride
	// Nameservers are the nameserver= parameters, in order: asked before
	// the profile's [uplink] dns.
	Nameservers []netip.Addr
}

// ParseCmdline extracts the wgboot.* parameters, and dracut's ip= and
// nameserver= (see UplinkOverride), from a kernel command line
// such as the contents of /proc/cmdline. It splits it as the kernel does
// ([krule.SplitCmdline]: double quotes around values, nothing after "--")
// and treats '-' and '_' in parameter names alike ([krule.FoldName]).
// Parameters it cannot use are reported in the error and ignored; the
// returned Overrides are usable either way, because a typo on the command
// line must not stop a board from booting.
func ParseCmdline(cmdline string) (Overrides, error) {
	var (
		o    Overrides
		errs []error
	)
	params, _ := krule.SplitCmdline(cmdline)
	for _, arg := range params {
		name, value, hasValue := strings.Cut(arg, "=")
		name = krule.FoldName(name)
		switch name {
		case "ip":
			u := &UplinkOverride{}
			if o.Uplink != nil {
				u = o.Uplink
			}
			if err := parseIPParam(value, u); err != nil {
				errs = append(errs, err)
			}
			if !u.empty() {
				o.Uplink = u
			}
			continue
		case "nameserver":
			a, err := parseNameserver(value)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			o.Nameservers = append(o.Nameservers, a)
			continue
		}
		if o.Root.parse(name, value, hasValue, &errs) || !strings.HasPrefix(name, "wgboot.") {
			continue
		}
		switch name {
		case "wgboot.profile":
			if value == "" {
				errs = append(errs, errors.New("wgboot.profile: empty path"))
				continue
			}
			o.Profile = value
		case "wgboot.board":
			if value == "" {
				errs = append(errs, errors.New("wgboot.board: empty board name"))
				continue
			}
			o.Board = value
		case "wgboot.on_failure":
			f := OnFailure(value)
			if !f.Valid() {
				errs = append(errs, fmt.Errorf("wgboot.on_failure: unknown action %q, want "+onFailureWant, value))
				continue
			}
			o.OnFailure = f
		case "wgboot.debug", "wgboot.quiet":
			on, err := cmdlineBool(hasValue, value)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", name, err))
				continue
			}
			if name == "wgboot.debug" {
				o.Debug = on
			} else {
				o.Quiet = on
			}
		case "wgboot.test":
			o.Test = strings.Split(value, ",")
		default:
			errs = append(errs, fmt.Errorf("%s: unknown parameter", name))
		}
	}
	return o, errors.Join(errs...)
}

// cmdlineBool reads a boolean parameter as the kernel's kstrtobool does;
// a parameter without a value is true.
func cmdlineBool(hasValue bool, value string) (bool, error) {
	if !hasValue {
		return true, nil
	}
	switch strings.ToLower(value) {
	case "1", "y", "yes", "true", "on":
		return true, nil
	case "0", "n", "no", "false", "off":
		return false, nil
	}
	return false, fmt.Errorf("%q is not a boolean", value)
}

// ApplyOverrides applies the command line to p: the command line wins over
// the profile. Profile and Board are used by the caller to choose p and do
// not change it; Debug is not part of a profile.
//
// ip= replaces the uplink's address, gateway, dhcp and accept_ra (and its
// interface, when it names a device); nameserver= and the name servers of
// ip=…:none:DNS1:DNS2 come before the profile's [uplink] dns. What cannot
// be applied is returned as an error, for the log; the rest is applied.
func (p *Profile) ApplyOverrides(o Overrides) error {
	if o.OnFailure != "" {
		p.Handoff.OnFailure = o.OnFailure
	}
	var err error
	dns := o.Nameservers
	if o.Uplink != nil {
		err = o.Uplink.apply(p)
		dns = append(slices.Clip(dns), o.Uplink.DNS...)
	}
	if len(dns) > 0 {
		p.Uplink.DNS = append(slices.Clip(dns), p.Uplink.DNS...)
	}
	return err
}
