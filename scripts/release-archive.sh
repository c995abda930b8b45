#!/usr/bin/env bash
# Build the krew release archive for this platform and write its sha256 into
# krew-manifest.yaml.
#   bash scripts/release-archive.sh                 # release build, dist/, ./krew-manifest.yaml
#   bash scripts/release-archive.sh --binary B --dist D --manifest M   # package an existing binary (tests)
set -euo pipefail
cd "$(dirname "$0")/.."
binary="" dist="dist" manifest="krew-manifest.yaml"
while [ $# -gt 0 ]; do
  case "$1" in
    --binary) binary=$2; shift 2 ;;
    --dist) dist=$2; shift 2 ;;
    --manifest) manifest=$2; shift 2 ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done
version=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n1)
case "$(uname -s)" in Linux) os=linux ;; Darwin) os=darwin ;; *) echo "unsupported OS" >&2; exit 2 ;; esac
case "$(uname -m)" in x86_64|amd64) arch=amd64 ;; aarch64|arm64) arch=arm64 ;; *) echo "unsupported arch" >&2; exit 2 ;; esac
if [ -z "$binary" ]; then
  cargo build --release --locked --bin kubectl-gitops
  binary=target/release/kubectl-gitops
fi
name="kubectl-gitops-v${version}-${os}-${arch}.tar.gz"
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
cp "$binary" "$stage/kubectl-gitops"
cp LICENSE "$stage/LICENSE"
mkdir -p "$dist"
tar -C "$stage" -czf "$dist/$name" kubectl-gitops LICENSE
tar -tzf "$dist/$name" | grep -x kubectl-gitops >/dev/null
sum=$(sha256sum "$dist/$name" | cut -d' ' -f1)
python3 - "$manifest" "$name" "$sum" "$version" <<'PY'
import re, sys
path, name, sha, version = sys.argv[1:]
lines = open(path).read().split("\n")
found = False
for i, line in enumerate(lines):
    if line.strip().startswith("uri:") and line.rstrip().endswith("/" + name):
        for j in range(i + 1, min(i + 4, len(lines))):
            if lines[j].strip().startswith("sha256:"):
                indent = lines[j][: len(lines[j]) - len(lines[j].lstrip())]
                lines[j] = f'{indent}sha256: "{sha}"'
                found = True
                break
if not found:
    sys.exit(f"{path}: no platform entry with uri ending in /{name} (is spec.version v{version}?)")
open(path, "w").write("\n".join(lines))
PY
echo "$dist/$name sha256 $sum"
