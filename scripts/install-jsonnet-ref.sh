#!/usr/bin/env bash
# Installs the reference C++ Jsonnet (PyPI package `jsonnet`, module
# `_jsonnet`) into a virtualenv outside the repository, for the differential
# test (tests/jsonnet_reference.rs) and benches/jsonnet.sh. Idempotent:
# a no-op once the module imports. Prints the interpreter path on success.
# Override the location with KGO_JSONNET_VENV.
set -euo pipefail
VENV="${KGO_JSONNET_VENV:-$HOME/.cache/kubectl-gitops-test/venv-jsonnet}"
VERSION="0.22.0"
if [ -x "$VENV/bin/python" ] && "$VENV/bin/python" -c 'import _jsonnet' 2>/dev/null; then
    echo "$VENV/bin/python"
    exit 0
fi
mkdir -p "$(dirname "$VENV")"
python3 -m venv "$VENV" >&2
# A wheel when PyPI has one for this Python, otherwise the sdist (needs a C++ compiler).
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "jsonnet==$VERSION" >&2
"$VENV/bin/python" -c 'import _jsonnet' >&2
echo "$VENV/bin/python"
