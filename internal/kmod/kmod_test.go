package kmod

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"testing/fstest"

	"golang.org/x/sys/unix"
)

const dep = `kernel/net/ipv6/ip6_udp_tunnel.ko:
kernel/lib/crypto/libchacha.ko:
kernel/lib/crypto/libchacha20poly1305.ko: kernel/lib/crypto/libchacha.ko
kernel/net/ipv4/udp_tunnel.ko:
kernel/drivers/net/wireguard/wireguard.ko: kernel/net/ipv4/udp_tunnel.ko kernel/lib/crypto/libchacha20poly1305.ko kernel/lib/crypto/libchacha.ko kernel/net/ipv6/ip6_udp_tunnel.ko
kernel/drivers/net/virtio_net.ko: kernel/net/core/net_failover.ko kernel/net/core/failover.ko
kernel/net/core/net_failover.ko: kernel/net/core/failover.ko
kernel/net/core/failover.ko:
`

type fakeKernel struct {
	loaded []string
	fail   map[string]error
	exist  map[string]bool
}

func (k *fakeKernel) load(file, params string) error {
	if err := k.fail[Name(file)]; err != nil {
		return err
	}
	if k.exist[Name(file)] {
		return ErrExist
	}
	k.loaded = append(k.loaded, Name(file)+params)
	return nil
}

func newLoader(k *fakeKernel) *Loader {
	return &Loader{
		FS:      fstest.MapFS{"modules.dep": {Data: []byte(dep)}},
		Load:    k.load,
		Builtin: func(name string) bool { return name == "ext4" },
		Params:  map[string]string{"wireguard": " dyndbg"},
	}
}

func TestLoadAllOrder(t *testing.T) {
	k := &fakeKernel{exist: map[string]bool{"failover": true}}
	l := newLoader(k)
	res, err := l.LoadAll([]string{"wireguard", "virtio-net", "ext4", "wireguard"})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"ip6_udp_tunnel", "libchacha", "libchacha20poly1305", "udp_tunnel", "wireguard dyndbg", "net_failover", "virtio_net"}
	if !reflect.DeepEqual(k.loaded, want) {
		t.Errorf("load order = %v, want %v", k.loaded, want)
	}
	var already []string
	for _, r := range res {
		if r.Already {
			already = append(already, r.Name)
		}
	}
	if want := []string{"failover", "ext4"}; !reflect.DeepEqual(already, want) {
		t.Errorf("already loaded = %v, want %v", already, want)
	}
}

func TestLoadAllNamesFailingDependency(t *testing.T) {
	k := &fakeKernel{fail: map[string]error{"libchacha": unix.ENOEXEC}}
	_, err := newLoader(k).LoadAll([]string{"wireguard"})
	if !errors.Is(err, unix.ENOEXEC) {
		t.Fatalf("LoadAll = %v, want ENOEXEC", err)
	}
	for _, s := range []string{"module wireguard", "dependency libchacha", "kernel/lib/crypto/libchacha.ko"} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error %q does not name %q", err, s)
		}
	}
}

func TestLoadAllMissing(t *testing.T) {
	_, err := newLoader(&fakeKernel{}).LoadAll([]string{"nosuch"})
	if err == nil || !strings.Contains(err.Error(), "nosuch") {
		t.Fatalf("LoadAll(nosuch) = %v, want an error naming it", err)
	}
	l := &Loader{FS: fstest.MapFS{}, Load: (&fakeKernel{}).load}
	if _, err := l.LoadAll([]string{"wireguard"}); err == nil {
		t.Fatal("LoadAll without modules.dep succeeded")
	}
}

func TestParseDepRejectsGarbage(t *testing.T) {
	if _, err := ParseDep(strings.NewReader("no colon here\n")); err == nil {
		t.Fatal("ParseDep accepted a line without a colon")
	}
}

// TestFile: a module's file as modules.dep gives it, by any spelling of
// its name; none for a module it does not list.
func TestFile(t *testing.T) {
	l := newLoader(&fakeKernel{})
	if f, ok, err := l.File("virtio-net"); f != "kernel/drivers/net/virtio_net.ko" || !ok || err != nil {
		t.Errorf("File(virtio-net) = %q, %v, %v", f, ok, err)
	}
	if f, ok, err := l.File("softdog"); ok || err != nil {
		t.Errorf("File(softdog) = %q, %v, %v; want none", f, ok, err)
	}
	l.FS = fstest.MapFS{}
	l.dep = nil
	if _, _, err := l.File("wireguard"); err == nil {
		t.Error("File without modules.dep: no error")
	}
}
