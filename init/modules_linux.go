package main

import (
	"fmt"
	"strings"
	"time"

	"github.com/wgboot/wgboot/internal/kmod"
)

// loadModules loads the profile's modules and their dependencies.
func loadModules(b *boot) error {
	names := b.modules()
	l, err := kmod.New(b.cmdline.modParams)
	if err != nil {
		return err
	}
	res, err := l.LoadAll(names)
	var total time.Duration
	var loaded, already []string
	for _, r := range res {
		total += r.Duration
		if r.Already {
			already = append(already, r.Name)
		} else {
			loaded = append(loaded, r.Name)
		}
	}
	b.log.Infof("modules: loaded %d in %v: %s", len(loaded), total.Round(time.Microsecond), strings.Join(loaded, " "))
	if len(already) > 0 {
		b.log.Debugf("modules: already present: %s", strings.Join(already, " "))
	}
	if err != nil {
		return fmt.Errorf("load %s: %w", strings.Join(names, ","), err)
	}
	return nil
}

// modules returns the module list: the command line's wgboot.modules when
// given, else wireguard.
func (b *boot) modules() []string {
	if v, ok := b.cmdline.get("wgboot.modules"); ok {
		return strings.FieldsFunc(v, func(r rune) bool { return r == ',' })
	}
	return []string{"wireguard"}
}
