package board

import (
	"reflect"
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
