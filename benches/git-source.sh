#!/usr/bin/env bash
# Cost of a git source: `kubectl gitops render --repo file://... --path app`
# on a repository holding the 10,000-object input of render-10k.sh (100
# files) plus 2,000 unrelated files, with the release binary. Measures the
# first run (fetch into an empty cache + extract the commit), later runs
# (fetch finds nothing new, snapshot reused), --offline runs, and rendering
# the same directory from the work tree for comparison.
# Usage: bash benches/git-source.sh [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-5}
target=${CARGO_TARGET_DIR:-target}
cargo build --release --quiet --bin kubectl-gitops --example gen_manifests
bin="$target/release/kubectl-gitops"
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
"$target/release/examples/gen_manifests" "$dir/work/app" 10000
mkdir -p "$dir/work/other"
for i in $(seq 1 2000); do echo "file $i" > "$dir/work/other/f$i.txt"; done
git -C "$dir/work" init -q -b main
git -C "$dir/work" -c user.name=b -c user.email=b@example.com add -A
git -C "$dir/work" -c user.name=b -c user.email=b@example.com commit -q -m bench
git clone -q --bare "$dir/work" "$dir/repo.git"
echo "repo: $(git -C "$dir/work" ls-files | wc -l) files, $(du -sh "$dir/repo.git" | cut -f1) packed"
python3 - "$runs" "$bin" "$dir" <<'PY'
import os, shutil, statistics, subprocess, sys, time
runs, binary, d = int(sys.argv[1]), sys.argv[2], sys.argv[3]
url = f"file://{d}/repo.git"
def timed(args, env):
    t = time.perf_counter()
    subprocess.run([binary, "render", *args], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True, env=env)
    return time.perf_counter() - t
def report(name, walls):
    print(f"{name}: median {statistics.median(walls)*1000:.0f} ms, min {min(walls)*1000:.0f} ms over {len(walls)} runs")
env = dict(os.environ)
first, warm, offline = [], [], []
for i in range(runs):
    env["KUBECTL_GITOPS_CACHE_DIR"] = f"{d}/cache{i}"
    first.append(timed(["--repo", url, "--path", "app"], env))
    warm.append(timed(["--repo", url, "--path", "app"], env))
    offline.append(timed(["--repo", url, "--path", "app", "--offline"], env))
    shutil.rmtree(f"{d}/cache{i}")
local = [timed([f"{d}/work/app"], env) for _ in range(runs)]
report("first run (empty cache: fetch + extract + render)", first)
report("later run (fetch finds nothing new, snapshot reused)", warm)
report("--offline run (no fetch)", offline)
report("work tree, no git (plain render)", local)
PY
