#!/usr/bin/env bash
# Makes sure the git source tests have git with `git daemon` and
# `git http-backend` (they start both on 127.0.0.1). Idempotent and quick:
# installs Debian's `git` package only when one of them is missing.
set -euo pipefail

have_git_tools() {
  command -v git >/dev/null 2>&1 || return 1
  local exec_path
  exec_path=$(git --exec-path) || return 1
  [ -x "$exec_path/git-daemon" ] && [ -x "$exec_path/git-http-backend" ]
}

if ! have_git_tools; then
  echo "[install-test-git] installing git" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq git >&2
fi
have_git_tools || { echo "[install-test-git] git daemon / git http-backend not found" >&2; exit 1; }
