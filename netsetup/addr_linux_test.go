package netsetup

import (
	"errors"
	"net/netip"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/wgboot/wgboot/netsetup/internal/nl"
	"github.com/wgboot/wgboot/netsetup/internal/nltest"
)

// addrDump returns a fake RTM_GETADDR handler listing addrs of d0.
func addrDump(t *testing.T, prefixes ...string) nltest.Func {
	return func(req nl.Message) ([]nl.Message, error) {
		var msgs []nl.Message
		for _, s := range prefixes {
			m, err := addrRequest(unix.RTM_NEWADDR, 0, d0.Index, pfx(t, s), addrOptions{})
			if err != nil {
				return nil, err
			}
			msgs = append(msgs, m)
		}
		return nltest.Dump(req, msgs...), nil
	}
}

// eexist answers a request with EEXIST.
func eexist(req nl.Message) ([]nl.Message, error) {
	return nltest.Errno(req, unix.EEXIST, ""), nil
}

func TestAddAddressExisting(t *testing.T) {
	tests := []struct {
		name    string
		add     string
		present []string
		wantErr string // substring; empty for success
	}{
		{name: "same address and prefix length is success", add: "10.0.0.2/24", present: []string{"10.0.0.1/24", "10.0.0.2/24"}},
		{name: "IPv6 with another prefix length is an error", add: "2001:db8::2/64", present: []string{"2001:db8::2/56"}, wantErr: "present as [2001:db8::2/56]"},
		{name: "absent from the dump is an error", add: "10.0.0.2/24", present: []string{"10.0.0.3/24"}, wantErr: "add address 10.0.0.2/24 to link 2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k := newKernel(t, d0)
			k.on[unix.RTM_NEWADDR] = eexist
			k.on[unix.RTM_GETADDR] = addrDump(t, tt.present...)
			err := k.handle().AddAddress(2, pfx(t, tt.add))
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("AddAddress(%s) = %v, want nil", tt.add, err)
				}
				checkGolden(t, "transcripts/addr-eexist.golden", k.Transcript())
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("AddAddress(%s) = %v, want error containing %q", tt.add, err, tt.wantErr)
			}
			if !errors.Is(err, unix.EEXIST) {
				t.Errorf("AddAddress(%s) = %v, want it to wrap EEXIST", tt.add, err)
			}
		})
	}
}

func TestAddAddressExtAck(t *testing.T) {
	k := newKernel(t, d0)
	k.on[unix.RTM_NEWADDR] = func(req nl.Message) ([]nl.Message, error) {
		return nltest.Errno(req, unix.EINVAL, "Invalid prefix length"), nil
	}
	err := k.handle().AddAddress(2, pfx(t, "10.0.0.2/24"))
	var ne *nl.Error
	if !errors.Is(err, unix.EINVAL) || !errors.As(err, &ne) || ne.Message != "Invalid prefix length" {
		t.Fatalf("AddAddress() = %v, want EINVAL with the ext-ack message", err)
	}
	if want := "add address 10.0.0.2/24 to link 2: netlink: RTM_NEWADDR: invalid argument: Invalid prefix length"; err.Error() != want {
		t.Errorf("AddAddress() error text:\n%s\nwant:\n%s", err, want)
	}
}

func TestAddressRequestValidation(t *testing.T) {
	for _, p := range []netip.Prefix{{}, netip.MustParsePrefix("0.0.0.0/8"), netip.MustParsePrefix("::ffff:10.0.0.1/120")} {
		if _, err := addrRequest(unix.RTM_NEWADDR, flagsCreate, 2, p, addrOptions{}); err == nil {
			t.Errorf("addrRequest(%s) succeeded, want an error", p)
		}
	}
	if _, err := addrRequest(unix.RTM_NEWADDR, flagsCreate, 0, netip.MustParsePrefix("10.0.0.1/8"), addrOptions{}); err == nil {
		t.Error("addrRequest(index 0) succeeded, want an error")
	}
}

func TestAddressesFiltersByLink(t *testing.T) {
	k := newKernel(t, d0)
	// A kernel without strict checking ignores the index filter.
	k.on[unix.RTM_GETADDR] = func(req nl.Message) ([]nl.Message, error) {
		a, _ := addrRequest(unix.RTM_NEWADDR, 0, 2, pfx(t, "10.0.0.2/24"), addrOptions{})
		b, _ := addrRequest(unix.RTM_NEWADDR, 0, 3, pfx(t, "10.0.1.2/24"), addrOptions{})
		return nltest.Dump(req, a, b), nil
	}
	addrs, err := k.handle().Addresses(2)
	if err != nil {
		t.Fatal(err)
	}
	if len(addrs) != 1 || addrs[0].Prefix != pfx(t, "10.0.0.2/24") || addrs[0].Index != 2 {
		t.Errorf("Addresses(2) = %+v, want only 10.0.0.2/24 on link 2", addrs)
	}
}
