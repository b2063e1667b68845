#!/usr/bin/env bash
# A Docker engine of its own with crun registered as a runtime (beside runc), for measuring crun
# without touching the shared engine: its own --config-file (never /etc/docker/daemon.json),
# data-root, exec-root, socket, pidfile, containerd namespace and bridge (never --bridge=none:
# dockerd would delete the host's docker0). The test image is copied in (docker save | load).
#   scripts/ensure-crun-engine.sh start   → prints the engine's DOCKER_HOST (idempotent)
#   scripts/ensure-crun-engine.sh stop    → stops that dockerd by its PID and removes its bridge
# BOSUN_CRUN_ROOT (default /var/lib/bosun-crun-engine) holds everything it makes.
set -euo pipefail
log() { echo "[ensure-crun-engine] $*" >&2; }
root="${BOSUN_CRUN_ROOT:-/var/lib/bosun-crun-engine}"
sock="$root/docker.sock"
host="unix://$sock"
pidfile="$root/docker.pid"
bridge=bsncrun0
image="${BOSUN_TEST_IMAGE:-bosun-busybox:latest}"

stop() {
  if [ -f "$pidfile" ]; then
    pid=$(cat "$pidfile")
    if kill -0 "$pid" 2>/dev/null; then
      kill -TERM "$pid"
      for _ in $(seq 1 150); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -0 "$pid" 2>/dev/null && kill -KILL "$pid"
    fi
    rm -f "$pidfile"
  fi
  ip link delete "$bridge" 2>/dev/null || true
  log "stopped"
}

start() {
  if docker -H "$host" info >/dev/null 2>&1; then echo "$host"; return 0; fi
  if [ "$(id -u)" != 0 ]; then log "not root: cannot start a dockerd"; return 1; fi
  command -v dockerd >/dev/null 2>&1 || { log "dockerd is not installed"; return 1; }
  if [ ! -x /usr/bin/crun ]; then
    log "installing crun"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq crun >/dev/null 2>&1 || { log "crun could not be installed"; return 1; }
  fi
  mkdir -p "$root/data" "$root/exec"
  printf '{"runtimes":{"crun":{"path":"/usr/bin/crun"}}}\n' > "$root/daemon.json"
  ip link delete "$bridge" 2>/dev/null || true
  ip link add "$bridge" type bridge
  ip addr add 10.248.77.1/24 dev "$bridge"
  ip link set "$bridge" up
  # The shared engine's storage driver, so cold figures compare with its own.
  driver="${BOSUN_CRUN_STORAGE_DRIVER:-$(docker info --format '{{.Driver}}' 2>/dev/null || echo vfs)}"
  # crun (1.8) refuses cgroup "hybrid" mode (v1 controllers plus a cgroup2 mount holding one, here
  # hugetlb). This engine runs in a mount namespace of its own without that cgroup2 mount, so its
  # containerd, shims and runtimes see plain cgroup v1; the host and the shared engine are untouched.
  prelude=""
  if mountpoint -q /sys/fs/cgroup/unified 2>/dev/null; then prelude="umount /sys/fs/cgroup/unified && "; fi
  # From /, so that the daemon does not hold (and outlive) the caller's working directory.
  cd /
  setsid unshare --mount --propagation private sh -c "${prelude}exec \"\$@\"" sh dockerd --config-file "$root/daemon.json" --data-root "$root/data" --exec-root "$root/exec" -H "$host" --pidfile "$pidfile" \
    --bridge="$bridge" --iptables=false --ip-masq=false --containerd-namespace bosun-crun --containerd-plugins-namespace bosun-crun-plugins \
    --storage-driver "$driver" --log-level warn >>"$root/dockerd.log" 2>&1 </dev/null &
  for _ in $(seq 1 120); do
    if docker -H "$host" info >/dev/null 2>&1; then break; fi
    sleep 0.5
  done
  if ! docker -H "$host" info >/dev/null 2>&1; then log "dockerd did not answer; tail of $root/dockerd.log:"; tail -20 "$root/dockerd.log" >&2; stop; return 1; fi
  docker -H "$host" info --format '{{json .Runtimes}}' | grep -q '"crun"' || { log "crun is not registered"; stop; return 1; }
  if ! docker -H "$host" image inspect "$image" >/dev/null 2>&1; then
    docker save "$image" | docker -H "$host" load -q >/dev/null
  fi
  log "up on $host (runtimes runc, crun; storage $driver)"
  echo "$host"
}

case "${1:-start}" in
  start) start ;;
  stop) stop ;;
  *) log "usage: $0 start|stop"; exit 2 ;;
esac
