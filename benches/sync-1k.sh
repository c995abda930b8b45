#!/usr/bin/env bash
# First sync and no-op re-sync of 1,000 generated objects (Deployments,
# Services, ConfigMaps, Secrets, ServiceAccounts, Roles) in 10 namespaces:
# `kubectl gitops sync` vs `kubectl apply --server-side` on the same files
# (namespaces renamed), against the same test API server
# (tests/support/cluster.rs), one run each.
# Usage: bash benches/sync-1k.sh [COUNT]
set -euo pipefail
cd "$(dirname "$0")/.."
count=${1:-1000}
cargo build --release --quiet --bin kubectl-gitops --example gen_manifests --example test-cluster
bin=${CARGO_TARGET_DIR:-target}/release
work=$(mktemp -d)
"$bin/examples/test-cluster" "$work/cluster" > /dev/null &
cluster_pid=$!
trap 'kill $cluster_pid 2>/dev/null; wait $cluster_pid 2>/dev/null || true; rm -rf "$work"' EXIT
until [ -f "$work/cluster/ready" ]; do sleep 0.5; done
export KUBECONFIG=$work/cluster/kubeconfig

"$bin/examples/gen_manifests" "$work/ours" "$count" > /dev/null
mkdir "$work/theirs" "$work/phases"
for f in "$work"/ours/*.yaml; do
    sed 's/namespace: bench-/namespace: kbench-/' "$f" > "$work/theirs/$(basename "$f")"
    sed 's/namespace: bench-/namespace: pbench-/' "$f" > "$work/phases/$(basename "$f")"
done
for i in $(seq 0 9); do
    for p in bench kbench pbench; do kubectl create namespace "$p-$i" > /dev/null; done
done
echo "input: $(cat "$work"/ours/*.yaml | grep -c '^kind:') objects in 10 namespaces, $(ls "$work/ours" | wc -l) files"

run() { # label, command...
    local label=$1; shift
    local start end
    start=$(date +%s%N)
    "$@" > "$work/out.txt" 2> "$work/err.txt" || { cat "$work/err.txt" >&2; exit 1; }
    end=$(date +%s%N)
    printf '%-40s %8.2f s   %s\n' "$label" "$(echo "($end - $start) / 1000000000" | bc -l)" "$(tail -1 "$work/out.txt" | cut -c1-90)"
}
run "kubectl-gitops sync (first)" "$bin/kubectl-gitops" sync "$work/ours" --name bench -n bench-0
run "kubectl-gitops sync (no-op)" "$bin/kubectl-gitops" sync "$work/ours" --name bench -n bench-0
run "kubectl apply --server-side (first)" kubectl apply --server-side -f "$work/theirs"
run "kubectl apply --server-side (no-op)" kubectl apply --server-side -f "$work/theirs"

# Where a first sync's time goes (a third copy): the preflight (a dry-run
# of every object) and the writes (one apply per object), from -vv's clock.
RUST_LOG=kubectl_gitops=debug "$bin/kubectl-gitops" -vv sync "$work/phases" --name phases -n pbench-0 2>&1 >/dev/null |
    awk '/sync: discovered/ {d=$1} /sync: preflight done/ {p=$1} /sync: writes done/ {w=$1}
         END {printf "first sync phases: preflight dry-runs %.2f s, applies %.2f s\n", p-d, w-p}'
