package board

import (
	"net/netip"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestParseCmdline(t *testing.T) {
	tests := []struct {
		name    string
		cmdline string
		want    Overrides
		wantErr bool
	}{
		{"none", "console=ttyS0 panic=-1", Overrides{}, false},
		{"root", "root=/dev/vda", Overrides{Root: RootArgs{Device: "/dev/vda"}}, false},
		{"root by identity, kernel and dracut style", `root=PARTUUID=0fa4c36b-5b8a-4c2b-b3a8-4c2e5b7a9d02 rootfstype=ext4 rootflags="noatime,data=journal" ro rootwait rootdelay=5`,
			Overrides{Root: RootArgs{Device: "PARTUUID=0fa4c36b-5b8a-4c2b-b3a8-4c2e5b7a9d02", FSType: "ext4", Flags: "noatime,data=journal", ReadOnly: true, Wait: true, Delay: 5 * time.Second}}, false},
		{"rw after ro", "ro rw root=LABEL=root", Overrides{Root: RootArgs{Device: "LABEL=root"}}, false},
		{"ro with a value is not ro", "ro=1", Overrides{}, false},
		{"malformed root is ignored", "root=LABEL= rootdelay=x", Overrides{}, true},
		{"root=/dev/nfs", "root=nfs:10.0.0.1:/srv", Overrides{}, true},
		{"all", "console=ttyS0 wgboot.profile=/etc/wgboot/profiles/hub.toml wgboot.board=hub wgboot.on_failure=shell wgboot.debug\n",
			Overrides{Profile: "/etc/wgboot/profiles/hub.toml", Board: "hub", OnFailure: FailShell, Debug: true}, false},
		{"dashes like underscores", "wgboot.on-failure=halt", Overrides{OnFailure: FailHalt}, false},
		{"quoted value", `wgboot.board="QEMU board" quiet`, Overrides{Board: "QEMU board"}, false},
		{"quoted parameter", `"wgboot.board=a b"`, Overrides{Board: "a b"}, false},
		{"debug off", "wgboot.debug wgboot.debug=0", Overrides{}, false},
		{"last one wins", "wgboot.board=a wgboot.board=b", Overrides{Board: "b"}, false},
		{"stops at --", "wgboot.board=a -- wgboot.board=b", Overrides{Board: "a"}, false},
		{"bad action is ignored", "wgboot.on_failure=explode wgboot.board=x", Overrides{Board: "x"}, true},
		{"unknown parameter", "wgboot.bord=x", Overrides{}, true},
		{"empty value", "wgboot.profile=", Overrides{}, true},
		{"bad boolean", "wgboot.debug=maybe", Overrides{}, true},
		{"quiet", "quiet wgboot.quiet", Overrides{Quiet: true}, false},
		{"quiet off", "wgboot.quiet=off", Overrides{}, false},
		{"other prefix", "wgbootx.board=x mywgboot.board=y", Overrides{}, false},
		{"test behaviours", "wgboot.test=stale,poweroff", Overrides{Test: []string{"stale", "poweroff"}}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseCmdline(tt.cmdline)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("ParseCmdline(%q) = %+v, want %+v", tt.cmdline, got, tt.want)
			}
			if (err != nil) != tt.wantErr {
				t.Errorf("ParseCmdline(%q) error = %v, want error: %v", tt.cmdline, err, tt.wantErr)
			}
		})
	}
}

func TestApplyOverrides(t *testing.T) {
	p := newProfile()
	p.Handoff.OnFailure = FailReboot
	p.ApplyOverrides(Overrides{Board: "x"})
	if p.Handoff.OnFailure != FailReboot {
		t.Errorf("empty override changed on_failure to %q", p.Handoff.OnFailure)
	}
	p.ApplyOverrides(Overrides{OnFailure: FailShell})
	if p.Handoff.OnFailure != FailShell {
		t.Errorf("on_failure = %q after override, want shell (command line wins)", p.Handoff.OnFailure)
	}
}

// TestCmdlineUplink: ip= and nameserver= on the command line, as dracut
// writes them, replace the profile's uplink addressing and come first
// among the name servers; bad values are reported and ignored.
func TestCmdlineUplink(t *testing.T) {
	static := func() *Profile {
		p := newProfile()
		p.Uplink.Interface = "eth0"
		p.Uplink.Address = []netip.Prefix{netip.MustParsePrefix("192.168.50.2/24"), netip.MustParsePrefix("fd50::2/64")}
		p.Uplink.Gateway = []netip.Addr{netip.MustParseAddr("192.168.50.1")}
		p.Uplink.DNS = []netip.Addr{netip.MustParseAddr("192.0.2.53")}
		return p
	}
	a := netip.MustParseAddr
	tests := []struct {
		name    string
		cmdline string
		want    func(p *Profile)
		wantErr string
	}{
		{"none", "console=ttyS0", func(*Profile) {}, ""},
		{"ip=dhcp", "ip=dhcp", func(p *Profile) { p.Uplink.Address, p.Uplink.Gateway, p.Uplink.DHCP = nil, nil, true }, ""},
		{"another device", "ip=eth1:dhcp ip=eth1:auto6", func(p *Profile) {
			p.Uplink.Interface, p.Uplink.Address, p.Uplink.Gateway, p.Uplink.DHCP, p.Uplink.AcceptRA = "eth1", nil, nil, true, true
		}, ""},
		{"static", "ip=10.0.0.5::10.0.0.1:255.255.255.0::eth0:none", func(p *Profile) {
			p.Uplink.Address = []netip.Prefix{netip.MustParsePrefix("10.0.0.5/24")}
			p.Uplink.Gateway = []netip.Addr{a("10.0.0.1")}
		}, ""},
		{"name servers first", "nameserver=198.51.100.53 nameserver=[2001:db8::53]", func(p *Profile) {
			p.Uplink.DNS = []netip.Addr{a("198.51.100.53"), a("2001:db8::53"), a("192.0.2.53")}
		}, ""},
		{"bad ip= is ignored", "ip=eth0:dhcp6 ip=10.0.0.5::10.9.0.1:24::eth0:none", func(*Profile) {},
			"ip=eth0:dhcp6: method \"dhcp6\" not supported"},
		{"bad nameserver= is ignored", "nameserver=example.net nameserver=0.0.0.0", func(*Profile) {},
			"nameserver=example.net: not a name server's address"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o, err := ParseCmdline(tt.cmdline)
			if (err != nil) != (tt.wantErr != "") || err != nil && !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("ParseCmdline(%q) error = %v, want %q", tt.cmdline, err, tt.wantErr)
			}
			got, want := static(), static()
			if err := got.ApplyOverrides(o); err != nil {
				t.Errorf("ApplyOverrides: %v", err)
			}
			tt.want(want)
			if !reflect.DeepEqual(got.Uplink, want.Uplink) {
				t.Errorf("uplink after %q:\n%+v\nwant\n%+v", tt.cmdline, got.Uplink, want.Uplink)
			}
		})
	}
	// Without an uplink in the profile, ip=dhcp has no device.
	p := newProfile()
	o, _ := ParseCmdline("ip=dhcp")
	if err := p.ApplyOverrides(o); err == nil || !strings.Contains(err.Error(), "give ip=<device>:dhcp") || p.Uplink.DHCP {
		t.Errorf("ip=dhcp without an uplink: %v, %+v", err, p.Uplink)
	}
	o, _ = ParseCmdline("ip=eth0:dhcp")
	if err := p.ApplyOverrides(o); err != nil || p.Uplink.Interface != "eth0" || !p.Uplink.DHCP {
		t.Errorf("ip=eth0:dhcp without an uplink: %v, %+v", err, p.Uplink)
	}
}
