#!/usr/bin/env bash
# Sync and diff at a distance (issue 22): the test API server
# (tests/support/cluster.rs) behind the fault/latency proxy
# (examples/fault-proxy.rs, tests/support/proxy.rs) adding 0, 2 and 10 ms to
# every request, `kubectl gitops` against kubectl in the same run:
# - 1,000 objects in 10 namespaces, the Namespaces part of the set: first
#   sync vs `kubectl apply --server-side`, no-op sync vs the same apply
#   again, no-op diff vs `kubectl diff --server-side`;
# - 10,000 objects in 100 namespaces at 2 ms: the same three, then a sync
#   that prunes 5,000 (half the files removed) vs `kubectl apply
#   --server-side --prune` with a label selector, with peak memory.
# Usage: bash benches/latency.sh   (LATENCIES="0 2 10" BIG=1 by default)
set -euo pipefail
cd "$(dirname "$0")/.."
latencies=${LATENCIES:-"0 2 10"}
big=${BIG:-1}
if [ -z "${NO_BUILD:-}" ]; then
    cargo build --release --quiet --bin kubectl-gitops --example gen_manifests --example test-cluster --example fault-proxy
fi
bin=${CARGO_TARGET_DIR:-target}/release
work=$(mktemp -d)
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT
"$bin/examples/test-cluster" "$work/cluster" > /dev/null &
pids+=($!)
until [ -f "$work/cluster/ready" ]; do sleep 0.5; done

proxy() { # ms -> prints the proxy's kubeconfig path
    "$bin/examples/fault-proxy" "$work/cluster" "$1" "$work/proxy-$1.kubeconfig" > /dev/null &
    pids+=($!)
    until [ -f "$work/proxy-$1.kubeconfig" ]; do sleep 0.1; done
}

copy() { # source prefix dest namespaces: the generated set with its Namespaces, renamed
    mkdir -p "$3"
    for i in $(seq 0 $(($4 - 1))); do
        printf 'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: %s-%s\n---\n' "$2" "$i"
    done > "$3/00-namespaces.yaml"
    for f in "$1"/*.yaml; do sed "s/namespace: bench-/namespace: $2-/" "$f" > "$3/$(basename "$f")"; done
}

# label ms command...: wall time and peak RSS of one run; `diff` exits 1 on differences.
run() {
    local label=$1 ms=$2; shift 2
    local start end rc=0
    start=$(date +%s%N)
    /usr/bin/time -f '%M' -o "$work/rss" "$@" > "$work/out.txt" 2> "$work/err.txt" || rc=$?
    end=$(date +%s%N)
    if [ "$rc" -gt 1 ]; then cat "$work/err.txt" >&2; exit 1; fi
    printf '| %s ms | %-44s | %7.2f s | %6d MB |\n' "$ms" "$label" \
        "$(echo "($end - $start) / 1000000000" | bc -l)" "$(( $(tail -1 "$work/rss") / 1024 ))"
}

echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "| latency | run | wall | peak RSS |"
echo "| --- | --- | --- | --- |"
"$bin/examples/gen_manifests" "$work/gen1k" 1000 10 > /dev/null
for ms in $latencies; do
    proxy "$ms"
    kc=$work/proxy-$ms.kubeconfig
    copy "$work/gen1k" "g$ms" "$work/g$ms" 10
    copy "$work/gen1k" "k$ms" "$work/k$ms" 10
    g=("$bin/kubectl-gitops")
    k=(kubectl --kubeconfig "$kc")
    run "1k: kubectl-gitops sync (first)" "$ms" "${g[@]}" sync "$work/g$ms" --name "g$ms" -n default --kubeconfig "$kc"
    run "1k: kubectl apply --server-side (first)" "$ms" "${k[@]}" apply --server-side -f "$work/k$ms"
    run "1k: kubectl-gitops sync (no-op)" "$ms" "${g[@]}" sync "$work/g$ms" --name "g$ms" -n default --kubeconfig "$kc"
    run "1k: kubectl apply --server-side (no-op)" "$ms" "${k[@]}" apply --server-side -f "$work/k$ms"
    run "1k: kubectl-gitops diff (no-op)" "$ms" "${g[@]}" diff "$work/g$ms" --name "g$ms" -n default --kubeconfig "$kc"
    run "1k: kubectl diff --server-side (no-op)" "$ms" "${k[@]}" diff --server-side -f "$work/k$ms"
done

if [ "$big" = 1 ]; then
    ms=2
    [ -f "$work/proxy-$ms.kubeconfig" ] || proxy "$ms"
    kc=$work/proxy-$ms.kubeconfig
    "$bin/examples/gen_manifests" "$work/gen10k" 10000 100 > /dev/null
    copy "$work/gen10k" big "$work/big" 100
    copy "$work/gen10k" kbig "$work/kbig" 100
    # kubectl's prune needs a label on every object it may delete.
    for f in "$work"/kbig/manifests-*.yaml; do
        sed -i 's/^  annotations:$/  labels:\n    kbench: "1"\n  annotations:/' "$f"
    done
    g=("$bin/kubectl-gitops")
    k=(kubectl --kubeconfig "$kc")
    run "10k: kubectl-gitops sync (first)" "$ms" "${g[@]}" sync "$work/big" --name big -n default --kubeconfig "$kc"
    run "10k: kubectl apply --server-side (first)" "$ms" "${k[@]}" apply --server-side -f "$work/kbig"
    run "10k: kubectl-gitops sync (no-op)" "$ms" "${g[@]}" sync "$work/big" --name big -n default --kubeconfig "$kc"
    run "10k: kubectl apply --server-side (no-op)" "$ms" "${k[@]}" apply --server-side -f "$work/kbig"
    run "10k: kubectl-gitops diff (no-op)" "$ms" "${g[@]}" diff "$work/big" --name big -n default --kubeconfig "$kc"
    run "10k: kubectl diff --server-side (no-op)" "$ms" "${k[@]}" diff --server-side -f "$work/kbig"
    # Half the files (5,000 objects) leave the set.
    rm "$work"/big/manifests-0[0-4]?.yaml "$work"/kbig/manifests-0[0-4]?.yaml
    run "10k: kubectl-gitops sync --prune (5,000)" "$ms" "${g[@]}" sync "$work/big" --name big -n default --prune --yes --confirm-mass-prune --kubeconfig "$kc"
    run "10k: kubectl apply --server-side --prune (5,000)" "$ms" "${k[@]}" apply --server-side --prune -l kbench=1 -f "$work/kbig"
fi
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
