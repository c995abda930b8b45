#!/usr/bin/env bash
# Vendors the charts of the helm charts conformance suite into
# tests/data/helm-charts/ from local clones (or bare mirrors) of their
# upstream repositories, at the commits their HEADs point to, and writes
# SOURCES.md. Then run scripts/gen-helm-charts-expected.sh.
#
#   PROMETHEUS_COMMUNITY=/path/to/prometheus-community/helm-charts(.git)
#   GRAFANA_COMMUNITY=/path/to/grafana-community/helm-charts(.git)
#   PODINFO=/path/to/stefanprodan/podinfo(.git)
#   ARGOCD_EXAMPLE_APPS=/path/to/argoproj/argocd-example-apps(.git)
#   BITNAMI=/path/to/bitnami/charts(.git)   (with history: kafka 32.4.3 is not its HEAD)
#   bash scripts/vendor-helm-charts.sh
#
# Kept small: documentation (README/UPGRADE/CHANGELOG/CONTRIBUTING .md),
# images and helm-unittest suites (`unittests/`, `tests/` at a chart's
# root) are left out; everything a template can read stays (`files/`,
# dashboards, `ci/`, `.helmignore`).
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
OUT="$ROOT/tests/data/helm-charts"
: "${PROMETHEUS_COMMUNITY:?path to a clone of prometheus-community/helm-charts}"
: "${GRAFANA_COMMUNITY:?path to a clone of grafana-community/helm-charts}"
: "${PODINFO:?path to a clone of stefanprodan/podinfo}"
: "${ARGOCD_EXAMPLE_APPS:?path to a clone of argoproj/argocd-example-apps}"
: "${BITNAMI:?path to a clone of bitnami/charts}"
# the bitnami commit whose kafka chart is 32.4.3 (prometheus-kafka-exporter's dependency)
BITNAMI_KAFKA_COMMIT=f73fdee132e88e0358b11fcaec6f3aa97bcd44f1

gitdir() { if [ -d "$1/.git" ]; then echo "$1/.git"; else echo "$1"; fi; }
commit() { git --git-dir="$(gitdir "$1")" rev-parse HEAD; }

# copy REPO PATH DEST [REF]: the tree at REF:PATH (default HEAD) into DEST, minus docs and tests
copy() {
  local repo="$1" path="$2" dest="$3" ref="${4:-HEAD}"
  local strip
  strip=$(echo "$path" | awk -F/ '{print NF}')
  mkdir -p "$dest"
  git --git-dir="$(gitdir "$repo")" archive --format=tar "$ref" "$path" |
    tar -x -C "$dest" --strip-components="$strip" \
      --exclude='*/README.md' --exclude='*/UPGRADE.md' --exclude='*/CHANGELOG.md' \
      --exclude='*/CONTRIBUTING.md' --exclude='*.png' --exclude='*.jpg' --exclude='*.svg'
  # helm-unittest suites at the chart root (templates/tests/ are real templates)
  find "$dest" -maxdepth 3 -type d \( -name unittests -o -name tests \) ! -path '*/templates/*' -prune -exec rm -rf {} +
}

rm -rf "$OUT/charts"
mkdir -p "$OUT/charts"
PC="$PROMETHEUS_COMMUNITY"
for chart in $(git --git-dir="$(gitdir "$PC")" ls-tree --name-only HEAD charts/); do
  copy "$PC" "$chart" "$OUT/charts/prometheus-community/$(basename "$chart")"
done
# dependencies, from the same snapshots (Chart.yaml's versions match them)
KPS="$OUT/charts/prometheus-community/kube-prometheus-stack/charts"
for dep in kube-state-metrics prometheus-node-exporter prometheus-windows-exporter; do
  copy "$PC" "charts/$dep" "$KPS/$dep"
done
copy "$GRAFANA_COMMUNITY" charts/grafana "$KPS/grafana"
PROM="$OUT/charts/prometheus-community/prometheus/charts"
for dep in alertmanager kube-state-metrics prometheus-node-exporter prometheus-pushgateway; do
  copy "$PC" "charts/$dep" "$PROM/$dep"
done
KAFKA="$OUT/charts/prometheus-community/prometheus-kafka-exporter/charts/kafka"
copy "$BITNAMI" bitnami/kafka "$KAFKA" "$BITNAMI_KAFKA_COMMIT"
copy "$BITNAMI" bitnami/common "$KAFKA/charts/common" "$BITNAMI_KAFKA_COMMIT"
copy "$GRAFANA_COMMUNITY" charts/grafana "$OUT/charts/grafana-community/grafana"
copy "$PODINFO" charts/podinfo "$OUT/charts/podinfo/podinfo"
for app in helm-guestbook blue-green apps; do
  copy "$ARGOCD_EXAMPLE_APPS" "$app" "$OUT/charts/argocd-example-apps/$app"
done

cat >"$OUT/SOURCES.md" <<EOF
# Sources of the vendored charts

Written by \`scripts/vendor-helm-charts.sh\`; documentation, images and
helm-unittest suites left out.

| directory under \`charts/\` | upstream | commit |
|---|---|---|
| \`prometheus-community/*\` (every chart of \`charts/\`) | github.com/prometheus-community/helm-charts | \`$(commit "$PC")\` |
| \`grafana-community/grafana\`, \`prometheus-community/kube-prometheus-stack/charts/grafana\` | github.com/grafana-community/helm-charts \`charts/grafana\` | \`$(commit "$GRAFANA_COMMUNITY")\` |
| \`podinfo/podinfo\` | github.com/stefanprodan/podinfo \`charts/podinfo\` | \`$(commit "$PODINFO")\` |
| \`argocd-example-apps/{helm-guestbook,blue-green,apps}\` | github.com/argoproj/argocd-example-apps | \`$(commit "$ARGOCD_EXAMPLE_APPS")\` |
| \`prometheus-community/prometheus-kafka-exporter/charts/kafka\` (and its \`charts/common\`) | github.com/bitnami/charts \`bitnami/kafka\`, \`bitnami/common\` | \`$BITNAMI_KAFKA_COMMIT\` (kafka 32.4.3) |

Dependencies vendored into \`charts/\` (helm refuses to render a chart whose
dependencies are missing, even disabled ones):

- \`kube-prometheus-stack\`: \`crds\` (in the chart upstream), \`kube-state-metrics\`,
  \`prometheus-node-exporter\`, \`prometheus-windows-exporter\` from the same
  prometheus-community snapshot (8.4.0, 4.56.1, 0.12.8: what Chart.yaml asks
  for), \`grafana\` 12.11.1 from grafana-community (the chart moved there from
  grafana/helm-charts, whose copy is deprecated and now removed;
  kube-prometheus-stack's Chart.yaml names the grafana-community repository).
- \`prometheus\`: \`alertmanager\`, \`kube-state-metrics\`, \`prometheus-node-exporter\`,
  \`prometheus-pushgateway\` from the same snapshot.
- \`prometheus-kafka-exporter\`: bitnami's \`kafka\` 32.4.3 (the version Chart.yaml
  pins) from bitnami/charts' history, with the \`common\` chart of the same commit
  in its \`charts/\` (kafka asks for common 2.x.x from an OCI registry).
EOF
echo "vendored into $OUT/charts (add with git add -f: kube-prometheus-stack's own .gitignore ignores its charts/)" >&2
