#!/usr/bin/env bash
# The embedded engine's library, opa-golib-python-bindings, built from its own source
# distribution against the OPA the project pins, and installed with the given pip.
#
#   scripts/opa_bindings.sh 0.4.4 1.22.3 .venv/bin/pip [TARGET_DIR]
#
# The wheel on the package index is built against an older OPA (0.4.4: v1.20.2), whose
# evaluator takes about 1.6x as long on the promotion decision as v1.22.3's (bench/engine.py).
# Building the same bridge against the pinned OPA makes the embedded engine, the `opa` binary
# and the OPA server backend one OPA version. Needs Go (the bridge is a Go c-shared library);
# exit 2 on a usage error, 3 when Go is missing. With TARGET_DIR, the package is installed
# there (pip --target) instead of into pip's environment.
set -euo pipefail

if [ $# -lt 3 ]; then
	echo "usage: $0 BINDINGS_VERSION OPA_VERSION PIP [TARGET_DIR]" >&2
	exit 2
fi
bindings=$1
opa=$2
pip=$3
target=${4:-}
go=${GO:-go}
if ! command -v "$go" >/dev/null 2>&1; then
	echo "$0: no Go toolchain ($go): the bridge cannot be built against OPA $opa" >&2
	exit 3
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$pip" download --quiet --no-deps --no-binary :all: --ignore-requires-python \
	"opa-golib-python-bindings==$bindings" -d "$work"
tar -xzf "$work/opa_golib_python_bindings-$bindings.tar.gz" -C "$work"
src=$work/opa_golib_python_bindings-$bindings
if ! (cd "$src/go" && GOFLAGS=-mod=mod "$go" get "github.com/open-policy-agent/opa@v$opa" \
	&& GOFLAGS=-mod=mod "$go" mod tidy) >"$work/go.log" 2>&1; then
	cat "$work/go.log" >&2
	exit 1
fi
echo "opa-golib-python-bindings $bindings: building its bridge against OPA $opa" \
	"with $("$go" version) (a few minutes the first time)"
if [ -n "$target" ]; then
	"$pip" install --quiet --no-deps --ignore-requires-python --upgrade --target "$target" "$src"
else
	"$pip" install --quiet --no-deps --ignore-requires-python --force-reinstall "$src"
fi
