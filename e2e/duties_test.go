package e2e

import (
	"bytes"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/wgboot/wgboot/image"
	"github.com/wgboot/wgboot/image/imagetest"
	"github.com/wgboot/wgboot/internal/clockfile"
)

// TestE2ESeedAndClock: [persist] random_seed and save_clock on the fleet
// disk's config partition, which holds a seed and a saved clock later
// than the guest's RTC. wgboot credits the seed (256 bits) and replaces
// it at once, sets the clock forward to the saved one, and saves the
// clock again at the end of the boot; the disk read back afterwards
// holds a new seed and a clock no earlier than the one it had.
func TestE2ESeedAndClock(t *testing.T) {
	for _, arch := range arches {
		t.Run(arch, func(t *testing.T) {
			t.Parallel()
			edit := replace(t,
				"[uplink]", "[persist]\ndevice = \"LABEL=wgboot\"\nfstype = \"ext4\"\nrandom_seed = true\nsave_clock = true\n\n[uplink]",
				`root = "/dev/vda"`, `root = "PARTLABEL=root"`,
				`wait_handshake = "20s"`, `wait_handshake = "0s"`)
			own := func(name string, data []byte) []byte {
				if name != "qemu-"+arch+".toml" {
					return data
				}
				return edit(name, data)
			}
			seed := bytes.Repeat([]byte{0x5a}, 32)
			saved := time.Date(2031, 5, 1, 12, 0, 0, 0, time.UTC)
			disk := fleetDisk(t, arch, true, []image.File{
				{Path: "/wgboot/random-seed", Data: seed, Mode: 0o600},
				{Path: "/wgboot/clock", Data: clockfile.Format(saved), Mode: 0o644},
			}, expectProfile(t, arch, own))
			cli := guest{arch: arch, profiles: ownProfile(t, arch), edit: own, disk: disk,
				append: []string{"testroot.persist=/dev/vda1"}}.boot(t, "client")

			imagetest.Expect(t, cli, `wgboot: clock: \S+, before the saved clock: set to 2031-05-01T12:00:00Z`, bootTimeout)
			imagetest.Expect(t, cli, `wgboot: random seed: 256 bits credited from /persist/wgboot/random-seed`, stepTimeout)
			ready := imagetest.Expect(t, cli, `wgboot: READY in`, stepTimeout)
			t.Logf("%s: %s", arch, ready)
			verdict := imagetest.Expect(t, cli, `testroot: (OK|FAIL)`, stepTimeout)
			if !strings.Contains(verdict, "OK tunnel=wg0 up") {
				t.Errorf("after switch_root: %s", verdict)
			}
			if err := cli.Wait(stepTimeout); err != nil {
				t.Errorf("client did not power off: %v", err)
			}
			noPanic(t, cli)

			newSeed, mode := persistFile(t, disk, "/wgboot/random-seed")
			if len(newSeed) != 32 || bytes.Equal(newSeed, seed) || mode != 0o600 {
				t.Errorf("/persist/wgboot/random-seed after the boot: %d bytes, mode %#o, the old seed: %v", len(newSeed), mode, bytes.Equal(newSeed, seed))
			}
			data, _ := persistFile(t, disk, "/wgboot/clock")
			now, err := clockfile.Parse(data)
			if err != nil || now.Before(saved) || now.After(saved.Add(10*time.Minute)) {
				t.Errorf("/persist/wgboot/clock after the boot = %q (%v), want shortly after %s", data, err, saved)
			}
		})
	}
}

// TestE2ESeedCRNG measures what the random seed saves an amd64 board
// without RDRAND (-cpu qemu64; the kernel has no other trusted source in
// QEMU): two boots of one disk against the hub, the first without a seed
// (it saves one once the CRNG is ready), the second with it. It logs the
// crng phase and the time to the handshake of both, and their ratio.
func TestE2ESeedCRNG(t *testing.T) {
	const arch = "amd64"
	hub, cliNet := startHub(t, arch)
	edit := replace(t,
		"[uplink]", "[persist]\ndevice = \"LABEL=wgboot\"\nfstype = \"ext4\"\nrandom_seed = true\n\n[uplink]",
		`root = "/dev/vda"`, `root = "PARTLABEL=root"`)
	own := func(name string, data []byte) []byte {
		if name != "qemu-"+arch+".toml" {
			return data
		}
		return edit(name, data)
	}
	disk := fleetDisk(t, arch, true, nil, expectProfile(t, arch, own))
	reCRNG := regexp.MustCompile(`wgboot: READY in (\S+) \(.* crng=(\S+) .*handshake=(\S+)\)`)
	var crng, ready [2]time.Duration
	for i, want := range []string{`wgboot: random seed: none saved yet`, `wgboot: random seed: 256 bits credited`} {
		cli := guest{arch: arch, cpu: "qemu64", profiles: allProfiles(t), edit: own, disk: disk, nets: []image.Net{cliNet},
			append: []string{"testroot.ping=10.77.0.1"}}.boot(t, fmt.Sprintf("client-boot%d", i+1))
		imagetest.Expect(t, cli, want, bootTimeout)
		line := imagetest.Expect(t, cli, reCRNG.String(), stepTimeout)
		m := reCRNG.FindStringSubmatch(line)
		ready[i], _ = time.ParseDuration(m[1])
		crng[i], _ = time.ParseDuration(m[2])
		t.Logf("boot %d: %s", i+1, line)
		if v := imagetest.Expect(t, cli, `testroot: (OK|FAIL)`, stepTimeout); !strings.Contains(v, "handshake=true pings=10/10") {
			t.Errorf("boot %d, after switch_root: %s", i+1, v)
		}
		if err := cli.Wait(stepTimeout); err != nil {
			t.Fatalf("boot %d: client did not power off: %v", i+1, err)
		}
		noPanic(t, cli)
	}
	t.Logf("amd64 -cpu qemu64: crng phase without a seed %v, with %v (%.1fx); READY (after the handshake) %v and %v (%.1fx)",
		crng[0], crng[1], float64(crng[0])/float64(max(crng[1], time.Microsecond)),
		ready[0], ready[1], float64(ready[0])/float64(max(ready[1], time.Microsecond)))
	if crng[1] >= crng[0] {
		t.Errorf("the seed did not shorten the crng phase: %v with it, %v without", crng[1], crng[0])
	}
	noPanic(t, hub)
}
