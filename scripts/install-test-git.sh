#!/usr/bin/env bash
# What the git source tests start on 127.0.0.1: `git daemon` and
# `git http-backend` (package git), `sshd` with `ssh-keygen`, `ssh-agent`
# and `ssh-add` (openssh-server, openssh-client). Idempotent and quick:
# installs only what is missing; creates sshd's privilege separation
# directory, which /run loses at boot.
set -euo pipefail

log() { echo "[install-test-git] $*" >&2; }

have_git_tools() {
  command -v git >/dev/null 2>&1 || return 1
  local exec_path
  exec_path=$(git --exec-path) || return 1
  [ -x "$exec_path/git-daemon" ] && [ -x "$exec_path/git-http-backend" ]
}

need_pkgs=()
have_git_tools || need_pkgs+=(git)
[ -x /usr/sbin/sshd ] || need_pkgs+=(openssh-server)
for tool in ssh-keygen ssh-agent ssh-add; do
  command -v "$tool" >/dev/null 2>&1 || { need_pkgs+=(openssh-client); break; }
done

if [ ${#need_pkgs[@]} -gt 0 ]; then
  log "installing ${need_pkgs[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq --no-install-recommends "${need_pkgs[@]}" >&2
fi
[ -d /run/sshd ] || mkdir -p /run/sshd 2>/dev/null || log "cannot create /run/sshd; sshd may refuse to start"
chmod 0755 /run/sshd 2>/dev/null || true

have_git_tools || { log "git daemon / git http-backend not found"; exit 1; }
[ -x /usr/sbin/sshd ] || { log "/usr/sbin/sshd not found"; exit 1; }
