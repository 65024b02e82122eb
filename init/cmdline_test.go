package main

import (
	"reflect"
	"testing"
)

func TestParseCmdline(t *testing.T) {
	c := parseCmdline(`console=ttyS0 panic=-1 wgboot.debug wgboot.profile=/etc/wgboot/profiles/x.toml ` +
		`wireguard.dyndbg="+p" virtio-net.napi_tx=1 virtio_net.foo="a b" quiet` + "\n")
	tests := []struct {
		key, want string
		ok        bool
	}{
		{"console", "ttyS0", true},
		{"wgboot.debug", "", true},
		{"wgboot.profile", "/etc/wgboot/profiles/x.toml", true},
		{"quiet", "", true},
		{"wireguard.dyndbg", "+p", true},
		{"absent", "", false},
	}
	for _, tt := range tests {
		got, ok := c.get(tt.key)
		if got != tt.want || ok != tt.ok {
			t.Errorf("get(%q) = %q, %v; want %q, %v", tt.key, got, ok, tt.want, tt.ok)
		}
	}
	wantMod := map[string]string{"wireguard": "dyndbg=+p", "virtio_net": `napi_tx=1 foo="a b"`}
	if !reflect.DeepEqual(c.modParams, wantMod) {
		t.Errorf("modParams = %q, want %q", c.modParams, wantMod)
	}
}
