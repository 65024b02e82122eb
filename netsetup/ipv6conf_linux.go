package netsetup

import (
	"fmt"
	"os"
	"strconv"
	"strings"
)

// SetIPv6Conf sets one of the link's IPv6 settings, the file
// /proc/sys/net/ipv6/conf/LINK/KEY, as `sysctl net.ipv6.conf.LINK.KEY=V`
// does, in the network namespace of the calling thread. Router
// advertisements (accept_ra, autoconf, accept_ra_defrtr,
// accept_ra_pinfo) and duplicate address detection (accept_dad) have no
// rtnetlink request: the kernel takes them only here. Set them before the
// link comes up: it solicits routers once, when it does.
func SetIPv6Conf(link, key string, value int) error {
	path, err := ipv6ConfPath(link, key)
	if err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		// No such directory: no such link, or a kernel without IPv6.
		return fmt.Errorf("set %s: %w", path, err)
	}
	_, err = f.WriteString(strconv.Itoa(value) + "\n")
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("set %s = %d: %w", path, value, err)
	}
	return nil
}

// IPv6Conf reads one of the link's IPv6 settings (see SetIPv6Conf), so
// that a caller can put back what it changes.
func IPv6Conf(link, key string) (int, error) {
	path, err := ipv6ConfPath(link, key)
	if err != nil {
		return 0, err
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, fmt.Errorf("read %s: %w", path, err)
	}
	v, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		return 0, fmt.Errorf("read %s: %w", path, err)
	}
	return v, nil
}

// ipv6ConfPath is the file of a link's IPv6 setting.
func ipv6ConfPath(link, key string) (string, error) {
	if err := ValidateLinkName(link); err != nil {
		return "", err
	}
	if key == "" || key == "." || key == ".." || strings.ContainsRune(key, '/') {
		return "", fmt.Errorf("ipv6 setting %q: not a name", key)
	}
	return "/proc/sys/net/ipv6/conf/" + link + "/" + key, nil
}
