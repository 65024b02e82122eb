#!/usr/bin/env bash
# run.sh benchmarks configuring 1, 100, 1,000 and 10,000 WireGuard peers in
# one QEMU guest: wgboot vs Debian's `wg setconf` vs wgctrl-go.
#
#   bench/wgpeers/run.sh [amd64|arm64]      (WGBENCH_ARGS="-runs=5 -n=1,100,1000,10000")
#
# With WGBENCH_ICOUNT=1 the guest runs under QEMU's -icount
# shift=0,sleep=off and the table is in instruction time
# (out/bench/wgpeers-<arch>-icount.md). WGBENCH_OUT: another file for the
# table. wgbench is built with /init's compiler flags (image/initflags.txt),
# as the "wgboot as /init" column's goal (issue 11: 10,000 peers in no more
# than wg setconf's time) is about /init as it is built; WGBENCH_INITFLAGS=0
# builds it with the default flags.
#
# It downloads (never installs) wireguard-tools and libc6 for the guest
# architecture with the private apt state of `make kernels`, unpacks them
# under .cache/bench/<arch>, then runs TestBenchPeers, which prints the table
# and writes it to out/bench/wgpeers-<arch>[-icount].md.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
arch=${1:-amd64}
kernels=${WGBOOT_KERNELS:-$root/.cache/kernels}
[ -f "$kernels/apt/apt.conf" ] || (cd "$root" && make kernels)
export APT_CONFIG=$kernels/apt/apt.conf

deb_root=$root/.cache/bench/$arch
if [ ! -x "$deb_root/usr/bin/wg" ]; then
	work=$(mktemp -d)
	(cd "$work" && apt-get -q download "wireguard-tools:$arch" "libc6:$arch" >/dev/null)
	rm -rf "$deb_root" && mkdir -p "$deb_root"
	for deb in "$work"/*.deb; do dpkg-deb -x "$deb" "$deb_root"; done
	rm -rf "$work"
fi
mkdir -p "$root/out/bench"
cd "$here"
WGBOOT_BENCH=1 WGBENCH_INITFLAGS=${WGBENCH_INITFLAGS:-1} WGBENCH_ARCH=$arch WGBENCH_ROOT=$deb_root WGBOOT_KERNELS=$kernels \
	WGBENCH_OUT=${WGBENCH_OUT:-$root/out/bench/wgpeers-$arch${WGBENCH_ICOUNT:+-icount}.md} GOFLAGS=-mod=mod \
	go test -count=1 -timeout 120m -run TestBenchPeers -v . | grep -v '^=== '
