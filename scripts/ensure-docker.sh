#!/usr/bin/env bash
# Makes sure a Docker engine answers on $DOCKER_HOST (default: the local socket).
# Installs Debian's docker.io and busybox-static when root and absent, then starts
# dockerd in the background. Idempotent: does nothing when an engine already answers.
set -euo pipefail
log() { echo "[ensure-docker] $*" >&2; }

if docker info >/dev/null 2>&1; then exit 0; fi

need_pkgs=()
command -v dockerd >/dev/null 2>&1 || need_pkgs+=(docker.io)
[ -x /bin/busybox ] || need_pkgs+=(busybox-static)
if [ ${#need_pkgs[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then log "missing ${need_pkgs[*]} and not root: install them and start dockerd"; exit 1; fi
  log "installing ${need_pkgs[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq "${need_pkgs[@]}" >/dev/null
fi

if [ -n "${DOCKER_HOST:-}" ] && [ "${DOCKER_HOST}" != "unix:///var/run/docker.sock" ]; then
  log "DOCKER_HOST=$DOCKER_HOST does not answer; not starting an engine for a custom host"; exit 1
fi
if [ "$(id -u)" != 0 ]; then log "no engine answers and not root: start dockerd"; exit 1; fi

log "starting dockerd (log: /var/log/bosun-dockerd.log)"
# From /, so that the daemon does not hold (and outlive) the caller's working directory.
(cd / && exec setsid dockerd --host unix:///var/run/docker.sock --pidfile /var/run/docker.pid \
  >/var/log/bosun-dockerd.log 2>&1 < /dev/null) &
for _ in $(seq 1 60); do
  if docker info >/dev/null 2>&1; then log "engine up"; exit 0; fi
  sleep 1
done
log "dockerd did not answer within 60 s; tail of its log:"; tail -20 /var/log/bosun-dockerd.log >&2
exit 1
