#!/usr/bin/env bash
# Wall time and peak memory of `kubectl gitops render` on 10,000 generated
# objects (~3 MB of YAML), with the release binary, as a user runs it.
# Usage: bash benches/render-10k.sh [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-10}
cargo build --release --quiet --bin kubectl-gitops --example gen_manifests
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
target/release/examples/gen_manifests "$dir/src" 10000
echo "input: $(find "$dir/src" -name '*.yaml' | wc -l) files, $(du -sh "$dir/src" | cut -f1), $(grep -c '^kind:' "$dir"/src/*.yaml | awk -F: '{s+=$2} END {print s}') objects"
python3 - "$runs" "$dir/src" <<'PY'
import resource, statistics, subprocess, sys, time
runs, src = int(sys.argv[1]), sys.argv[2]
walls = []
for _ in range(runs):
    t = time.perf_counter()
    subprocess.run(["target/release/kubectl-gitops", "render", src], stdout=subprocess.DEVNULL, check=True)
    walls.append(time.perf_counter() - t)
ru = resource.getrusage(resource.RUSAGE_CHILDREN)
print(f"render 10k objects: median {statistics.median(walls)*1000:.0f} ms, min {min(walls)*1000:.0f} ms over {runs} runs; "
      f"CPU user {ru.ru_utime / runs * 1000:.0f} ms/run; peak RSS {ru.ru_maxrss / 1024:.1f} MB")
PY
