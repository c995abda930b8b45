#!/usr/bin/env bash
# A chart producing 1,000 objects (250 x Deployment, Service, ConfigMap,
# ServiceAccount, each with include'd helper labels), written twice: in Jinja
# (rendered natively by `kubectl gitops render`) and in helm's Go templates
# (rendered by a real `helm template`). Both outputs are checked to hold the
# same 1,000 objects, then both commands are timed in the same run.
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
"$bin" render "$dir/jinja" --release-name bench --namespace bench > "$dir/native.yaml"
cmp -s "$dir/from-helm.yaml" "$dir/native.yaml" || { echo "outputs differ" >&2; diff "$dir/from-helm.yaml" "$dir/native.yaml" | head -20 >&2; exit 1; }
echo "both render the same $(grep -c '^kind:' "$dir/native.yaml") objects"

# Runs alternate between the two commands so machine load hits both alike;
# CPU time (user + sys of the process and its threads) is the steadier figure.
python3 - "$runs" "$bin" "$helm" "$dir" <<'PY'
import resource, statistics, subprocess, sys, time
runs, bin, helm, d = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
cmds = {
    "kubectl gitops render (native, Jinja)": [bin, "render", f"{d}/jinja", "--release-name", "bench", "--namespace", "bench"],
    "helm template (Go templates)         ": [helm, "template", "bench", f"{d}/go", "--namespace", "bench"],
}
wall = {k: [] for k in cmds}
cpu = {k: [] for k in cmds}
for _ in range(runs):
    for k, cmd in cmds.items():
        r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        t = time.perf_counter()
        subprocess.run(cmd, stdout=subprocess.DEVNULL, check=True)
        wall[k].append(time.perf_counter() - t)
        r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu[k].append(r1.ru_utime - r0.ru_utime + r1.ru_stime - r0.ru_stime)
for k in cmds:
    print(f"{k}: wall median {statistics.median(wall[k])*1000:.0f} ms, min {min(wall[k])*1000:.0f} ms; "
          f"CPU median {statistics.median(cpu[k])*1000:.0f} ms over {runs} runs")
n, h = list(cmds)
print(f"speed-up: wall median {statistics.median(wall[h])/statistics.median(wall[n]):.1f}x, "
      f"wall min {min(wall[h])/min(wall[n]):.1f}x, CPU {statistics.median(cpu[h])/statistics.median(cpu[n]):.1f}x")
PY
