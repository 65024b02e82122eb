#!/usr/bin/env bash
# parsecost.sh prices board.Parse + Validate in instructions, for hub
# profiles of 1 to 10,000 peers, on board's own fast path and on the toml
# package's path (bench/cmd/parsecost), for amd64 natively under callgrind
# and, when qemu-aarch64 and a C compiler are there, for arm64 under QEMU
# user mode with a counting plugin (insncount.c). Each figure is the
# program's count minus that of the same program only reading the file.
#
#   bench/scripts/parsecost.sh [N...]      (default: 1 5000 10000)
#
# Needs valgrind; qemu-user and gcc for arm64 (apt-get install valgrind
# qemu-user gcc).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
peers=("$@")
[ ${#peers[@]} -gt 0 ] || peers=(1 5000 10000)
cd "$root"
go run ./bench/cmd/parsecost -write "$work"
arches=(amd64)
CGO_ENABLED=0 GOARCH=amd64 go build -o "$work/parsecost.amd64" ./bench/cmd/parsecost
if command -v qemu-aarch64 >/dev/null && command -v gcc >/dev/null; then
	gcc -shared -fPIC -O2 -o "$work/insncount.so" bench/scripts/insncount.c
	CGO_ENABLED=0 GOARCH=arm64 go build -o "$work/parsecost.arm64" ./bench/cmd/parsecost
	arches+=(arm64)
fi
# count ARCH ARGS... prints the instructions parsecost executes. One
# thread at a time and no preemption signals (callgrind cannot follow
# Go's), so that runs repeat.
count() {
	local arch=$1
	shift
	case $arch in
	amd64)
		GODEBUG=asyncpreemptoff=1 GOMAXPROCS=1 valgrind --tool=callgrind --callgrind-out-file=/dev/null \
			"$work/parsecost.amd64" "$@" 2>&1 | sed -n 's/.*I *refs: *//p' | tr -d , ;;
	arm64)
		GOMAXPROCS=1 qemu-aarch64 -plugin "$work/insncount.so" -d plugin \
			"$work/parsecost.arm64" "$@" 2>&1 >/dev/null | sed -n 's/^insns //p' ;;
	esac
}
printf '| arch | peers | fast path | toml package | ratio |\n|---|---:|---:|---:|---:|\n'
for arch in "${arches[@]}"; do
	for n in "${peers[@]}"; do
		read0=$(count "$arch" -mode read "$work/hub-$n.toml")
		fast=$(( $(count "$arch" -mode parse "$work/hub-$n.toml") - read0 ))
		slow=$(( $(count "$arch" -mode parse "$work/hub-$n-toml.toml") - read0 ))
		awk -v a="$arch" -v n="$n" -v f="$fast" -v s="$slow" \
			'BEGIN { printf "| %s | %d | %.2f M | %.2f M | %.1f× |\n", a, n, f/1e6, s/1e6, s/f }'
	done
done
