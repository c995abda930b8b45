#!/usr/bin/env bash
# What the OCI chart and image-update tests start on 127.0.0.1: the CNCF
# distribution registry (Debian's package docker-registry, `docker-registry
# serve CONFIG`), and skopeo, which pushes the OCI image layouts the image
# tests write (no docker daemon). Idempotent and quick: installs only what
# is missing. Basic-auth users are written by the tests themselves (bcrypt
# entries).
set -euo pipefail

log() { echo "[install-test-registry] $*" >&2; }

missing=()
command -v docker-registry >/dev/null 2>&1 || missing+=(docker-registry)
command -v skopeo >/dev/null 2>&1 || missing+=(skopeo)
if [ "${#missing[@]}" -gt 0 ]; then
  log "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq --no-install-recommends -- "${missing[@]}" >&2
fi
for bin in docker-registry skopeo; do
  command -v "$bin" >/dev/null 2>&1 || { log "$bin not found"; exit 1; }
done
