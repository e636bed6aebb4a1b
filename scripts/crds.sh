#!/usr/bin/env bash
# Copies files out of a Go module, fetched through the Go module proxy and checked against the
# checksum database by `go mod download`, into .tools/crds/MODULE@VERSION/PATH.
#   bash scripts/crds.sh github.com/argoproj/argo-rollouts@v1.10.1 manifests/crds/rollout-crd.yaml
set -euo pipefail
if [ $# -lt 2 ]; then
	echo "usage: bash scripts/crds.sh MODULE@VERSION PATH..." >&2
	exit 2
fi
module=$1
shift
cd "$(dirname "$0")/.."
# GOFLAGS=-mod=mod: resolve the module on its own, outside any go.mod of the working directory.
dir=$(GOFLAGS=-mod=mod go mod download -json "$module" |
	python3 -c 'import json, sys; d = json.load(sys.stdin); print(d.get("Dir") or sys.exit("go mod download: " + d.get("Error", "no Dir")))')
for path in "$@"; do
	target=".tools/crds/$module/$path"
	mkdir -p "$(dirname "$target")"
	cp "$dir/$path" "$target"
	chmod u+w "$target"
	echo "$target"
done
