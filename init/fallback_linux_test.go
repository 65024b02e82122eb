package main

import (
	"reflect"
	"testing"

	"github.com/wgboot/wgboot/internal/bootstate"
)

// TestMarkGenerated: a key that the partition's profile made before it
// failed is new in the state file after the image's profile read it back.
func TestMarkGenerated(t *testing.T) {
	made := []bootstate.Key{
		{Tunnel: "wg0", File: "/persist/wg0.key", PublicKey: "A", Generated: true},
		{Tunnel: "wg1", File: "/persist/wg1.key", PublicKey: "B"},
	}
	keys := []bootstate.Key{
		{Tunnel: "wg9", File: "/persist/wg0.key", PublicKey: "A"}, // another tunnel name, the same file
		{Tunnel: "wg1", File: "/persist/wg1.key", PublicKey: "B"}, // read, not made, before
		{Tunnel: "wg2", File: "/persist/wg0.key", PublicKey: "C"}, // not the key that was made
	}
	markGenerated(keys, made)
	want := []bootstate.Key{
		{Tunnel: "wg9", File: "/persist/wg0.key", PublicKey: "A", Generated: true},
		{Tunnel: "wg1", File: "/persist/wg1.key", PublicKey: "B"},
		{Tunnel: "wg2", File: "/persist/wg0.key", PublicKey: "C"},
	}
	if !reflect.DeepEqual(keys, want) {
		t.Errorf("markGenerated() = %+v, want %+v", keys, want)
	}
}
