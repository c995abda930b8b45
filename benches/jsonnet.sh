#!/usr/bin/env bash
# Jsonnet: benches/jsonnet/main.jsonnet builds 5,000 objects (1,000 apps x
# Deployment, Service, ConfigMap, ServiceAccount, Secret) with the function
# library benches/jsonnet/lib/kube.libsonnet. Measures, in one run:
#  - ours: the release binary, `kubectl gitops render benches/jsonnet`
#    (evaluate, extract, validate, normalize, print YAML), wall and CPU;
#  - the reference C++ Jsonnet 0.22 (PyPI `jsonnet`, `_jsonnet.evaluate_file`,
#    evaluation to a JSON string only), timed inside Python, and its CPU.
# Usage: bash benches/jsonnet.sh [RUNS] [REFERENCE_RUNS]   (defaults 5 and 1)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-5}
ref_runs=${2:-1}
cargo build --release --quiet --bin kubectl-gitops
python_ref=$(bash scripts/install-jsonnet-ref.sh)
bin=${CARGO_TARGET_DIR:-target}/release/kubectl-gitops
echo "objects: $("$bin" render benches/jsonnet -o name | wc -l)"
python3 - "$runs" "$bin" <<'PY'
import resource, statistics, subprocess, sys, time
runs, binary = int(sys.argv[1]), sys.argv[2]
walls = []
for _ in range(runs):
    t = time.perf_counter()
    subprocess.run([binary, "render", "benches/jsonnet"], stdout=subprocess.DEVNULL, check=True)
    walls.append(time.perf_counter() - t)
ru = resource.getrusage(resource.RUSAGE_CHILDREN)
print(f"ours (kubectl gitops render, release): wall median {statistics.median(walls):.3f} s, min {min(walls):.3f} s over {runs} runs; "
      f"CPU user {ru.ru_utime / runs:.3f} s/run; peak RSS {ru.ru_maxrss / 1024:.1f} MB")
PY
"$python_ref" - "$ref_runs" <<'PY'
import resource, statistics, sys, time, _jsonnet
runs = int(sys.argv[1])
walls, size = [], 0
for _ in range(runs):
    t = time.perf_counter()
    size = len(_jsonnet.evaluate_file("benches/jsonnet/main.jsonnet", jpathdir=["benches/jsonnet/lib"]))
    walls.append(time.perf_counter() - t)
ru = resource.getrusage(resource.RUSAGE_SELF)
print(f"reference (C++ jsonnet 0.22 via _jsonnet, evaluation only): wall median {statistics.median(walls):.3f} s over {runs} runs; "
      f"CPU user {ru.ru_utime / runs:.3f} s/run; peak RSS {ru.ru_maxrss / 1024:.1f} MB; {size / 1e6:.1f} MB of JSON")
PY
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
