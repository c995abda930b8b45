#!/usr/bin/env bash
# helm charts rendered by `kubectl gitops render` (release binary) against
# `helm template` (scripts/install-helm.sh's helm), in the same run:
# 1. a chart producing 1,000 objects (250 x Deployment, Service, ConfigMap,
#    ServiceAccount, each with include'd helper labels), written twice: in
#    helm's Go templates (rendered by helm and natively by us) and in Jinja
#    (rendered natively);
# 2. kube-prometheus-stack as vendored under tests/data/helm-charts, with its
#    default values (CRDs included on both sides).
# Every native output is first checked to equal helm's output normalized by
# us, byte for byte (kube-prometheus-stack's random grafana password and the
# checksum made from it masked on both sides). Then the commands are timed,
# alternating: wall time, CPU (user + system of the process and its
# threads) and peak RSS, from the rusage the kernel reports for each process
# (what /usr/bin/time -f '%U %S %M' prints, at microseconds instead of its
# 10 ms).
# Usage: bash benches/helm-chart-1k.sh [RUNS]   (needs scripts/install-helm.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-10}
helm=$(bash scripts/install-helm.sh)
if [ -z "${BENCH_BIN:-}" ]; then
  cargo build --release --quiet --bin kubectl-gitops
fi
bin="${BENCH_BIN:-${CARGO_TARGET_DIR:-target}/release/kubectl-gitops}"
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT

for kind in jinja go; do
  mkdir -p "$dir/$kind/templates"
  printf 'apiVersion: v2\nname: bench\nversion: 1.0.0\nappVersion: "1.0"\nannotations:\n  kubectl-gitops.io/template-engine: %s\n' "$kind" > "$dir/$kind/Chart.yaml"
  printf 'count: 250\nimage: nginx:1.27\nenv:\n  A: "1"\n  B: two\n' > "$dir/$kind/values.yaml"
done

cat > "$dir/jinja/templates/_helpers.tpl" <<'T'
{% macro bench_labels(args) -%}
app.kubernetes.io/name: app-{{ args[1] }}
app.kubernetes.io/instance: {{ args[0].Release.Name }}
app.kubernetes.io/version: {{ args[0].Chart.AppVersion | quote }}
helm.sh/chart: {{ args[0].Chart.Name }}-{{ args[0].Chart.Version }}
{%- endmacro %}
T
cat > "$dir/jinja/templates/apps.yaml" <<'T'
{%- for i in range(Values.count) %}
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: app-{{ i }}
  labels:
    {{- include("bench.labels", [ctx, i]) | nindent(4) }}
spec:
  replicas: 2
  selector:
    matchLabels:
      app.kubernetes.io/name: app-{{ i }}
  template:
    metadata:
      labels:
        {{- include("bench.labels", [ctx, i]) | nindent(8) }}
    spec:
      serviceAccountName: app-{{ i }}
      containers:
        - name: app
          image: {{ Values.image | quote }}
          env:
          {%- for k, v in Values.env | dictsort %}
            - name: {{ k }}
              value: {{ v | quote }}
          {%- endfor %}
          volumeMounts:
            - name: config
              mountPath: /etc/app
      volumes:
        - name: config
          configMap:
            name: app-{{ i }}
---
apiVersion: v1
kind: Service
metadata:
  name: app-{{ i }}
  labels:
    {{- include("bench.labels", [ctx, i]) | nindent(4) }}
spec:
  selector:
    app.kubernetes.io/name: app-{{ i }}
  ports:
    - port: 80
      targetPort: 8080
      protocol: TCP
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: app-{{ i }}
  labels:
    {{- include("bench.labels", [ctx, i]) | nindent(4) }}
data:
  index: {{ i | quote }}
  settings.yaml: |
    {{- Values.env | toYaml | nindent(4) }}
---
apiVersion: v1
kind: ServiceAccount
metadata:
  name: app-{{ i }}
  labels:
    {{- include("bench.labels", [ctx, i]) | nindent(4) }}
{%- endfor %}
T

cat > "$dir/go/templates/_helpers.tpl" <<'T'
{{- define "bench.labels" -}}
{{- $ctx := index . 0 -}}
app.kubernetes.io/name: app-{{ index . 1 }}
app.kubernetes.io/instance: {{ $ctx.Release.Name }}
app.kubernetes.io/version: {{ $ctx.Chart.AppVersion | quote }}
helm.sh/chart: {{ $ctx.Chart.Name }}-{{ $ctx.Chart.Version }}
{{- end }}
T
cat > "$dir/go/templates/apps.yaml" <<'T'
{{- range $i := until (int .Values.count) }}
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: app-{{ $i }}
  labels:
    {{- include "bench.labels" (list $ $i) | nindent 4 }}
spec:
  replicas: 2
  selector:
    matchLabels:
      app.kubernetes.io/name: app-{{ $i }}
  template:
    metadata:
      labels:
        {{- include "bench.labels" (list $ $i) | nindent 8 }}
    spec:
      serviceAccountName: app-{{ $i }}
      containers:
        - name: app
          image: {{ $.Values.image | quote }}
          env:
          {{- range $k, $v := $.Values.env }}
            - name: {{ $k }}
              value: {{ $v | quote }}
          {{- end }}
          volumeMounts:
            - name: config
              mountPath: /etc/app
      volumes:
        - name: config
          configMap:
            name: app-{{ $i }}
---
apiVersion: v1
kind: Service
metadata:
  name: app-{{ $i }}
  labels:
    {{- include "bench.labels" (list $ $i) | nindent 4 }}
spec:
  selector:
    app.kubernetes.io/name: app-{{ $i }}
  ports:
    - port: 80
      targetPort: 8080
      protocol: TCP
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: app-{{ $i }}
  labels:
    {{- include "bench.labels" (list $ $i) | nindent 4 }}
data:
  index: {{ $i | quote }}
  settings.yaml: |
    {{- $.Values.env | toYaml | nindent 4 }}
---
apiVersion: v1
kind: ServiceAccount
metadata:
  name: app-{{ $i }}
  labels:
    {{- include "bench.labels" (list $ $i) | nindent 4 }}
{{- end }}
T

"$helm" template bench "$dir/go" --namespace bench > "$dir/helm.yaml"
"$bin" render "$dir/helm.yaml" --namespace bench > "$dir/from-helm.yaml"
for kind in go jinja; do
  "$bin" render "$dir/$kind" --release-name bench --namespace bench > "$dir/native-$kind.yaml"
  cmp -s "$dir/from-helm.yaml" "$dir/native-$kind.yaml" || {
    echo "$kind: outputs differ" >&2; diff "$dir/from-helm.yaml" "$dir/native-$kind.yaml" | head -20 >&2; exit 1; }
done
echo "1k chart: helm, native Go and native Jinja render the same $(grep -c '^kind:' "$dir/native-go.yaml") objects"

kps=tests/data/helm-charts/charts/prometheus-community/kube-prometheus-stack
mask() { sed -E 's/^(  admin-password: ).*/\1MASKED/; s/^( +checksum\/secret: ).*/\1MASKED/'; }
"$helm" template bench "$kps" --namespace bench --include-crds > "$dir/kps-helm.yaml"
"$bin" render "$dir/kps-helm.yaml" --namespace bench | mask > "$dir/kps-from-helm.yaml"
"$bin" render "$kps" --release-name bench --namespace bench | mask > "$dir/kps-native.yaml"
cmp -s "$dir/kps-from-helm.yaml" "$dir/kps-native.yaml" || {
  echo "kube-prometheus-stack: outputs differ" >&2; diff "$dir/kps-from-helm.yaml" "$dir/kps-native.yaml" | head -20 >&2; exit 1; }
echo "kube-prometheus-stack: helm and native render the same $(grep -c '^kind:' "$dir/kps-native.yaml") objects ($(wc -c < "$dir/kps-helm.yaml") bytes from helm)"

# Runs alternate between the commands so machine load hits all alike.
python3 - "$runs" "$bin" "$helm" "$dir" "$kps" <<'PY'
import os, statistics, subprocess, sys, time
runs, bin, helm, d, kps = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5]
groups = {
    "1k chart": {
        "kubectl gitops render (native, Go)   ": [bin, "render", f"{d}/go", "--release-name", "bench", "--namespace", "bench"],
        "kubectl gitops render (native, Jinja)": [bin, "render", f"{d}/jinja", "--release-name", "bench", "--namespace", "bench"],
        "helm template (Go templates)         ": [helm, "template", "bench", f"{d}/go", "--namespace", "bench"],
    },
    "kube-prometheus-stack": {
        "kubectl gitops render (native, Go)   ": [bin, "render", kps, "--release-name", "bench", "--namespace", "bench"],
        "helm template --include-crds         ": [helm, "template", "bench", kps, "--namespace", "bench", "--include-crds"],
    },
}
stats = {(g, k): {"wall": [], "cpu": [], "rss": []} for g, cmds in groups.items() for k in cmds}
for _ in range(runs):
    for g, cmds in groups.items():
        for k, cmd in cmds.items():
            t = time.perf_counter()
            p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL)
            _, status, ru = os.wait4(p.pid, 0)
            wall = time.perf_counter() - t
            assert os.waitstatus_to_exitcode(status) == 0, cmd
            s = stats[(g, k)]
            s["wall"].append(wall); s["cpu"].append(ru.ru_utime + ru.ru_stime); s["rss"].append(ru.ru_maxrss / 1024)
for g, cmds in groups.items():
    print(f"{g}:")
    for k in cmds:
        s = stats[(g, k)]
        print(f"  {k}: wall median {statistics.median(s['wall'])*1000:.0f} ms, min {min(s['wall'])*1000:.0f} ms; "
              f"CPU median {statistics.median(s['cpu'])*1000:.0f} ms; peak RSS max {max(s['rss']):.1f} MB")
    n, h = list(cmds)[0], list(cmds)[-1]
    sn, sh = stats[(g, n)], stats[(g, h)]
    print(f"  speed-up of the native Go render: wall median {statistics.median(sh['wall'])/statistics.median(sn['wall']):.1f}x, "
          f"wall min {min(sh['wall'])/min(sn['wall']):.1f}x, CPU {statistics.median(sh['cpu'])/statistics.median(sn['cpu']):.1f}x; "
          f"memory {max(sh['rss'])/max(sn['rss']):.1f}x less")
print(f"{runs} alternating runs; load average {os.getloadavg()[0]:.2f} at the end")
PY
