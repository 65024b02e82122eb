#!/usr/bin/env bash
# initat.sh builds /init as `make build` does, from another commit of this
# repository, into DIR/<arch>/init: an older build for bootbench's -variant
# (e.g. before and after a change, measured in the same run).
#
#   bench/scripts/initat.sh COMMIT DIR [ARCH...]     (ARCH: amd64 arm64 by default)
#
# The commit's tree is exported with git archive into a scratch directory
# (this checkout is not touched) and built with the module cache as it is.
set -euo pipefail
[ $# -ge 2 ] || { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2; exit 2; }
commit=$1 dir=$2
shift 2
arches=("${@:-amd64}")
[ $# -gt 0 ] || arches=(amd64 arm64)
top=$(cd "$(dirname "$0")/../.." && pwd)
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
src=$(mktemp -d "${TMPDIR:-/tmp}/wgboot-initat.XXXXXX")
trap 'rm -rf "$src"' EXIT
git -C "$top" archive "$commit" | tar -x -C "$src"
rev=$(git -C "$top" rev-parse --short "$commit")
for a in "${arches[@]}"; do
	mkdir -p "$dir/$a"
	(cd "$src" && CGO_ENABLED=0 GOOS=linux GOAMD64=v1 GOARM64=v8.0 GOARCH=$a \
		go build -trimpath -ldflags="-s -w -X main.version=$rev" -o "$dir/$a/init" ./init)
	echo "initat: $dir/$a/init ($rev, $(stat -c %s "$dir/$a/init") bytes)"
done
