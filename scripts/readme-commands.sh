#!/usr/bin/env bash
# readme-commands.sh runs every command of README.md's shell code blocks
# (```sh, ```bash, ```shell) as written, each from the top directory of a
# fresh clone of this checkout, in the README's order, and fails if any
# fails. The README is a test: a command in it that fails on a fresh clone
# is a bug, and nothing else would notice it.
#
#   scripts/readme-commands.sh          run them all (CI: .ci/run, after make test)
#   scripts/readme-commands.sh -n       list them and what would be skipped
#   scripts/readme-commands.sh REGEX    run only the commands REGEX matches
#
# The clone is of HEAD: commit before running it. It shares this
# checkout's .cache (the kernels `make test` fetched) so that they are not
# downloaded again; README_FRESH_CACHE=1 gives it none, so that the first
# command that needs kernels fetches them as on a new machine. Nothing else
# is shared: out/ starts empty, so `make image RESCUE=1` builds the rescue
# layer from scratch. README_KEEP=1 keeps the clone.
#
# A command runs with bash -c, so a trailing "# comment" is a comment; a
# line ending in "\" continues on the next. A line whose command is a
# placeholder (a bare "...", "X=...", "<version>") fails: write what runs,
# and put placeholders in the prose around the block.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
readme=${README_FILE:-$top/README.md} # README_FILE: another file, to try the extraction (-n)
name=$(basename "$readme")

# Commands that CI does not run from here, each with its reason. Exact
# command text, comment and surrounding blanks removed.
declare -A skip=(
	# .ci/run runs make test just before this script; twice is 5 more
	# minutes for nothing.
	["make test"]="run by .ci/run just before (not twice)"
	# make bench takes 10-15 minutes and is no part of CI. Its quick
	# sibling, when bench/cmd/bootbench has one, belongs in the README and
	# then runs here.
	["make bench"]="10-15 minutes, no part of CI (its quick sibling is allowed)"
)

list=false
filter=
case ${1:-} in
-n) list=true ;;
-h | --help)
	sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'
	exit 0
	;;
*) filter=${1:-} ;;
esac

# extract prints "LINE<TAB>COMMAND" for each command line of the shell
# blocks, continuation lines joined.
extract() {
	awk '
		/^```/ {
			if (inblock) { inblock = 0; next }
			lang = substr($0, 4); sub(/[ \t].*/, "", lang)
			if (lang == "sh" || lang == "bash" || lang == "shell") inblock = 1
			next
		}
		!inblock { next }
		{
			line = $0
			if (cmd == "") start = NR
			if (line ~ /\\$/) { cmd = cmd substr(line, 1, length(line) - 1) " "; next }
			cmd = cmd line
			sub(/^[ \t]+/, "", cmd)
			if (cmd != "" && cmd !~ /^#/) printf "%d\t%s\n", start, cmd
			cmd = ""
		}
	' "$readme"
}

# bare strips a trailing comment and the blanks around a command.
bare() {
	local c=$1
	c=${c%%[[:space:]]#*}
	c=${c%"${c##*[![:space:]]}"}
	printf '%s' "$c"
}

# placeholder reports whether a command holds a placeholder word.
placeholder() {
	local c
	c=$(bare "$1")
	[[ " $c " =~ [[:space:]](\.\.\.|[A-Za-z_]+=\.\.\.)[[:space:]] ]] && return 0
	[[ $c =~ \<[A-Za-z][A-Za-z0-9_-]*\> ]] && return 0
	return 1
}

mapfile -t cmds < <(extract)
if [ ${#cmds[@]} -eq 0 ]; then
	echo "readme: no shell code blocks in $readme" >&2
	exit 1
fi

if $list; then
	for entry in "${cmds[@]}"; do
		line=${entry%%$'\t'*} cmd=${entry#*$'\t'}
		b=$(bare "$cmd")
		if [ -n "${skip[$b]:-}" ]; then
			printf '%s:%s: skip  %s  (%s)\n' "$name" "$line" "$cmd" "${skip[$b]}"
		elif placeholder "$cmd"; then
			printf '%s:%s: FAIL  %s  (a placeholder: not runnable as written)\n' "$name" "$line" "$cmd"
		else
			printf '%s:%s: run   %s\n' "$name" "$line" "$cmd"
		fi
	done
	exit 0
fi

if [ -n "$(git -C "$top" status --porcelain --untracked-files=no)" ]; then
	echo "readme: warning: $top has uncommitted changes; the clone has HEAD only" >&2
fi
work=$(mktemp -d "${TMPDIR:-/tmp}/wgboot-readme.XXXXXX")
cleanup() {
	if [ "${README_KEEP:-}" = 1 ]; then
		echo "readme: clone kept in $work/wgboot"
	else
		rm -rf "$work"
	fi
}
trap cleanup EXIT
git -c advice.detachedHead=false clone --quiet "$top" "$work/wgboot"
clone=$work/wgboot
if [ "${README_FRESH_CACHE:-}" != 1 ] && [ -d "$top/.cache" ]; then
	ln -s "$(cd "$top/.cache" && pwd -P)" "$clone/.cache"
fi
echo "readme: fresh clone of $(git -C "$clone" log -1 --format='%h %s') in $clone"

failed=()
n=0
start_all=$SECONDS
for entry in "${cmds[@]}"; do
	line=${entry%%$'\t'*} cmd=${entry#*$'\t'}
	b=$(bare "$cmd")
	if [ -n "$filter" ] && ! [[ $cmd =~ $filter ]]; then
		continue
	fi
	if [ -n "${skip[$b]:-}" ]; then
		echo "readme: $name:$line: skipped: $cmd  (${skip[$b]})"
		continue
	fi
	if placeholder "$cmd"; then
		echo "readme: $name:$line: FAIL: $cmd: a placeholder, not runnable as written" >&2
		failed+=("$name:$line: $cmd (placeholder)")
		continue
	fi
	n=$((n + 1))
	echo "readme: $name:$line: \$ $cmd"
	t0=$SECONDS
	if (cd "$clone" && bash -c "set -euo pipefail; $cmd") </dev/null; then
		echo "readme: $name:$line: ok in $((SECONDS - t0))s"
	else
		rc=$?
		echo "readme: $name:$line: FAIL (exit $rc) in $((SECONDS - t0))s: $cmd" >&2
		failed+=("$name:$line: $cmd (exit $rc)")
	fi
done

if [ ${#failed[@]} -gt 0 ]; then
	echo "readme: ${#failed[@]} README command(s) failed:" >&2
	printf '  %s\n' "${failed[@]}" >&2
	exit 1
fi
echo "readme: $n README command(s) ran as written in $((SECONDS - start_all))s"
