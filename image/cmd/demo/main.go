// Command demo shows wgboot's whole story under QEMU (TCG): it builds the
// images, boots a hub guest and a client guest joined by a point-to-point
// Ethernet on 127.0.0.1, and prints the client's boot — board detection,
// modules, uplink by DHCP, the hub's host name resolved, tunnel, handshake,
// switch_root into a root disk whose init pings the hub through the tunnel
// — with the per-phase timings.
// It is what `make demo` runs.
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/wgboot/wgboot/image"
)

func main() {
	arch := flag.String("arch", "amd64", "guest architecture: amd64 or arm64")
	kernels := flag.String("kernels", ".cache/kernels", "directory filled by `make kernels`")
	flag.Parse()
	if err := run(*arch, *kernels); err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(1)
	}
}

// build compiles a main package of this module for the guest.
func build(arch, pkg, out string) ([]byte, error) {
	args := []string{"build", "-trimpath", "-ldflags=-s -w", "-o", out}
	if pkg == "./init" {
		toolexec, err := image.InitToolexec(".")
		if err != nil {
			return nil, err
		}
		args = append(append(args, image.InitBuildFlags()...), toolexec) // as make build
	}
	cmd := exec.Command("go", append(args, pkg)...)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+arch, "GOAMD64=v1")
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("build %s: %w", pkg, err)
	}
	return os.ReadFile(out)
}

func run(arch, kernels string) error {
	out := filepath.Join("out", arch)
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	initBin, err := build(arch, "./init", filepath.Join(out, "init"))
	if err != nil {
		return err
	}
	rootInit, err := build(arch, "./image/testroot", filepath.Join(out, "testroot"))
	if err != nil {
		return err
	}
	hubServices, err := build(arch, "./image/testhub", filepath.Join(out, "testhub"))
	if err != nil {
		return err
	}
	profiles, err := demoProfiles(arch, filepath.Join(out, "demo-profiles"))
	if err != nil {
		return err
	}
	files, modules, err := image.Profiles(profiles)
	if err != nil {
		return err
	}
	// The hub hands off to testhub, which serves the client DHCP, and DNS
	// for the hub's name.
	files = append(files, image.File{Path: "/sbin/testhub", Data: hubServices, Mode: 0o755},
		image.File{Path: "/etc/testhub/zone", Data: []byte(hubZone), Mode: 0o644})
	var buf bytes.Buffer
	spec := image.Spec{Init: initBin, ModulesDir: filepath.Join(kernels, arch, "modules"), Modules: modules, Files: files, Compress: "xz"}
	spec.XZ, _ = image.XZFor(arch, spec.ModulesDir) // as make image compresses
	if err := image.Build(spec, &buf); err != nil {
		return err
	}
	initrd := filepath.Join(out, "initramfs.cpio.xz")
	if err := os.WriteFile(initrd, buf.Bytes(), 0o644); err != nil {
		return err
	}
	disk := filepath.Join(out, "root.ext4")
	if err := image.RootDisk(rootInit, disk, 64); err != nil {
		return err
	}
	fmt.Printf("demo: %s image %s: %d bytes (xz); root disk %s\n", arch, initrd, buf.Len(), disk)

	ports, err := freePorts(2)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	kernel := filepath.Join(kernels, arch, "vmlinuz")
	hub, err := image.Start(ctx, image.Config{
		Arch: arch, Kernel: kernel, Initrd: initrd,
		Append: []string{"wgboot.board=hub"},
		Nets:   []image.Net{{Local: ports[0], Remote: ports[1], MAC: "52:54:00:77:00:01"}},
	}, filepath.Join(out, "demo-hub.log"))
	if err != nil {
		return err
	}
	defer hub.Kill()
	fmt.Println("demo: hub guest booting (profile hub.toml, 10.77.0.1)")
	for _, ready := range []string{`testhub: dhcp: serving`, `testhub: dns: serving`} {
		if _, err := hub.Expect(regexp.MustCompile(ready), 3*time.Minute); err != nil {
			return fmt.Errorf("hub: %w\n%s", err, hub.Tail(30))
		}
	}
	fmt.Println("demo: hub ready, serving DHCP and DNS (hub.wgboot.test); client guest booting (board detected from firmware, uplink by DHCP, the hub by name, root disk attached)")
	cli, err := image.Start(ctx, image.Config{
		Arch: arch, Kernel: kernel, Initrd: initrd,
		Append: []string{"testroot.ping=10.77.0.1"},
		Nets:   []image.Net{{Local: ports[1], Remote: ports[0], MAC: "52:54:00:77:00:02"}},
		Disks:  []string{disk},
	}, filepath.Join(out, "demo-client.log"))
	if err != nil {
		return err
	}
	defer cli.Kill()
	verdict, err := cli.Expect(regexp.MustCompile(`testroot: (OK|FAIL)`), 3*time.Minute)
	cli.Wait(time.Minute)
	for _, l := range strings.Split(cli.Console(), "\n") {
		if strings.Contains(l, "wgboot:") || strings.Contains(l, "testroot:") || strings.Contains(l, "Run /init") {
			fmt.Println(l)
		}
	}
	for _, l := range strings.Split(hub.Console(), "\n") {
		if strings.Contains(l, "testhub: dhcp: ACK") || strings.Contains(l, "testhub: dns: ") && !strings.Contains(l, "serving") {
			fmt.Println("hub:", l)
		}
	}
	fmt.Printf("\ndemo: full consoles in %s/demo-client.log and demo-hub.log\n", out)
	if err != nil {
		return err
	}
	if !strings.Contains(verdict, "OK") {
		return fmt.Errorf("%s", verdict)
	}
	return nil
}

// demoProfiles copies the shipped QEMU profiles (and their keys) to dir
// and returns their paths. The client's, qemu-ARCH.toml, gets its IPv4
// uplink (and name server) by DHCP and reaches the hub by its name, as a
// router on a real network would; its static IPv6 address stays. The
// shipped profile keeps its static uplink and the hub's address, which the
// end-to-end tests without a hub rely on.
func demoProfiles(arch, dir string) ([]string, error) {
	if err := os.RemoveAll(dir); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Join(dir, "keys"), 0o755); err != nil {
		return nil, err
	}
	keys, _ := filepath.Glob("board/profiles/keys/*")
	for _, k := range keys {
		data, err := os.ReadFile(k)
		if err != nil {
			return nil, err
		}
		if err := os.WriteFile(filepath.Join(dir, "keys", filepath.Base(k)), data, 0o600); err != nil {
			return nil, err
		}
	}
	sources, _ := filepath.Glob("board/profiles/qemu-*.toml")
	sources = append(sources, "board/profiles/hub.toml")
	var out []string
	for _, src := range sources {
		data, err := os.ReadFile(src)
		if err != nil {
			return nil, err
		}
		if filepath.Base(src) == "qemu-"+arch+".toml" {
			if !staticUplink.Match(data) {
				return nil, fmt.Errorf("%s: no static uplink to replace by DHCP", src)
			}
			data = staticUplink.ReplaceAll(data, []byte("dhcp = true\naddress = [\"$1\"]\n"))
			if !bytes.Contains(data, []byte(hubEndpoint)) {
				return nil, fmt.Errorf("%s: no %s to replace by the hub's name", src, hubEndpoint)
			}
			data = bytes.Replace(data, []byte(hubEndpoint), []byte(`endpoint = "hub.wgboot.test:51820"`), 1)
		}
		dst := filepath.Join(dir, filepath.Base(src))
		if err := os.WriteFile(dst, data, 0o644); err != nil {
			return nil, err
		}
		out = append(out, dst)
	}
	return out, nil
}

// hubEndpoint is the client profiles' endpoint, the hub's address.
const hubEndpoint = `endpoint = "192.168.50.1:51820"`

// hubZone is what the hub's DNS server (image/testhub) knows: itself.
const hubZone = `hub.wgboot.test A 192.168.50.1
hub.wgboot.test AAAA fd50::1
`

// staticUplink matches a QEMU client profile's static dual-stack uplink.
var staticUplink = regexp.MustCompile(`(?m)^address = \["192\.168\.50\.\d+/24", "(fd50::\d+/64)"\]\ngateway = \["192\.168\.50\.1"\]\n`)

// freePorts returns n UDP ports on 127.0.0.1 that were free a moment ago.
func freePorts(n int) ([]int, error) {
	var ports []int
	for range n {
		c, err := net.ListenPacket("udp4", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		defer c.Close()
		ports = append(ports, c.LocalAddr().(*net.UDPAddr).Port)
	}
	return ports, nil
}
