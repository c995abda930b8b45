#!/usr/bin/env bash
# Regenerates the expected outputs of the helm charts conformance suite
# (tests/helm_charts_conformance.rs) with a real helm 4.1.4:
#
#   bash scripts/gen-helm-charts-expected.sh [CASE...]
#
# Writes tests/data/helm-charts/cases.txt (every vendored chart with its
# default values and with each of its own ci/*values*.yaml, plus the
# extra values files listed below) and, per case,
# tests/data/helm-charts/expected/CASE.yaml (CASE.yaml.gz above 1 MiB): the output of
#
#   helm template conformance CHART --namespace default [-f VALUES] --include-crds
#
# run from the chart's directory, or CASE.error with helm's error when helm
# refuses the case. Each case is rendered twice: a case whose two outputs
# differ uses random or clock-driven functions (randAlphaNum, genCA, now,
# ...) and needs masks in tests/data/helm-charts/masks.yaml; those cases
# are listed at the end (the harness fails them until they are masked).
# Charts come from scripts/vendor-helm-charts.sh.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
DATA="$ROOT/tests/data/helm-charts"
HELM="${KUBECTL_GITOPS_HELM:-$(bash "$ROOT/scripts/install-helm.sh")}"
RELEASE=conformance
case "$("$HELM" version --template '{{.Version}}')" in
  v4.1.4) ;;
  *) echo "helm 4.1.4 expected, got $("$HELM" version --short)" >&2; exit 1 ;;
esac

# values files of the charts' own, outside ci/, rendered as extra cases
EXTRA_VALUES=(
  argocd-example-apps/helm-guestbook/values-production.yaml
  podinfo/podinfo/values-prod.yaml
)

write_cases() {
  {
    echo "# Helm charts conformance cases: CASE CHART_DIR [VALUES_FILE]"
    echo "# (CHART_DIR under charts/, VALUES_FILE relative to it)."
    echo "# Written by scripts/gen-helm-charts-expected.sh; do not edit."
    (cd "$DATA/charts" && ls -d */*/) | sed 's|/$||' | sort | while read -r chart; do
      local name
      name=$(basename "$chart")
      echo "$name $chart"
      if [ -d "$DATA/charts/$chart/ci" ]; then
        (cd "$DATA/charts/$chart" && ls ci/ | { grep -E 'values.*\.yaml$' || true; } | sort) | while read -r v; do
          echo "$name+$(basename "$v" .yaml) $chart ci/$v"
        done
      fi
      for extra in "${EXTRA_VALUES[@]}"; do
        if [ "$(dirname "$extra")" = "$chart" ]; then
          echo "$name+$(basename "$extra" .yaml) $chart $(basename "$extra")"
        fi
      done
    done
  } >"$DATA/cases.txt"
}

# render CHART_DIR VALUES OUT_PREFIX: OUT_PREFIX.yaml, or OUT_PREFIX.error
render() {
  local chart="$1" values="$2" out="$3"
  local args=(template "$RELEASE" . --namespace default --include-crds)
  [ -n "$values" ] && args+=(-f "$values")
  rm -f "$out.yaml" "$out.yaml.gz" "$out.error"
  if ! (cd "$DATA/charts/$chart" && "$HELM" "${args[@]}") >"$out.yaml" 2>"$out.stderr"; then
    rm -f "$out.yaml"
    grep -E '^Error:' "$out.stderr" >"$out.error" || cp "$out.stderr" "$out.error"
  fi
  rm -f "$out.stderr"
}

if [ $# -eq 0 ]; then
  write_cases
  rm -rf "$DATA/expected"
fi
mkdir -p "$DATA/expected"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
random=()
while read -r name chart values; do
  case "$name" in '#'*|'') continue ;; esac
  if [ $# -gt 0 ] && ! printf '%s\n' "$@" | grep -qx "$name"; then continue; fi
  render "$chart" "$values" "$DATA/expected/$name"
  render "$chart" "$values" "$tmp/$name"
  for ext in yaml error; do
    if [ -e "$DATA/expected/$name.$ext" ] && ! cmp -s "$DATA/expected/$name.$ext" "$tmp/$name.$ext"; then
      random+=("$name")
    fi
  done
  # the CRD-laden outputs (kube-prometheus-stack's) are stored gzipped
  if [ -e "$DATA/expected/$name.yaml" ] && [ "$(stat -c %s "$DATA/expected/$name.yaml")" -gt 1048576 ]; then
    gzip -9 -n "$DATA/expected/$name.yaml"
  fi
  if [ -e "$DATA/expected/$name.error" ]; then
    echo "$name: helm fails: $(head -c 200 "$DATA/expected/$name.error")" >&2
  fi
done <"$DATA/cases.txt"
echo "$(grep -cv '^#' "$DATA/cases.txt") cases; outputs in $DATA/expected" >&2
if [ ${#random[@]} -gt 0 ]; then
  echo "cases whose two renders differ (each needs masks.yaml rules): ${random[*]}" >&2
fi
# the masks must cover every random value: the second run against the first
echo "checking masks.yaml: the harness against the second helm run" >&2
(cd "$ROOT" && HELM_CHARTS_GOT_DIR="$tmp" cargo test --test helm_charts_conformance -- "$@")
