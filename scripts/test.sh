#!/usr/bin/env bash
# The project's test command (README, `.ci/run`): formatting, lints, every
# test. Installs what the tests need first (see scripts/install-test-cluster.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-test-git.sh
# The OCI registry and skopeo of the chart and image-update tests (tests/chart_oci.rs, tests/image_registry.rs, tests/image_update.rs).
bash scripts/install-test-registry.sh
# A real helm for the chart differential tests (skipped, visibly, if it cannot be installed).
KUBECTL_GITOPS_HELM="$(bash scripts/install-helm.sh || true)"
export KUBECTL_GITOPS_HELM
# The cluster tests need etcd and kube-apiserver (tests/support/cluster.rs).
bash scripts/install-test-cluster.sh
# The reference C++ jsonnet for tests/jsonnet_reference.rs (a virtualenv
# outside the repo); if it cannot be installed that test says so and skips.
bash scripts/install-jsonnet-ref.sh >/dev/null || echo "warning: reference jsonnet not installed; jsonnet_reference will skip" >&2
cargo fmt --all -- --check
cargo clippy --all-targets --locked -- -D warnings
cargo test --locked --all-targets
