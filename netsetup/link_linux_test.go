package netsetup

import (
	"errors"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/wgboot/wgboot/netsetup/internal/nl"
	"github.com/wgboot/wgboot/netsetup/internal/nltest"
)

func TestLinkByName(t *testing.T) {
	h := newKernel(t, d0).handle()
	l, err := h.LinkByName("d0")
	if err != nil {
		t.Fatal(err)
	}
	if l != d0 {
		t.Errorf("LinkByName(d0) = %+v, want %+v", l, d0)
	}
	l, err = h.LinkByIndex(2)
	if err != nil || l != d0 {
		t.Errorf("LinkByIndex(2) = %+v, %v, want %+v", l, err, d0)
	}
}

func TestLinkByNameMissing(t *testing.T) {
	h := newKernel(t).handle()
	_, err := h.LinkByName("eth9")
	if !errors.Is(err, unix.ENODEV) {
		t.Fatalf("LinkByName(eth9) = %v, want ENODEV", err)
	}
	var ne *nl.Error
	if !errors.As(err, &ne) || ne.Op != "RTM_GETLINK" {
		t.Errorf("LinkByName(eth9) = %v, want an *nl.Error for RTM_GETLINK", err)
	}
}

func TestInvalidNamesSendNothing(t *testing.T) {
	k := newKernel(t, d0)
	h := k.handle()
	calls := map[string]func() error{
		"LinkByName":          func() error { _, err := h.LinkByName("a/b"); return err },
		"CreateLink":          func() error { _, err := h.CreateLink("this-name-is-too-long", "dummy"); return err },
		"CreateLink peer":     func() error { _, err := h.CreateLink("v0", "veth", VethPeer("a b")); return err },
		"RenameLink":          func() error { return h.RenameLink(2, "..") },
		"EnsureWireGuardLink": func() error { _, _, err := h.EnsureWireGuardLink("wg:0"); return err },
	}
	for name, call := range calls {
		if err := call(); !errors.Is(err, ErrInvalidName) {
			t.Errorf("%s: error %v, want ErrInvalidName", name, err)
		}
	}
	if reqs := k.requests(); len(reqs) != 0 {
		t.Errorf("sent %d requests for invalid names:\n%s", len(reqs), k.Transcript())
	}
}

func TestCreateLinkUnknownKind(t *testing.T) {
	k := newKernel(t)
	k.on[unix.RTM_NEWLINK] = func(req nl.Message) ([]nl.Message, error) {
		return nltest.Errno(req, unix.EOPNOTSUPP, "Unknown device type"), nil
	}
	_, err := k.handle().CreateLink("wg0", "wireguard")
	if !errors.Is(err, unix.EOPNOTSUPP) {
		t.Fatalf("CreateLink() = %v, want EOPNOTSUPP", err)
	}
	var ne *nl.Error
	if !errors.As(err, &ne) || ne.Message != "Unknown device type" {
		t.Errorf("CreateLink() = %v, want the ext-ack message in an *nl.Error", err)
	}
	for _, s := range []string{`create wireguard link "wg0"`, "module", "Unknown device type"} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("CreateLink() error %q lacks %q", err, s)
		}
	}
}

func TestEnsureWireGuardLink(t *testing.T) {
	wg0 := Link{Index: 7, Name: "wg0", Kind: "wireguard", Type: unix.ARPHRD_NONE, MTU: 1420}
	tests := []struct {
		name        string
		links       []Link
		onNewLink   func(k *kernel, req nl.Message) []nl.Message
		wantCreated bool
		wantErr     bool
		wantNewLink int
		wantGetLink int
	}{
		// No lookup before the create: at boot it could only answer
		// ENODEV. The one lookup is the new link's index.
		{name: "absent is created", wantCreated: true, wantNewLink: 1, wantGetLink: 1,
			onNewLink: func(k *kernel, req nl.Message) []nl.Message { k.setLink(wg0); return nltest.Ack(req) }},
		// The create is refused (EEXIST, nothing changed), then the link
		// looked up.
		{name: "existing is reported", links: []Link{wg0}, wantNewLink: 1, wantGetLink: 1},
		{name: "existing of another kind", links: []Link{{Index: 7, Name: "wg0", Kind: "dummy"}}, wantErr: true, wantNewLink: 1, wantGetLink: 1},
		{name: "created meanwhile by someone else", wantNewLink: 1, wantGetLink: 1,
			onNewLink: func(k *kernel, req nl.Message) []nl.Message {
				k.setLink(wg0)
				return nltest.Errno(req, unix.EEXIST, "")
			}},
		{name: "deleted meanwhile by someone else", wantCreated: true, wantNewLink: 2, wantGetLink: 2,
			onNewLink: func() func(k *kernel, req nl.Message) []nl.Message {
				n := 0
				return func(k *kernel, req nl.Message) []nl.Message {
					if n++; n == 1 {
						return nltest.Errno(req, unix.EEXIST, "") // and gone before the lookup
					}
					k.setLink(wg0)
					return nltest.Ack(req)
				}
			}()},
		{name: "module missing", wantErr: true, wantNewLink: 1,
			onNewLink: func(k *kernel, req nl.Message) []nl.Message {
				return nltest.Errno(req, unix.EOPNOTSUPP, "Unknown device type")
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k := newKernel(t, tt.links...)
			if tt.onNewLink != nil {
				k.on[unix.RTM_NEWLINK] = func(req nl.Message) ([]nl.Message, error) { return tt.onNewLink(k, req), nil }
			}
			l, created, err := k.handle().EnsureWireGuardLink("wg0")
			if (err != nil) != tt.wantErr {
				t.Fatalf("EnsureWireGuardLink() error = %v, want error %v", err, tt.wantErr)
			}
			if err == nil && (l != wg0 || created != tt.wantCreated) {
				t.Errorf("EnsureWireGuardLink() = %+v, %v, want %+v, %v", l, created, wg0, tt.wantCreated)
			}
			n, get := 0, 0
			for _, m := range k.requests() {
				switch m.Type {
				case unix.RTM_NEWLINK:
					n++
				case unix.RTM_GETLINK:
					get++
				}
			}
			if n != tt.wantNewLink || get != tt.wantGetLink {
				t.Errorf("sent %d RTM_NEWLINK and %d RTM_GETLINK, want %d and %d:\n%s", n, get, tt.wantNewLink, tt.wantGetLink, k.Transcript())
			}
		})
	}
}

func TestLinksDump(t *testing.T) {
	lo := Link{Index: 1, Name: "lo", Type: unix.ARPHRD_LOOPBACK, MTU: 65536, Flags: unix.IFF_UP | unix.IFF_LOOPBACK | unix.IFF_LOWER_UP}
	links, err := newKernel(t, lo, d0).handle().Links()
	if err != nil {
		t.Fatal(err)
	}
	if len(links) != 2 || links[0] != lo || links[1] != d0 {
		t.Errorf("Links() = %+v, want [%+v %+v]", links, lo, d0)
	}
}
