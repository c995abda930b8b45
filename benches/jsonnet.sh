#!/usr/bin/env bash
# Jsonnet: benches/jsonnet/main.jsonnet builds 5,000 objects (1,000 apps x
# Deployment, Service, ConfigMap, ServiceAccount, Secret) with the function
# library benches/jsonnet/lib/kube.libsonnet. Measures, in one run, each
# tool in its own process (so peak RSS is its own):
#  - ours: the release binary, `kubectl gitops render benches/jsonnet`
#    (evaluate, extract, validate, normalize, print YAML);
#  - the jrsonnet command-line tool of the same jrsonnet release
#    (`jrsonnet -J benches/jsonnet/lib benches/jsonnet/main.jsonnet`,
#    evaluate and print JSON), installed with `cargo install` into
#    ~/.cache/kubectl-gitops-test/jrsonnet when missing;
#  - the reference C++ Jsonnet 0.22 (PyPI `jsonnet`, `_jsonnet.evaluate_file`,
#    evaluation to a JSON string only), timed inside Python.
# Wall time median and min over RUNS, CPU user per run, peak RSS.
# Usage: bash benches/jsonnet.sh [RUNS] [REFERENCE_RUNS]   (defaults 10 and 1; 0 skips the reference)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-10}
ref_runs=${2:-1}
cargo build --release --quiet --bin kubectl-gitops
bin=${CARGO_TARGET_DIR:-target}/release/kubectl-gitops
jr_root="$HOME/.cache/kubectl-gitops-test/jrsonnet"
jr_version=$(sed -n 's/^jrsonnet-evaluator = "=\(.*\)"$/\1/p' Cargo.toml)
jrsonnet="$jr_root/bin/jrsonnet"
if ! "$jrsonnet" --version 2>/dev/null | grep -qF "$jr_version"; then
    cargo install --quiet --locked --root "$jr_root" jrsonnet --version "$jr_version" >&2
fi
echo "objects: $("$bin" render benches/jsonnet -o name | wc -l); jrsonnet: $("$jrsonnet" --version)"

measure() { # LABEL COMMAND...
    python3 - "$runs" "$@" <<'PY'
import resource, statistics, subprocess, sys, time
runs, label, cmd = int(sys.argv[1]), sys.argv[2], sys.argv[3:]
walls = []
for _ in range(runs):
    t = time.perf_counter()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, check=True)
    walls.append(time.perf_counter() - t)
ru = resource.getrusage(resource.RUSAGE_CHILDREN)
print(f"{label}: wall median {statistics.median(walls):.3f} s, min {min(walls):.3f} s over {runs} runs; "
      f"CPU user {ru.ru_utime / runs:.3f} s/run, system {ru.ru_stime / runs:.3f} s/run; peak RSS {ru.ru_maxrss / 1024:.1f} MB")
PY
}
# Interleaved rounds, so that machine load affects both tools alike.
for round in 1 2; do
    measure "ours (kubectl gitops render, release), round $round" "$bin" render benches/jsonnet
    measure "jrsonnet CLI $jr_version, round $round" "$jrsonnet" -J benches/jsonnet/lib benches/jsonnet/main.jsonnet
done
if [ "$ref_runs" -gt 0 ]; then
    python_ref=$(bash scripts/install-jsonnet-ref.sh)
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
fi
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
