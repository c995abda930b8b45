#!/usr/bin/env bash
# What the OCI chart tests start on 127.0.0.1: the CNCF distribution
# registry (Debian's package docker-registry, `docker-registry serve
# CONFIG`). Idempotent and quick: installs only when it is missing.
# Basic-auth users are written by the tests themselves (bcrypt entries).
set -euo pipefail

log() { echo "[install-test-registry] $*" >&2; }

if ! command -v docker-registry >/dev/null 2>&1; then
  log "installing docker-registry"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq --no-install-recommends docker-registry >&2
fi
command -v docker-registry >/dev/null 2>&1 || { log "docker-registry not found"; exit 1; }
