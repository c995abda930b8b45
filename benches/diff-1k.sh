#!/usr/bin/env bash
# Benchmark: no-op `kubectl gitops diff` of 1,000 objects in 10 namespaces
# vs `kubectl diff --server-side` on the same files, same test cluster, one
# run each (BENCHMARKS.md, "## Diff").
#
#   bash benches/diff-1k.sh
#
# Two scenarios, 1,000 objects each (per namespace: 40 ConfigMaps, 30
# Services, 30 Deployments):
#   A: applied with `kubectl apply --server-side --field-manager=kubectl-gitops`
#      (what our sync does): our managed fields prove most objects unchanged.
#   B: applied with plain `kubectl apply --server-side` (manager `kubectl`):
#      every object needs a server-side dry-run.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
bash scripts/install-test-cluster.sh
cargo build --release --locked --bin kubectl-gitops --example test-cluster >&2
BIN="$CARGO_TARGET_DIR/release/kubectl-gitops"

WORK=$(mktemp -d /tmp/kubectl-gitops-bench.XXXXXX)
"$CARGO_TARGET_DIR/release/examples/test-cluster" "$WORK/cluster" >"$WORK/cluster.out" 2>&1 &
CLUSTER_PID=$!
trap 'kill $CLUSTER_PID 2>/dev/null || true; wait $CLUSTER_PID 2>/dev/null || true; rm -rf "$WORK"' EXIT
for _ in $(seq 240); do [ -f "$WORK/cluster/ready" ] && break; sleep 0.5; done
[ -f "$WORK/cluster/ready" ] || { cat "$WORK/cluster.out" >&2; exit 1; }
export KUBECONFIG="$WORK/cluster/kubeconfig"

gen() { # gen DIR PREFIX
  local dir=$1 prefix=$2
  mkdir -p "$dir"
  for n in $(seq -w 0 9); do
    local ns="$prefix-$n" f="$dir/$prefix-$n.yaml"
    printf 'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: %s\n' "$ns" > "$dir/ns-$ns.yaml"
    : > "$f"
    for i in $(seq -w 0 39); do
      printf -- '---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-%s\n  namespace: %s\n  labels: {app: bench}\ndata:\n  key: value-%s\n  mode: fast\n' "$i" "$ns" "$i" >> "$f"
    done
    for i in $(seq -w 0 29); do
      printf -- '---\napiVersion: v1\nkind: Service\nmetadata:\n  name: svc-%s\n  namespace: %s\nspec:\n  selector: {app: app-%s}\n  ports:\n  - name: http\n    port: 80\n    targetPort: 8080\n    protocol: TCP\n' "$i" "$ns" "$i" >> "$f"
      printf -- '---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: app-%s\n  namespace: %s\n  labels: {app: app-%s}\nspec:\n  replicas: 1\n  selector:\n    matchLabels: {app: app-%s}\n  template:\n    metadata:\n      labels: {app: app-%s}\n    spec:\n      containers:\n      - name: main\n        image: nginx:1.25\n        ports:\n        - containerPort: 8080\n          protocol: TCP\n        resources:\n          requests: {cpu: 10m, memory: 16Mi}\n' "$i" "$ns" "$i" "$i" "$i" >> "$f"
    done
  done
}

gen "$WORK/a" a
gen "$WORK/b" b
# Namespaces first, then everything else (one kubectl apply per scenario).
kubectl apply --server-side --field-manager=kubectl-gitops -f "$WORK/a" >/dev/null 2>&1 || true
kubectl apply --server-side --field-manager=kubectl-gitops -f "$WORK/a" >/dev/null
kubectl apply --server-side -f "$WORK/b" >/dev/null 2>&1 || true
kubectl apply --server-side -f "$WORK/b" >/dev/null

# Let the deployment controller finish with every Deployment first (it
# annotates them), so neither tool races it.
for s in a b; do
  for n in $(seq 0 9); do
    kubectl wait deploy --all -n "$s-$n" --for=jsonpath='{.status.observedGeneration}'=1 --timeout=600s >/dev/null
  done
done

objects() { cat "$1"/*.yaml | grep -c '^kind:'; }

timed() { # timed LABEL CMD... ; prints seconds, checks exit 0 (no differences)
  local label=$1; shift
  local start end rc=0
  start=$(date +%s.%N)
  "$@" >"$WORK/out" 2>"$WORK/err" || rc=$?
  end=$(date +%s.%N)
  if [ $rc -ne 0 ]; then
    echo "$label: exit $rc (expected 0: no differences)" >&2
    head -20 "$WORK/out" "$WORK/err" >&2
    exit 1
  fi
  awk -v s="$start" -v e="$end" -v l="$label" 'BEGIN { printf "%-60s %7.2f s\n", l, e - s }'
}

echo "objects per scenario: $(objects "$WORK/a") (10 namespaces); nproc $(nproc); load average $(cut -d" " -f1-3 /proc/loadavg)"
for s in a b; do
  timed "scenario $s: kubectl gitops diff" "$BIN" diff "$WORK/$s"
  timed "scenario $s: kubectl diff --server-side (--field-manager=kubectl-gitops)" \
    kubectl diff --server-side --field-manager=kubectl-gitops -f "$WORK/$s"
done
