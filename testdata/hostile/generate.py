#!/usr/bin/env python3
"""Write the large hostile inputs of tests/hostile.rs into DIR.

Small crafted inputs live next to this script; these are generated because
they are large or repetitive. Usage: generate.py DIR
"""
import os
import sys

out = sys.argv[1]


def write(rel, text):
    path = os.path.join(out, rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)


CM = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: NAME}\n"

# Aliases that nest inside each other: shallow as text, 500 levels once expanded.
lines = ["a0: &a0 " + "[" * 200 + "x" + "]" * 200]
for i in range(1, 4):
    lines.append(f"a{i}: &a{i} " + "[" * 100 + f"*a{i - 1}" + "]" * 100)
write("yaml-alias-depth/deep.yaml", CM.replace("NAME", "deep") + "data:\n" + "".join(f"  {l}\n" for l in lines))

# A 10 KB string copied 100,000 times through three levels of aliases (~1 GB).
big = "y" * 10000
write(
    "yaml-alias-bomb/bomb.yaml",
    CM.replace("NAME", "bomb")
    + f'bomb:\n  a: &a "{big}"\n  b: &b [{", ".join(["*a"] * 100)}]\n'
    + f'  c: &c [{", ".join(["*b"] * 100)}]\n  d: [{", ".join(["*c"] * 10)}]\n',
)

# Twenty files, each just under the per-stream alias limit (5,000 copies of
# a 10 KB string, ~50 MB each): together past the render's output limit.
for n in range(20):
    write(
        f"yaml-alias-files/f{n:02}.yaml",
        CM.replace("NAME", f"f{n}")
        + f'bomb:\n  a: &a "{big}"\n  b: &b [{", ".join(["*a"] * 100)}]\n  c: [{", ".join(["*b"] * 50)}]\n',
    )

# An Application whose parameter name nests 30,000 list indexes.
deep_name = "a" + "[0]" * 30000
write(
    "app-param-deep/app.yaml",
    f"""apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: deep
spec:
  source:
    repoURL: repo
    path: chart
    helm:
      parameters:
      - name: "{deep_name}"
        value: x
  destination:
    server: https://kubernetes.default.svc
    namespace: default
""",
)
write("app-param-deep/repo/chart/Chart.yaml", "apiVersion: v2\nname: deep\nversion: 0.1.0\n"
      "annotations:\n  kubectl-gitops.io/template-engine: jinja\n")
write("app-param-deep/repo/chart/templates/cm.yaml", CM.replace("NAME", "deep"))
