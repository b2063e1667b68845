#!/usr/bin/env bash
# Makes sure a rootful Podman serves its Docker-compatible API on its own socket
# (default unix:///run/bosun-podman/podman.sock, override with BOSUN_PODMAN_HOST).
# Installs Debian's podman (+ runc, CNI plugins, catatonit) when root and absent, writes
# bosun's own containers.conf / storage.conf (cgroupfs and file events: no systemd here;
# storage under /var/lib/bosun-podman so Docker's and Podman's images never mix), starts
# `podman system service --time=0` in the background with a PID file and waits for /_ping.
# Then loads the test image (bosun-busybox, FROM scratch + static busybox) from Docker.
# Idempotent. The service is left running, as dockerd is.
set -euo pipefail
log() { echo "[ensure-podman] $*" >&2; }
nproc=$(ulimit -Hu); { [ "$nproc" = unlimited ] || [ "$nproc" -gt 32768 ]; } && nproc=32768

HOST="${BOSUN_PODMAN_HOST:-unix:///run/bosun-podman/podman.sock}"
SOCK="${HOST#unix://}"
DIR=/run/bosun-podman
CONF_DIR=/etc/bosun-podman
STATE=/var/lib/bosun-podman
PIDFILE="$DIR/podman.pid"
LOG=/var/log/bosun-podman.log
TAG="${BOSUN_TEST_IMAGE:-bosun-busybox:latest}"
export CONTAINERS_CONF="$CONF_DIR/containers.conf" CONTAINERS_STORAGE_CONF="$CONF_DIR/storage.conf"

ping_ok() { curl -fsS --max-time 2 --unix-socket "$SOCK" http://d/_ping >/dev/null 2>&1; }

install_podman() {
  local need=()
  command -v podman >/dev/null 2>&1 || need+=(podman)
  command -v runc >/dev/null 2>&1 || need+=(runc)
  [ -x /usr/lib/cni/bridge ] || need+=(containernetworking-plugins)
  command -v catatonit >/dev/null 2>&1 || need+=(catatonit)
  command -v iptables >/dev/null 2>&1 || need+=(iptables)
  command -v curl >/dev/null 2>&1 || need+=(curl)
  [ ${#need[@]} -eq 0 ] && return 0
  if [ "$(id -u)" != 0 ]; then log "missing ${need[*]} and not root: install them"; exit 1; fi
  log "installing ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  # Other scripts may be installing at the same time: wait for dpkg's lock instead of failing.
  apt-get -o DPkg::Lock::Timeout=600 update -qq >/dev/null
  apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${need[@]}" >/dev/null
}

write_config() {
  mkdir -p "$CONF_DIR" "$STATE/storage" "$STATE/cni" "$DIR"
  # cgroupfs: there is no systemd to ask for scopes; file events: there is no journald.
  # Podman puts RLIMIT_NOFILE=1048576 and the host's RLIMIT_NPROC into every container, but
  # lowers its own NPROC to 32768 at start; without CAP_SYS_RESOURCE the runtime then cannot
  # raise them (crun: setrlimit: Operation not permitted). So: the host's NOFILE, and an
  # NPROC the service is started with (see start_service) and keeps.
  local nofile; nofile=$(ulimit -Hn)
  # CNI rather than netavark: Debian 12's podman 4.3 ships with CNI support by default.
  cat > "$CONF_DIR/containers.conf" <<EOF
[containers]
log_driver = "k8s-file"
default_ulimits = ["nofile=$nofile:$nofile", "nproc=$nproc:$nproc"]
[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = "$STATE/events.log"
# runc, not crun: crun 1.8 refuses hybrid cgroups (v1 + a v2 "unified" mount), as on this host.
runtime = "runc"
tmp_dir = "$DIR/tmp"
[network]
network_backend = "cni"
network_config_dir = "$STATE/cni"
default_subnet = "10.248.0.0/24"
EOF
  cat > "$CONF_DIR/storage.conf" <<EOF
[storage]
driver = "${BOSUN_PODMAN_STORAGE_DRIVER:-overlay}"
graphroot = "$STATE/storage"
runroot = "$DIR/storage"
EOF
}

alive() { [ -f "$PIDFILE" ] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null; }

# Starts the service unless ours is alive (it may be starting, or still shutting down:
# then it is started again once it has gone), and waits until /_ping answers.
start_service() {
  for _ in $(seq 1 60); do
    if ping_ok; then log "podman up"; return 0; fi
    if ! alive; then
      if [ "$(id -u)" != 0 ]; then log "no Podman answers on $SOCK and not root"; exit 1; fi
      rm -f "$SOCK"
      log "starting podman system service on $HOST (log: $LOG)"
      # From /: the service and every conmon it starts keep its working directory, and a run from a
      # clone that is later removed left them unable to start a container ("write child: broken pipe").
      ( cd / && ulimit -u "$nproc" && exec setsid podman system service --time=0 "$HOST" >>"$LOG" 2>&1 </dev/null ) &
      echo $! > "$PIDFILE"
    fi
    sleep 1
  done
  log "podman did not answer within 60 s; tail of its log:"; tail -20 "$LOG" >&2
  exit 1
}

# The same image the Docker tests use, copied from Docker (no registry is reachable).
ensure_image() {
  if podman image exists "$TAG" 2>/dev/null; then return 0; fi
  bash "$(dirname "$0")/ensure-test-image.sh"
  log "copying $TAG from Docker"
  docker save "$TAG" | podman load -q >/dev/null
}

install_podman
write_config
if ! ping_ok; then start_service; fi
ensure_image
