#!/usr/bin/env bash
# Fuzz each entry point of src/fuzzing.rs for a fixed time with cargo-fuzz
# (libFuzzer). Not part of the tests: run it by hand or on a schedule.
#
#   bash scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]
#
# Default: 60 seconds for every target. The working corpus grows in
# fuzz/corpus/<target>/ (seeded from fuzz/seeds/<target>/); a crash is saved
# in fuzz/artifacts/<target>/: copy it to fuzz/regressions/<target>/, where
# `cargo test --test fuzz_regressions` replays it, then fix the bug.
#
# cargo-fuzz needs nightly compiler flags; the stable toolchain accepts them
# with RUSTC_BOOTSTRAP=1. No sanitizer: the bugs looked for are panics, stack
# overflows, hangs and runaway memory, which libFuzzer catches by itself.
set -euo pipefail
cd "$(dirname "$0")/.."

secs="${1:-60}"
shift || true
all=(yaml set_flags smp kustomization jinja application manifests gotmpl)
targets=("${@:-${all[@]}}")

if ! command -v cargo-fuzz >/dev/null; then
    cargo install cargo-fuzz --locked
fi

export RUSTC_BOOTSTRAP=1
cd fuzz
cargo fuzz build --sanitizer none
failed=0
for t in "${targets[@]}"; do
    mkdir -p "corpus/$t"
    [ -d "seeds/$t" ] && cp -n seeds/"$t"/* "corpus/$t/" 2>/dev/null || true
    start=$(date +%s)
    if cargo fuzz run --sanitizer none "$t" "corpus/$t" -- \
        -max_total_time="$secs" -timeout=20 -rss_limit_mb=2048 -max_len=65536 \
        >"artifacts-$t.log" 2>&1; then
        result="clean"
    else
        result="FAILED (see fuzz/artifacts-$t.log and fuzz/artifacts/$t/)"
        failed=1
    fi
    runs=$(grep -o 'Done [0-9]* runs' "artifacts-$t.log" | tail -n 1 | awk '{print $2}')
    echo "fuzz $t: $result after $(( $(date +%s) - start )) s, ${runs:-?} runs"
done
exit "$failed"
