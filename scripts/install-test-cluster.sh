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
# Bump when the build changes, so cached binaries of an older build are rebuilt.
STAMP_VALUE="1.20.2 reflect2-go1.18-fix-2"
STAMP="$BIN/build-stamp"
built() {
  [ -x "$BIN/kube-apiserver" ] && [ -x "$BIN/kube-controller-manager" ] \
    && [ "$(cat "$STAMP" 2>/dev/null)" = "$STAMP_VALUE" ]
}

log() { echo "[install-test-cluster] $*" >&2; }

need_pkgs=()
command -v etcd >/dev/null 2>&1 || [ -x /usr/bin/etcd ] || need_pkgs+=(etcd-server)
command -v jq >/dev/null 2>&1 || need_pkgs+=(jq)
command -v rsync >/dev/null 2>&1 || need_pkgs+=(rsync)
command -v openssl >/dev/null 2>&1 || need_pkgs+=(openssl)
if ! built; then
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

if built; then
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
# The vendored github.com/modern-go/reflect2 v1.0.1 links to
# reflect.mapiterinit with its pre-Go-1.18 signature (it returned the
# iterator; since 1.18 the caller passes one in). Built with Go 1.19, every
# map that json-iterator encodes then reads a garbage pointer and the API
# server dies with "fatal error: fault" under load. Use the new signature,
# as reflect2 v1.0.2 does, and give its `hiter` the runtime's full layout
# (v1.0.1 declares only the first two fields, too small to pass in).
R2=vendor/github.com/modern-go/reflect2
if ! grep -q checkBucket "$R2/unsafe_link.go"; then
  grep -q '// rest fields are ignored' "$R2/unsafe_link.go"
  sed -i 's|^\t// rest fields are ignored$|\tt           unsafe.Pointer\n\th           unsafe.Pointer\n\tbuckets     unsafe.Pointer\n\tbptr        unsafe.Pointer\n\toverflow    unsafe.Pointer\n\toldoverflow unsafe.Pointer\n\tstartBucket uintptr\n\toffset      uint8\n\twrapped     bool\n\tB           uint8\n\ti           uint8\n\tbucket      uintptr\n\tcheckBucket uintptr|' "$R2/unsafe_link.go"
  grep -q checkBucket "$R2/unsafe_link.go"
fi
if ! grep -q newHiter "$R2/unsafe_map.go"; then
  log "patching vendored reflect2 for Go >= 1.18"
  sed -i 's|^func mapiterinit(rtype unsafe.Pointer, m unsafe.Pointer) \*hiter$|func mapiterinit(rtype unsafe.Pointer, m unsafe.Pointer, it *hiter)|' "$R2/unsafe_link.go"
  grep -q 'm unsafe.Pointer, it \*hiter)$' "$R2/unsafe_link.go"
  sed -i 's|hiter:      mapiterinit(type2.rtype, \*(\*unsafe.Pointer)(obj)),|hiter:      newHiter(type2.rtype, *(*unsafe.Pointer)(obj)),|' "$R2/unsafe_map.go"
  grep -q 'hiter:      newHiter(' "$R2/unsafe_map.go"
  cat >> "$R2/unsafe_map.go" <<'GO'

// newHiter starts a map iteration (Go >= 1.18: the caller allocates the iterator).
func newHiter(rtype unsafe.Pointer, m unsafe.Pointer) *hiter {
	it := new(hiter)
	mapiterinit(rtype, m, it)
	return it
}
GO
fi
mkdir -p .go/src/k8s.io
[ -e .go/src/k8s.io/kubernetes ] || ln -s "$SRC" .go/src/k8s.io/kubernetes
export GOPATH="$SRC/.go" CGO_ENABLED=0 GO111MODULE=off
export PATH="/usr/lib/go-1.19/bin:$PATH"
export GOCACHE="$CACHE/gocache"
cd "$SRC/.go/src/k8s.io/kubernetes"
log "building kube-apiserver and kube-controller-manager (several minutes)"
make WHAT="cmd/kube-apiserver cmd/kube-controller-manager" >&2
# Copy then rename: a running test cluster keeps its (old) executables.
for b in kube-apiserver kube-controller-manager; do
  cp "_output/local/bin/linux/amd64/$b" "$BIN/.$b.new"
  mv -f "$BIN/.$b.new" "$BIN/$b"
done
echo "$STAMP_VALUE" > "$STAMP"
log "binaries installed in $BIN"
