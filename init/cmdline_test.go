package main

import (
	"reflect"
	"testing"
)

func TestModuleParams(t *testing.T) {
	got := moduleParams(`console=ttyS0 panic=-1 wgboot.debug wgboot.profile=/etc/wgboot/profiles/x.toml ` +
		`wireguard.dyndbg="+p" virtio-net.napi_tx=1 virtio_net.foo="a b" quiet` + "\n")
	want := map[string]string{"wireguard": "dyndbg=+p", "virtio_net": `napi_tx=1 foo="a b"`}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("moduleParams = %q, want %q", got, want)
	}
}

// TestModuleParamsStopAtDashes: what follows "--" is init's, not a module's.
func TestModuleParamsStopAtDashes(t *testing.T) {
	got := moduleParams(`wireguard.dyndbg=+p -- virtio_net.napi_tx=1 single`)
	if want := map[string]string{"wireguard": "dyndbg=+p"}; !reflect.DeepEqual(got, want) {
		t.Errorf("moduleParams = %q, want %q", got, want)
	}
}
