package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wgboot/wgboot/internal/bootstate"
)

const wgbootConsole = `[    0.000000] Linux version 6.1.0-56-cloud-amd64
[    1.316014] Trying to unpack rootfs image as initramfs...
[    1.603289] Freeing initrd memory: 1460K
[    2.554175] Run /init as init process
[    2.675953] wgboot: bench: main
[    2.683338] wgboot: wgboot dev starting as PID 1
[    2.717728] wgboot: phase crng: done in 466µs
[    2.831226] wireguard: WireGuard 1.0.0 loaded.
[    2.836113] wgboot: phase modules: done in 118.27ms
[    2.880000] wgboot: tunnel wg0: up, index 2, public key x, 1 peer(s), listen port 51820
[    2.890000] wgboot: state written to /run/wgboot/state.json (init peak RSS 3484 KiB)
[    2.890100] wgboot: READY in 210ms (mounts=1ms cmdline=450µs tunnels=43.2ms)
`

func TestParseMarks(t *testing.T) {
	m, err := parseMarks(wgbootConsole, wgbootMarkers)
	if err != nil {
		t.Fatal(err)
	}
	want := marks{
		unpackStart: 1316014 * time.Microsecond, unpackEnd: 1603289 * time.Microsecond,
		runInit: 2554175 * time.Microsecond, main: 2675953 * time.Microsecond,
		modStart: 2717728 * time.Microsecond, modDone: 2836113 * time.Microsecond,
		up: 2880 * time.Millisecond, rssKB: 3484,
	}
	want.phases[0], want.phases[1], want.phases[7] = time.Millisecond, 450*time.Microsecond, 43200*time.Microsecond
	if m != want {
		t.Fatalf("parseMarks =\n%+v, want\n%+v", m, want)
	}
	if got := m.withMods(); got != 325825*time.Microsecond {
		t.Errorf("(b) = %v", got)
	}
	if got := m.noMods(); got != 325825*time.Microsecond-118385*time.Microsecond {
		t.Errorf("(a) = %v", got)
	}
	if got := m.config(); got != 43887*time.Microsecond {
		t.Errorf("(c) = %v", got)
	}

	if _, err := parseMarks(strings.Replace(wgbootConsole, "tunnel wg0: up", "tunnel wg0: down", 1), wgbootMarkers); err == nil {
		t.Error("a console without the tunnel marker parsed")
	}
	failed := wgbootConsole + "[    2.900000] wgboot: FAILED in 300ms: tunnels: boom\n"
	if _, err := parseMarks(failed, wgbootMarkers); err == nil || !strings.Contains(err.Error(), "FAILED") {
		t.Errorf("failed boot: err = %v", err)
	}
}

func TestMedian(t *testing.T) {
	for _, c := range []struct {
		in   []time.Duration
		want time.Duration
	}{
		{nil, 0},
		{[]time.Duration{5}, 5},
		{[]time.Duration{9, 1, 5}, 5},
		{[]time.Duration{4, 1, 3, 2}, 2}, // (2+3)/2 in integer nanoseconds
	} {
		if got := median(c.in); got != c.want {
			t.Errorf("median(%v) = %v, want %v", c.in, got, c.want)
		}
	}
}

func TestBenchJobScript(t *testing.T) {
	j, err := newBenchJob(filepath.Join("..", "..", "profile", "bench.toml"), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	script := j.initScript()
	for _, want := range []string{
		"#!/bin/sh\n",
		"modprobe wireguard\n",
		"/sbin/ip link add wg0 type wireguard\n",
		"/usr/bin/wg setconf wg0 /etc/wireguard/wg0.conf\n",
		"/sbin/ip address add 10.77.0.2/24 dev wg0\n",
		"/sbin/ip link set dev wg0 mtu 1420 up\n",
		"/sbin/ip route replace 10.77.0.0/24 dev wg0 table 254\n",
		"'<6>" + scriptUp + "' >/dev/kmsg\n",
		"poweroff -f\n",
	} {
		if !strings.Contains(script, want) {
			t.Errorf("script lacks %q:\n%s", want, script)
		}
	}
	conf := j.wgConf(j.profile.Tunnels[0])
	for _, want := range []string{"PrivateKey = " + j.privKey, "ListenPort = 51820", "PresharedKey = " + j.psk, "Endpoint = 192.168.50.1:51820", "AllowedIPs = 10.77.0.0/24"} {
		if !strings.Contains(conf, want) {
			t.Errorf("wg config lacks %q:\n%s", want, conf)
		}
	}
	// The script's markers are found like wgboot's.
	console := "[ 1.000000] Trying to unpack rootfs image as initramfs...\n[ 1.100000] Freeing initrd memory: 2000K\n[ 2.000000] Run /init as init process\n"
	for i, l := range strings.Split(script, "\n") {
		if _, msg, ok := strings.Cut(l, "'<6>"); ok {
			msg, _, _ = strings.Cut(msg, "'")
			console += "[ 2." + strings.Repeat("0", 5) + string(rune('1'+i%9)) + "] " + msg + "\n"
		}
	}
	console += "[ 2.900000] " + scriptRSS + " VmHWM:\t    1668 kB\n"
	if _, err := parseMarks(console, scriptMarkers); err != nil {
		t.Errorf("script markers: %v\n%s", err, console)
	}
	files, err := os.ReadDir(j.dir)
	if err != nil || len(files) != 3 {
		t.Errorf("job dir: %v %v, want the profile and two key files", files, err)
	}
}

func TestStateFile(t *testing.T) {
	console := "[ 3.0] benchroot: main\nbenchroot: state begin\n{\n  \"ready\": true\n}\nbenchroot: state end\n[ 3.1] reboot: Power down\n"
	got, err := stateFile(console)
	if err != nil || got != "{\n  \"ready\": true\n}\n" {
		t.Errorf("stateFile = %q, %v", got, err)
	}
	if _, err := stateFile("nothing"); err == nil {
		t.Error("stateFile of a console without a state file")
	}
}

func TestParseInitTrace(t *testing.T) {
	tr := parseInitTrace("init runtime @3.3 ms, 0.43 ms clock, 0 bytes, 0 allocs\n[ 1.0] kernel\ninit main @52 ms, 4.4 ms clock, 448 bytes, 8 allocs\n")
	if len(tr) != 2 || tr[1].pkg != "main" || tr[1].clock != 4400*time.Microsecond || tr[1].allocs != 8 || tr[1].bytes != 448 {
		t.Errorf("parseInitTrace = %+v", tr)
	}
}

func TestParseSteps(t *testing.T) {
	console := "[    1.000000] Trying to unpack rootfs image as initramfs...\n[    1.100000] Freeing initrd memory: 2000K\n[    2.000000] Run /init as init process\n" +
		"[    2.100000] steps: main\n[    2.110000] steps: modules start\n[    2.200000] steps: modules done\n"
	for i, name := range stepNames {
		console += fmt.Sprintf("[%5d.%06d] steps: %s\n", 2, 210000+10000*i, name)
	}
	for i, name := range extraNames {
		console += fmt.Sprintf("[%5d.%06d] steps: %s\n", 2, 300000+1000*i*i, name)
	}
	m, err := parseMarks(console, stepsMarkers)
	if err != nil {
		t.Fatalf("%v\n%s", err, console)
	}
	for i := range stepNames {
		if got := m.step(i); got != 10*time.Millisecond {
			t.Errorf("step %s = %v, want 10ms", stepNames[i], got)
		}
	}
	if m.profileCold() != time.Millisecond || m.profileWarm() != 5*time.Millisecond || m.consoleCost() != 9*time.Millisecond {
		t.Errorf("profile cold %v, warm %v, console %v; want 1ms, 5ms, 9ms", m.profileCold(), m.profileWarm(), m.consoleCost())
	}
	if m.up != m.steps[len(stepNames)-1] {
		t.Errorf("up %v, want the last step's %v", m.up, m.steps[len(stepNames)-1])
	}
}

func TestStateTable(t *testing.T) {
	data := bootstate.Encode(&bootstate.State{Version: "v", PeakRSSKB: 3484, StartUptimeNS: 900 * time.Millisecond, WrittenNS: 1100 * time.Millisecond,
		Phases: []bootstate.Phase{{Name: "modules", Start: 32 * time.Millisecond, Dur: 100 * time.Millisecond}}})
	got := stateTable(data)
	for _, want := range []string{"| kernel, initramfs, Go runtime | 0.0 | 900.0 |", "| modules | 932.0 | 100.0 |", "| state written, handoff | 1100.0 | |", "init peak RSS 3484 KiB."} {
		if !strings.Contains(got, want) {
			t.Errorf("stateTable lacks %q:\n%s", want, got)
		}
	}
}
