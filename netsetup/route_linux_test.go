package netsetup

import (
	"errors"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/wgboot/wgboot/netsetup/internal/nl"
	"github.com/wgboot/wgboot/netsetup/internal/nltest"
)

func TestRouteRequestValidation(t *testing.T) {
	tests := []struct {
		name string
		r    Route
	}{
		{"no destination", Route{OIF: 2}},
		{"host bits set", Route{Dst: pfx(t, "10.1.2.3/16"), OIF: 2}},
		{"neither gateway nor link", Route{Dst: pfx(t, "10.1.0.0/16")}},
		{"unspecified gateway", Route{Dst: pfx(t, "10.1.0.0/16"), Gateway: addr(t, "0.0.0.0")}},
		{"negative link", Route{Dst: pfx(t, "10.1.0.0/16"), OIF: -1}},
	}
	for _, tt := range tests {
		k := newKernel(t, d0)
		if err := k.handle().ReplaceRoute(tt.r); err == nil {
			t.Errorf("%s: ReplaceRoute(%s) succeeded, want an error", tt.name, tt.r)
		}
		if len(k.requests()) != 0 {
			t.Errorf("%s: sent requests for an invalid route", tt.name)
		}
	}
}

func TestRoutesMissingTable(t *testing.T) {
	k := newKernel(t)
	k.on[unix.RTM_GETROUTE] = func(req nl.Message) ([]nl.Message, error) {
		return nltest.Errno(req, unix.ENOENT, "ipv4: FIB table does not exist"), nil
	}
	routes, err := k.handle().Routes(unix.AF_INET, 51820)
	if err != nil || routes != nil {
		t.Errorf("Routes(AF_INET, 51820) = %v, %v, want nil, nil", routes, err)
	}
}

func TestRoutesFilters(t *testing.T) {
	in := []Route{
		{Dst: pfx(t, "10.1.0.0/16"), OIF: 2, Table: 51820},
		{Dst: pfx(t, "10.2.0.0/16"), OIF: 2, Table: 254},
		{Dst: pfx(t, "2001:db8::/32"), OIF: 2, Table: 51820},
	}
	k := newKernel(t)
	// A kernel without strict checking ignores the dump filters.
	k.on[unix.RTM_GETROUTE] = func(req nl.Message) ([]nl.Message, error) {
		var msgs []nl.Message
		for _, r := range in {
			m, err := routeRequest(unix.RTM_NEWROUTE, 0, r)
			if err != nil {
				return nil, err
			}
			msgs = append(msgs, m)
		}
		cloned, _ := routeRequest(unix.RTM_NEWROUTE, 0, in[0])
		cloned.Data[8] = unix.RTM_F_CLONED & 0xff
		cloned.Data[9] = unix.RTM_F_CLONED >> 8
		return nltest.Dump(req, append(msgs, cloned)...), nil
	}
	routes, err := k.handle().Routes(unix.AF_INET, 51820)
	if err != nil {
		t.Fatal(err)
	}
	want := in[0].withDefaults()
	if len(routes) != 1 || routes[0] != want {
		t.Errorf("Routes(AF_INET, 51820) = %+v, want [%+v]", routes, want)
	}
}

func TestReplaceRouteExtAck(t *testing.T) {
	k := newKernel(t, d0)
	k.on[unix.RTM_NEWROUTE] = func(req nl.Message) ([]nl.Message, error) {
		return nltest.Errno(req, unix.ENETUNREACH, "Nexthop has invalid gateway"), nil
	}
	err := k.handle().ReplaceRoute(Route{Dst: pfx(t, "0.0.0.0/0"), Gateway: addr(t, "192.0.2.1"), OIF: 2})
	var ne *nl.Error
	if !errors.Is(err, unix.ENETUNREACH) || !errors.As(err, &ne) || ne.Message != "Nexthop has invalid gateway" {
		t.Fatalf("ReplaceRoute() = %v, want ENETUNREACH with the ext-ack message", err)
	}
	if want := "replace route 0.0.0.0/0 via 192.0.2.1 dev 2: netlink: RTM_NEWROUTE: network is unreachable: Nexthop has invalid gateway"; err.Error() != want {
		t.Errorf("ReplaceRoute() error text:\n%s\nwant:\n%s", err, want)
	}
}
