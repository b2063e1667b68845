#!/usr/bin/env bash
# Starts what bosun's demo and tests need and is not running: a Docker engine, RabbitMQ, Redis
# (and, with --all, PostgreSQL, Podman's API service plus the Debian peers haproxy, etcd and docker-compose).
# Installs Debian's packages when root and absent. Idempotent.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
log() { echo "[ensure-services] $*" >&2; }
ALL=0; [ "${1:-}" = "--all" ] && ALL=1

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && exec 3>&- ; }

apt_install() {
  local missing=()
  for p in "$@"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" != 0 ]; then log "missing packages ${missing[*]} and not root"; return 1; fi
  log "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  if [ -z "$(find /var/lib/apt/lists -maxdepth 1 -name '*Packages*' -mmin -1440 2>/dev/null | head -1)" ]; then apt-get update -qq >/dev/null; fi
  apt-get install -y -qq "${missing[@]}" >/dev/null
}

wait_port() {
  for _ in $(seq 1 "${3:-60}"); do port_open "$1" && return 0; sleep 1; done
  log "$2 did not open port $1"; return 1
}

"$here/ensure-docker.sh"

if ! port_open 5672; then
  apt_install rabbitmq-server
  log "starting RabbitMQ"; (cd / && rabbitmq-server -detached >/dev/null 2>&1) || true
  wait_port 5672 RabbitMQ 90
fi
if ! port_open 6379; then
  apt_install redis-server
  log "starting Redis"
  mkdir -p /var/lib/redis /var/log/redis
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no --dir /var/lib/redis --logfile /var/log/redis/bosun.log
  wait_port 6379 Redis 30
fi

if [ $ALL = 1 ]; then
  "$here/ensure-podman.sh"
  apt_install haproxy etcd-server docker-compose amqp-tools docker-registry
  if ! port_open 5432; then
    apt_install postgresql
    log "starting PostgreSQL"
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start || true
    wait_port 5432 PostgreSQL 60
  fi
fi
"$here/ensure-test-image.sh"
