#!/usr/bin/env bash
# debs.sh downloads (never installs) what the wg-quick-style baseline image
# needs for one guest architecture — busybox-static, iproute2,
# wireguard-tools and the libraries they depend on — with the private apt
# state of `make kernels`, and unpacks them under $DEST (default
# .cache/bench/wgquick/<arch>). The bench driver picks the binaries and
# their ELF closure (interpreter + NEEDED, recursively) out of that tree.
#
#   bench/scripts/debs.sh amd64|arm64
set -euo pipefail
arch=${1:?arch}
root=$(cd "$(dirname "$0")/../.." && pwd)
kernels=${WGBOOT_KERNELS:-$root/.cache/kernels}
[ -f "$kernels/apt/apt.conf" ] || { echo "debs: no private apt state; run make kernels" >&2; exit 1; }
export APT_CONFIG=$kernels/apt/apt.conf
dest=${DEST:-$root/.cache/bench/wgquick/$arch}
tools=(busybox-static iproute2 wireguard-tools)
if [ -f "$dest/.packages" ]; then
	exit 0
fi
# The tools and every library package below them; the ELF closure later
# takes only the files that are really needed.
mapfile -t pkgs < <(
	{
		printf '%s\n' "${tools[@]}"
		apt-cache depends --recurse --no-recommends --no-suggests --no-conflicts \
			--no-breaks --no-replaces --no-enhances "${tools[@]/%/:$arch}" 2>/dev/null |
			grep -v '^ ' | grep -v '^<' | sed 's/:.*//' | grep -E '^(lib|zlib1g)'
	} | sort -u)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# Architecture: all packages (libtirpc-common) have no <name>:<arch> candidate.
mapfile -t indep < <(apt-cache show --no-all-versions "${pkgs[@]}" 2>/dev/null |
	awk '/^Package:/ {p=$2} /^Architecture: all/ {print p}')
want=()
for p in "${pkgs[@]}"; do
	if printf '%s\n' "${indep[@]}" | grep -qx "$p"; then want+=("$p"); else want+=("$p:$arch"); fi
done
(cd "$work" && apt-get -q download "${want[@]}" >/dev/null)
rm -rf "$dest.new" && mkdir -p "$dest.new"
for deb in "$work"/*.deb; do dpkg-deb -x "$deb" "$dest.new"; done
(cd "$work" && ls *.deb) >"$dest.new/.packages"
rm -rf "$dest" && mv "$dest.new" "$dest"
echo "debs: $arch: $(wc -l <"$dest/.packages") packages unpacked in $dest"
