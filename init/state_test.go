package main

import (
	"encoding/json"
	"testing"
	"time"
)

func TestVmHWM(t *testing.T) {
	status := "Name:\tinit\nVmPeak:\t  712000 kB\nVmHWM:\t    3424 kB\nVmRSS:\t    3100 kB\n"
	if got := vmHWM([]byte(status)); got != 3424 {
		t.Errorf("vmHWM = %d, want 3424", got)
	}
	if got := vmHWM([]byte("Name:\tinit\n")); got != 0 {
		t.Errorf("vmHWM without the field = %d, want 0", got)
	}
}

func TestStateRoundTrip(t *testing.T) {
	s := &state{
		Version: "v1", Board: "qemu-arm64", Profile: "etc/wgboot/profiles/qemu-arm64.toml", Ready: true,
		Phases: []phaseResult{{Name: "modules", Start: 5 * time.Millisecond, Dur: 200 * time.Millisecond}},
		Tunnels: []tunnelState{{Name: "wg0", Index: 3, PublicKey: "ww8q…", ListenPort: 51820,
			Peers: []peerState{{PublicKey: "xkSi…", Endpoint: "192.168.50.1:51820", AllowedIPs: []string{"10.77.0.0/24"}}}}},
	}
	data, err := encodeState(s)
	if err != nil {
		t.Fatal(err)
	}
	var got state
	if err := json.Unmarshal(data, &got); err != nil {
		t.Fatalf("state file does not parse back: %v\n%s", err, data)
	}
	if got.Tunnels[0].Peers[0].Endpoint != "192.168.50.1:51820" || got.Phases[0].Dur != 200*time.Millisecond {
		t.Errorf("round trip lost data: %+v", got)
	}
	var raw map[string]any
	json.Unmarshal(data, &raw)
	for _, k := range []string{"private_key", "preshared_key"} {
		if _, ok := raw[k]; ok {
			t.Errorf("state has a %s field", k)
		}
	}
}
