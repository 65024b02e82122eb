package main

import (
	"net/netip"
	"os"
	"path/filepath"
	"time"

	"golang.org/x/sys/unix"

	"github.com/wgboot/wgboot/internal/bootstate"
	"github.com/wgboot/wgboot/internal/wgkey"
	"github.com/wgboot/wgboot/netsetup/bringup"
	"github.com/wgboot/wgboot/netsetup/wg"
)

func (s *state) addTunnel(dev *wg.Device) {
	ts := bootstate.Tunnel{Name: dev.Name, Index: int32(dev.Index), PublicKey: dev.PublicKey.String(), ListenPort: dev.ListenPort}
	for _, p := range dev.Peers {
		ps := bootstate.Peer{PublicKey: p.PublicKey.String()}
		if p.Endpoint.IsValid() {
			ps.Endpoint = p.Endpoint.String()
		}
		for _, a := range p.AllowedIPs {
			ps.AllowedIPs = append(ps.AllowedIPs, a.String())
		}
		if !p.LastHandshake.IsZero() {
			ps.LastHandshake = p.LastHandshake
		}
		ts.Peers = append(ts.Peers, ps)
	}
	s.Tunnels = append(s.Tunnels, ts)
}

// setHandshakes records the handshake times of a tunnel's peers, in one
// pass over them: hubs have 10,000.
func (s *state) setHandshakes(tunnel string, got map[wgkey.Key]time.Time) {
	if len(got) == 0 {
		return
	}
	byKey := make(map[string]time.Time, len(got))
	for k, at := range got {
		byKey[k.String()] = at
	}
	for i := range s.Tunnels {
		if s.Tunnels[i].Name != tunnel {
			continue
		}
		for j := range s.Tunnels[i].Peers {
			if at, ok := byKey[s.Tunnels[i].Peers[j].PublicKey]; ok {
				s.Tunnels[i].Peers[j].LastHandshake = at
			}
		}
	}
}

// setEndpoints records, for the peers of tunnel in eps, the profile
// endpoint their address comes from and, when the handshake gate switched,
// the addresses it tried. dev, if not nil, is the device as read after the
// gate: its endpoints are the kernel's, which a handshake may have changed
// (WireGuard follows a peer that answers from another address).
func (s *state) setEndpoints(tunnel string, eps map[wgkey.Key]bringup.PeerEndpoint, dev *wg.Device) {
	if len(eps) == 0 {
		return
	}
	kernel := make(map[string]netip.AddrPort)
	if dev != nil {
		for _, p := range dev.Peers {
			kernel[p.PublicKey.String()] = p.Endpoint
		}
	}
	byKey := make(map[string]bringup.PeerEndpoint, len(eps))
	for k, e := range eps {
		byKey[k.String()] = e
	}
	for i := range s.Tunnels {
		if s.Tunnels[i].Name != tunnel {
			continue
		}
		for j := range s.Tunnels[i].Peers {
			p := &s.Tunnels[i].Peers[j]
			e, ok := byKey[p.PublicKey]
			if !ok {
				continue
			}
			from := e.Current.From
			if ep, ok := kernel[p.PublicKey]; ok && ep.IsValid() {
				p.Endpoint = ep.String()
				for _, c := range e.Tried {
					if c.Addr == ep {
						from = c.From
					}
				}
			}
			p.EndpointFrom = from
			p.EndpointsTried = nil
			if len(e.Tried) > 1 {
				for _, c := range e.Tried {
					p.EndpointsTried = append(p.EndpointsTried, c.Addr.String())
				}
			}
		}
	}
}

// writeState writes the state file; a failure is logged, never fatal.
func (b *boot) writeState() {
	s := &b.state
	s.Version = version
	s.Phases = b.r.results
	s.Ready = s.Failure == ""
	if st, err := os.ReadFile("/proc/self/status"); err == nil {
		s.PeakRSSKB = vmHWM(st)
	}
	s.WrittenNS = uptime()
	s.StartUptimeNS = s.WrittenNS - time.Since(b.start)
	data := bootstate.Encode(&s.State)
	err := os.MkdirAll(filepath.Dir(statePath), 0o755)
	if err == nil {
		err = writeFileAtomic(statePath, data, 0o644)
	}
	if err != nil {
		b.log.Warnf("state file %s: %v", statePath, err)
		return
	}
	b.log.Infof("state written to %s (init peak RSS %d KiB)", statePath, s.PeakRSSKB)
}

// uptime is CLOCK_BOOTTIME: the kernel's time since boot, the clock its log
// stamps use.
func uptime() time.Duration {
	var ts unix.Timespec
	if unix.ClockGettime(unix.CLOCK_BOOTTIME, &ts) != nil {
		return 0
	}
	return time.Duration(ts.Nano())
}
