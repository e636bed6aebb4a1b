#!/usr/bin/env bash
# Files of a Go module at a pinned version (a project's CRDs, the source that defines them),
# copied into .tools/crds/MODULE@VERSION/PATH, so that examples can be checked against what
# that version really accepts. The module comes through the Go module proxy and is checked
# against the checksum database, as `go mod download` fetches any module.
#
#   scripts/crds.sh github.com/fluxcd/flagger@v1.36.1 artifacts/flagger/crd.yaml
#
# prints the path of each file it provides. Files already there are not fetched again (the
# version pins their content). Exit 2 on a usage error, 3 when Go is needed and missing.
set -euo pipefail

if [ $# -lt 2 ] || [[ "$1" != *@v* ]]; then
	echo "usage: $0 MODULE@VERSION PATH..." >&2
	echo "  e.g. $0 github.com/fluxcd/flagger@v1.36.1 artifacts/flagger/crd.yaml" >&2
	exit 2
fi
module_version=$1
shift
go=${GO:-go}
root=$(cd "$(dirname "$0")/.." && pwd)
dest=$root/.tools/crds/$module_version

missing=()
for path in "$@"; do
	case $path in
	/* | *..*)
		echo "$0: $path: give a path inside the module, without '..'" >&2
		exit 2
		;;
	esac
	[ -f "$dest/$path" ] || missing+=("$path")
done

if [ ${#missing[@]} -gt 0 ]; then
	if ! command -v "$go" >/dev/null 2>&1; then
		echo "$0: fetching $module_version needs Go ($go is not on PATH)" >&2
		exit 3
	fi
	# Outside any module, so that no go.mod around is read or changed.
	work=$(mktemp -d)
	trap 'rm -rf "$work"' EXIT
	info=$(cd "$work" && GOFLAGS=-mod=mod "$go" mod download -json "$module_version")
	dir=$(printf '%s\n' "$info" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p')
	if [ -z "$dir" ] || [ ! -d "$dir" ]; then
		echo "$0: go mod download gave no module directory for $module_version:" >&2
		printf '%s\n' "$info" >&2
		exit 1
	fi
	for path in "${missing[@]}"; do
		if [ ! -f "$dir/$path" ]; then
			echo "$0: $module_version has no file $path" >&2
			exit 1
		fi
		# The module cache is read-only; the copy is a plain file.
		install -D -m 0644 "$dir/$path" "$dest/$path"
	done
fi

for path in "$@"; do
	echo "$dest/$path"
done
