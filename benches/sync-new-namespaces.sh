#!/usr/bin/env bash
# First sync of a set that creates its own namespaces (issue 17): 1,000
# generated objects (benches/gen.rs) plus their 10 Namespaces, 1,010 objects,
# against the same test API server (tests/support/cluster.rs), one run each:
#   new   - `kubectl gitops sync`, the 10 Namespaces created by the set
#   pre   - `kubectl gitops sync` of the same set, its Namespaces created
#           beforehand with `kubectl create namespace`
#   kubectl - `kubectl apply --server-side` of the same files, Namespaces
#           in the first file (kubectl applies in file order)
# Each copy uses its own namespace prefix. The API server's 404 count
# (apiserver_request_total) is printed for each run.
# Usage: bash benches/sync-new-namespaces.sh [ROUNDS]   (NO_BUILD=1: use target/release as built)
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-1}
if [ -z "${NO_BUILD:-}" ]; then
    cargo build --release --quiet --bin kubectl-gitops --example gen_manifests --example test-cluster
fi
bin=${CARGO_TARGET_DIR:-target}/release
work=$(mktemp -d)
"$bin/examples/test-cluster" "$work/cluster" > /dev/null &
cluster_pid=$!
trap 'kill $cluster_pid 2>/dev/null; wait $cluster_pid 2>/dev/null || true; rm -rf "$work"' EXIT
until [ -f "$work/cluster/ready" ]; do sleep 0.5; done
export KUBECONFIG=$work/cluster/kubeconfig
kubectl create namespace home > /dev/null

"$bin/examples/gen_manifests" "$work/gen" 1000 > /dev/null
copy() { # prefix dir
    mkdir -p "$2"
    for i in $(seq 0 9); do printf 'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: %s-%s\n---\n' "$1" "$i"; done > "$2/00-namespaces.yaml"
    for f in "$work"/gen/*.yaml; do sed "s/namespace: bench-/namespace: $1-/" "$f" > "$2/$(basename "$f")"; done
}
not_found() {
    kubectl get --raw /metrics | awk '/^apiserver_request_total\{/ && /code="404"/ {s += $NF} END {printf "%d", s}'
}
run() { # label, command...
    local label=$1; shift
    local start end n0
    n0=$(not_found)
    start=$(date +%s%N)
    "$@" > "$work/out.txt" 2> "$work/err.txt" || { cat "$work/err.txt" >&2; exit 1; }
    end=$(date +%s%N)
    printf '%-48s %6.2f s   404s: %5d   %s\n' "$label" "$(echo "($end - $start) / 1000000000" | bc -l)" \
        "$(( $(not_found) - n0 ))" "$(tail -1 "$work/out.txt" | cut -c1-70)"
}
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
for r in $(seq 1 "$rounds"); do
    copy "new$r" "$work/new$r"
    copy "pre$r" "$work/pre$r"
    copy "kub$r" "$work/kub$r"
    echo "round $r: $(cat "$work/new$r"/*.yaml | grep -c '^kind:') objects, $(ls "$work/new$r" | wc -l) files"
    run "kubectl-gitops sync, set creates namespaces" "$bin/kubectl-gitops" sync "$work/new$r" --name "new$r" -n home
    for i in $(seq 0 9); do kubectl create namespace "pre$r-$i" > /dev/null; done
    run "kubectl-gitops sync, namespaces pre-created" "$bin/kubectl-gitops" sync "$work/pre$r" --name "pre$r" -n home
    run "kubectl apply --server-side" kubectl apply --server-side -f "$work/kub$r"
done
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
