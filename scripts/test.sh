#!/usr/bin/env bash
# The project's test command (README, `.ci/run`): formatting, lints, every
# test. Installs what the tests need first (see scripts/install-test-cluster.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-test-git.sh
cargo fmt --all -- --check
cargo clippy --all-targets --locked -- -D warnings
cargo test --locked --all-targets
