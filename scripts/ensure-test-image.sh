#!/usr/bin/env bash
# Builds the busybox image used by tests, demo and benchmarks (no registry is reachable):
# FROM scratch with Debian's static busybox. Tag: bosun-busybox:latest. Idempotent.
set -euo pipefail
TAG="${BOSUN_TEST_IMAGE:-bosun-busybox:latest}"
if docker image inspect "$TAG" >/dev/null 2>&1; then exit 0; fi
ctx=$(mktemp -d)
trap 'rm -rf "$ctx"' EXIT
cp /bin/busybox "$ctx/busybox"
cat > "$ctx/Dockerfile" <<'DOCKERFILE'
FROM scratch
COPY busybox /bin/busybox
RUN ["/bin/busybox","--install","-s","/bin"]
LABEL bosun.test=true
CMD ["/bin/sh"]
DOCKERFILE
docker build -q -t "$TAG" "$ctx" >/dev/null
echo "[ensure-test-image] built $TAG" >&2
