#!/usr/bin/env bash
# kernels.sh fetches Debian's cloud kernel packages for amd64 and arm64 and
# unpacks them (never installs them) under $CACHE/<arch>/. It keeps a private
# apt state so the host's dpkg architecture list is left untouched.
#
#   CACHE=.cache/kernels scripts/kernels.sh [amd64] [arm64]
#
# Afterwards $CACHE/<arch>/vmlinuz is the kernel and $CACHE/<arch>/modules the
# /lib/modules/<version> tree. Idempotent: an arch whose versioned package is
# already unpacked is skipped.
set -euo pipefail

cache=${CACHE:-.cache/kernels}
arches=("$@")
[ ${#arches[@]} -gt 0 ] || arches=(amd64 arm64)
mkdir -p "$cache"
cache=$(cd "$cache" && pwd)

apt_root=$cache/apt
mkdir -p "$apt_root"/{lists/partial,archives/partial,etc/preferences.d,etc/apt.conf.d}
# Reuse the host's sources; only the architecture list and the state dirs are ours.
cat >"$apt_root/apt.conf" <<CONF
APT::Architectures { "amd64"; "arm64"; };
Dir::State::Lists "$apt_root/lists";
Dir::Cache::Archives "$apt_root/archives";
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
Dir::Etc::preferencesparts "$apt_root/etc/preferences.d";
Debug::NoLocking "true";
APT::Sandbox::User "root";
CONF
export APT_CONFIG=$apt_root/apt.conf

fresh=$(find "$apt_root/lists" -maxdepth 1 -name '*Packages*' -mmin -720 | head -n 1)
if [ -z "$fresh" ]; then
	echo "kernels: apt-get update (private lists for amd64+arm64)"
	apt-get -q update >"$apt_root/update.log" 2>&1 || { cat "$apt_root/update.log"; exit 1; }
fi

for arch in "${arches[@]}"; do
	meta=linux-image-cloud-$arch
	# The metapackage depends on the versioned image package, whose name
	# carries the ABI and changes with security updates: resolve it.
	pkg=$(apt-cache depends "$meta:$arch" 2>/dev/null | awk '/Depends: linux-image-[0-9]/ {sub(/:.*/, "", $2); print $2; exit}')
	[ -n "$pkg" ] || { echo "kernels: cannot resolve $meta for $arch" >&2; exit 1; }
	dest=$cache/$arch
	if [ -f "$dest/.package" ] && [ "$(cat "$dest/.package")" = "$pkg" ]; then
		echo "kernels: $arch: $pkg (cached)"
		continue
	fi
	echo "kernels: $arch: downloading $pkg"
	work=$(mktemp -d)
	(cd "$work" && apt-get -q download "$pkg:$arch" >/dev/null)
	# Newer Debian kernels split modules into a separate package.
	mods_pkg=$(apt-cache depends "$pkg:$arch" 2>/dev/null | awk '/Depends: linux-modules-[0-9]/ {sub(/:.*/, "", $2); print $2; exit}')
	if [ -n "$mods_pkg" ]; then
		(cd "$work" && apt-get -q download "$mods_pkg:$arch" >/dev/null)
	fi
	rm -rf "$dest.new" && mkdir -p "$dest.new/root"
	for deb in "$work"/*.deb; do dpkg-deb -x "$deb" "$dest.new/root"; done
	rm -rf "$work"
	kver=$(ls "$dest.new/root/lib/modules" | head -n 1)
	ln -s "root/boot/vmlinuz-$kver" "$dest.new/vmlinuz"
	ln -s "root/lib/modules/$kver" "$dest.new/modules"
	echo "$kver" >"$dest.new/.version"
	echo "$pkg" >"$dest.new/.package"
	rm -rf "$dest" && mv "$dest.new" "$dest"
	echo "kernels: $arch: $kver unpacked in $dest"
done
