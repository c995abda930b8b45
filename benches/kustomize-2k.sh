#!/usr/bin/env bash
# Kustomize overlays: `kubectl gitops render` (release binary) against
# `kubectl kustomize` on the same input, in one run: a base of 2,000 objects
# and 3 overlay layers (prefix/suffix, labels, annotations, namespace,
# 20 strategic merge patches, 4 JSON patches, ConfigMap/Secret generators with
# merge, images, replicas). Prints wall time (median, min) and peak RSS of each.
# Usage: bash benches/kustomize-2k.sh [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-5}
target=${CARGO_TARGET_DIR:-target}
cargo build --release --quiet --bin kubectl-gitops
command -v kubectl >/dev/null || { echo "kubectl not found: cannot compare" >&2; exit 1; }
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
python3 - "$dir" <<'PY'
import os, sys
root = sys.argv[1]
os.makedirs(f"{root}/.git")  # the source root for `kubectl gitops render`
def write(path, text):
    p = os.path.join(root, path)
    os.makedirs(os.path.dirname(p), exist_ok=True)
    open(p, "w").write(text)
n = 500  # x 4 kinds = 2,000 objects
for f in range(20):
    docs = []
    for i in range(f * n // 20, (f + 1) * n // 20):
        docs.append(f"""apiVersion: apps/v1
kind: Deployment
metadata:
  name: app{i}
  labels: {{app: app{i}}}
spec:
  replicas: 2
  selector:
    matchLabels: {{app: app{i}}}
  template:
    metadata:
      labels: {{app: app{i}}}
    spec:
      serviceAccountName: sa{i}
      containers:
      - name: main
        image: registry.example.com/app:1.{i % 7}
        envFrom:
        - configMapRef: {{name: cfg{i}}}
        - configMapRef: {{name: shared}}
        ports:
        - containerPort: 8080
      - name: proxy
        image: envoy:v1.30
      volumes:
      - name: creds
        secret: {{secretName: creds}}
""")
        docs.append(f"""apiVersion: v1
kind: Service
metadata:
  name: app{i}
spec:
  selector: {{app: app{i}}}
  ports:
  - port: 80
    targetPort: 8080
""")
        docs.append(f"""apiVersion: v1
kind: ConfigMap
metadata:
  name: cfg{i}
data:
  LEVEL: "{i}"
  MODE: base
""")
        docs.append(f"""apiVersion: v1
kind: ServiceAccount
metadata:
  name: sa{i}
""")
    write(f"base/objects-{f:02}.yaml", "---\n".join(docs))
files = ", ".join(f"objects-{f:02}.yaml" for f in range(20))
write("base/kustomization.yaml", f"""resources: [{files}]
configMapGenerator:
- name: shared
  literals: [COLOR=blue, SIZE=m]
secretGenerator:
- name: creds
  literals: [password=s3cret]
""")
patches = "\n".join(f"""- patch: |-
    apiVersion: apps/v1
    kind: Deployment
    metadata:
      name: app{i * 17}
    spec:
      template:
        spec:
          containers:
          - name: main
            env:
            - {{name: PATCHED, value: "{i}"}}
            resources:
              limits: {{memory: 256Mi}}""" for i in range(20))
write("layer1/kustomization.yaml", f"""resources: [../base]
namePrefix: l1-
commonLabels:
  team: platform
images:
- name: registry.example.com/app
  newTag: "2.0"
patches:
{patches}
""")
write("layer2/kustomization.yaml", """resources: [../layer1]
labels:
- pairs: {tier: web}
  includeTemplates: true
commonAnnotations:
  owner: web-team
configMapGenerator:
- name: shared
  behavior: merge
  literals: [SIZE=l]
replicas:
- name: l1-app3
  count: 5
patches:
- target: {kind: Service, name: "l1-app1.*"}
  patch: |-
    - op: add
      path: /metadata/annotations/patched
      value: "true"
- target: {kind: Deployment, name: "l1-app2.*"}
  patch: |-
    - op: replace
      path: /spec/replicas
      value: 3
""")
write("layer3/kustomization.yaml", """resources: [../layer2]
namespace: prod
nameSuffix: -v2
images:
- name: envoy
  newName: mirror.example.com/envoy
  digest: sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
configMapGenerator:
- name: release
  literals: [VERSION=2.0.0]
patches:
- target: {kind: Deployment, labelSelector: "app in (app10,app20)"}
  patch: |-
    - op: add
      path: /metadata/annotations/canary
      value: "yes"
- target: {kind: ConfigMap, name: "l1-cfg4.*"}
  patch: |-
    - op: add
      path: /data/EXTRA
      value: "1"
""")
PY
python3 - "$runs" "$dir/layer3" "$target/release/kubectl-gitops" <<'PY'
import os, statistics, subprocess, sys, time
runs, src, ours = int(sys.argv[1]), sys.argv[2], sys.argv[3]
def measure(cmd):
    walls, rss = [], 0
    for _ in range(runs):
        t = time.perf_counter()
        p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL)
        _, status, ru = os.wait4(p.pid, 0)
        walls.append(time.perf_counter() - t)
        assert status == 0, f"{cmd} failed"
        rss = max(rss, ru.ru_maxrss)
    return statistics.median(walls), min(walls), rss / 1024
out = subprocess.run([ours, "render", src], capture_output=True, text=True, check=True).stdout
print(f"input: 2,000 base objects, 3 overlays; output: {out.count(chr(10) + 'kind: ') + out.startswith('kind: ')} objects")
for name, cmd in [("kubectl gitops render", [ours, "render", src]),
                  ("kubectl kustomize", ["kubectl", "kustomize", src])]:
    med, lo, rss = measure(cmd)
    print(f"{name}: median {med*1000:.0f} ms, min {lo*1000:.0f} ms over {runs} runs; peak RSS {rss:.1f} MB")
PY
