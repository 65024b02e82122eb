#!/usr/bin/env bash
# deps.sh installs the Debian packages that building images and running the
# QEMU tests and the wg-quick reference tests need, when any is missing.
# Needs root (or sudo).
set -euo pipefail
need=()
command -v qemu-system-x86_64 >/dev/null || need+=(qemu-system-x86)
command -v qemu-system-aarch64 >/dev/null || need+=(qemu-system-arm)
command -v xz >/dev/null || need+=(xz-utils)
command -v zstd >/dev/null || need+=(zstd)
command -v mke2fs >/dev/null || need+=(e2fsprogs)
command -v mkfs.vfat >/dev/null || need+=(dosfstools) # the fleet tests' vfat partitions
command -v sfdisk >/dev/null || need+=(fdisk)        # checks the GPT writer of image/
command -v file >/dev/null || need+=(file)
command -v ip >/dev/null || need+=(iproute2)
command -v strace >/dev/null || need+=(strace)
command -v dpkg-deb >/dev/null || need+=(dpkg)
# The reference for `wgboot import` (internal/cli TestImportReference).
command -v wg-quick >/dev/null || need+=(wireguard-tools)
command -v unshare >/dev/null || need+=(util-linux)
# The DHCP tests' server, and the real resolver the DNS client's
# integration test asks.
command -v dnsmasq >/dev/null || [ -x /usr/sbin/dnsmasq ] || need+=(dnsmasq-base)
[ ${#need[@]} -eq 0 ] && exit 0
sudo=
[ "$(id -u)" -eq 0 ] || sudo=sudo
echo "deps: installing ${need[*]}"
$sudo apt-get -q update
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${need[@]}"
