#!/usr/bin/env bash
# Installs what the cluster tests need and builds kube-apiserver and
# kube-controller-manager from Debian's `kubernetes` source package (1.20.2).
# Binaries are cached outside the repo and reused:
#   ${KUBECTL_GITOPS_TEST_CACHE:-$HOME/.cache/kubectl-gitops-test}/bin
# Idempotent: a second run with the binaries present only checks packages.
set -euo pipefail

CACHE="${KUBECTL_GITOPS_TEST_CACHE:-$HOME/.cache/kubectl-gitops-test}"
BIN="$CACHE/bin"
mkdir -p "$BIN"

log() { echo "[install-test-cluster] $*" >&2; }

need_pkgs=()
command -v etcd >/dev/null 2>&1 || [ -x /usr/bin/etcd ] || need_pkgs+=(etcd-server)
command -v jq >/dev/null 2>&1 || need_pkgs+=(jq)
command -v rsync >/dev/null 2>&1 || need_pkgs+=(rsync)
command -v openssl >/dev/null 2>&1 || need_pkgs+=(openssl)
if [ ! -x "$BIN/kube-apiserver" ] || [ ! -x "$BIN/kube-controller-manager" ]; then
  [ -x /usr/lib/go-1.19/bin/go ] || need_pkgs+=(golang-1.19-go)
  command -v make >/dev/null 2>&1 || need_pkgs+=(make)
  command -v dpkg-source >/dev/null 2>&1 || need_pkgs+=(dpkg-dev)
fi

if [ ${#need_pkgs[@]} -gt 0 ]; then
  log "installing ${need_pkgs[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq "${need_pkgs[@]}" >&2
fi

if [ -x "$BIN/kube-apiserver" ] && [ -x "$BIN/kube-controller-manager" ]; then
  log "binaries present in $BIN"
  exit 0
fi

# A deb-src entry mirroring the machine's Debian sources (deb822 format).
SRCLIST=/etc/apt/sources.list.d/kubectl-gitops-debsrc.sources
if [ ! -f "$SRCLIST" ]; then
  main_src=$(grep -l '^URIs: .*debian$' /etc/apt/sources.list.d/*.sources 2>/dev/null | head -n1 || true)
  if [ -n "$main_src" ]; then
    awk 'BEGIN{p=0} /^Types:/{ if (p) exit; p=1 } p' "$main_src" \
      | sed 's/^Types: .*/Types: deb-src/' > "$SRCLIST"
  else
    cat > "$SRCLIST" <<SRC
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: bookworm
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
  fi
  apt-get update -qq >&2
fi

WORK="$CACHE/src"
mkdir -p "$WORK"
cd "$WORK"
if ! ls -d kubernetes-*/ >/dev/null 2>&1; then
  log "fetching the kubernetes source package"
  apt-get source -qq kubernetes >&2
fi
SRC=$(ls -d "$WORK"/kubernetes-*/ | head -n1)
SRC=${SRC%/}
cd "$SRC"
mkdir -p .go/src/k8s.io
[ -e .go/src/k8s.io/kubernetes ] || ln -s "$SRC" .go/src/k8s.io/kubernetes
export GOPATH="$SRC/.go" CGO_ENABLED=0 GO111MODULE=off
export PATH="/usr/lib/go-1.19/bin:$PATH"
export GOCACHE="$CACHE/gocache"
cd "$SRC/.go/src/k8s.io/kubernetes"
log "building kube-apiserver and kube-controller-manager (several minutes)"
make WHAT="cmd/kube-apiserver cmd/kube-controller-manager" >&2
cp _output/local/bin/linux/amd64/kube-apiserver _output/local/bin/linux/amd64/kube-controller-manager "$BIN/"
log "binaries installed in $BIN"
