#!/usr/bin/env bash
# The main job, end to end on this machine: sets up what is missing (dependencies, Docker engine,
# RabbitMQ, Redis, the busybox image), starts `bosun agent`, sends the seeds' example messages
# and prints what came back (seeds 000, 003, 002, 001 and 004). Leaves nothing running that it started.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
[ -d node_modules ] || npm ci --no-audit --no-fund
# build when there is no build yet or the sources are newer than it (after a git pull, say)
if [ ! -f dist/app/cli.js ] || [ -n "$(find src -name '*.ts' -newer dist/app/cli.js | head -n 1)" ]; then npm run build --silent; fi
bash scripts/ensure-services.sh
bosun() { node "$ROOT/bin/bosun.js" "$@"; }

WORK=$(mktemp -d /tmp/bosun-demo-XXXXXX)
RUN=${WORK##*-}   # per-run suffix: reply channels are durable queues, so old replies must not show up
# Binds come only from directly below the bind root /srv/bosun (root-owned; see README, Policy).
mkdir -p -m 0755 /srv/bosun && DATA=$(mktemp -d /srv/bosun/demo-XXXXXX) && chmod 755 "$DATA"
echo "input handed in through a volume" > "$DATA/input.txt"
cat > "$WORK/policy.yaml" <<POLICY
# Demo policy: binds only from /srv/bosun/<name>, builds only from the demo's folders.
bind_roots: ["/srv/bosun"]
build_roots: ["$ROOT/examples"]
POLICY
cat > "$WORK/pools.yaml" <<POOLS
# Demo warm pool: two prewarmed busybox containers for attached runs that match.
pools:
  - image: bosun-busybox:latest
    size: 2
POOLS

say "starting bosun agent (RabbitMQ at ${BOSUN_BROKER_URL:-amqp://guest:guest@127.0.0.1:5672})"
BOSUN_STATE_DIR="$WORK/state" node "$ROOT/bin/bosun.js" agent --policy "$WORK/policy.yaml" --pools "$WORK/pools.yaml" --http 127.0.0.1:0 --log-level info > "$WORK/agent.log" 2>&1 &
AGENT=$!
cleanup() {
  kill -TERM "$AGENT" 2>/dev/null && wait "$AGENT" 2>/dev/null || true
  docker rm -f bosun-demo-site bosun-demo-monitored bosun-demo-foreign bosun-demo-glue-web >/dev/null 2>&1 || true
  if [ -n "${GLUE:-}" ]; then kill -TERM "$GLUE" 2>/dev/null || true; wait "$GLUE" 2>/dev/null || true; fi
  docker rmi bosun-demo-hello bosun-demo-daemon >/dev/null 2>&1 || true
  if command -v amqp-delete-queue >/dev/null; then
    for q in response_channel_from_my_hello_world_$RUN demo_raw_$RUN my_container_is_not_running_$RUN demo_hostile_$RUN demo_fast_false_$RUN demo_fast_true_$RUN demo_stream_$RUN; do amqp-delete-queue -q "$q" >/dev/null 2>&1 || true; done
  fi
  rm -rf "$WORK" "$DATA"
}
trap cleanup EXIT
for _ in $(seq 1 60); do grep -q '"msg":"ready"' "$WORK/agent.log" && break; sleep 0.5; done
grep -q '"msg":"ready"' "$WORK/agent.log" || { cat "$WORK/agent.log"; exit 1; }

say "seed 000 · start_container.create: bring up a site (busybox httpd standing in for nginx)"
bosun send start_container.create "{image: 'bosun-busybox', name: 'bosun-demo-site', command: 'httpd -f -p 8080 -h /tmp'}" --wait

say "seed 000 · start_container.response_channel: build an image from a context, run it, output to response_channel"
bosun send start_container.response_channel "{
  image: 'bosun-demo-hello', name: 'bosun-demo-hello-run', build: true, context: '$ROOT/examples/hello_world/',
  volumes: {'$DATA/': {bind: '/opt/data/', mode: 'ro'}},
  response_channel: 'response_channel_from_my_hello_world_$RUN' }" --listen response_channel_from_my_hello_world_$RUN

say "seed 000 · the same run with response_format raw: stdout alone, for chaining"
bosun send start_container.response_channel "{image: 'bosun-demo-hello', response_channel: 'demo_raw_$RUN', response_format: 'raw'}" --listen demo_raw_$RUN

say "seed 000 · start_containers_not_running (after stopping the site)"
docker stop -t 0 bosun-demo-site >/dev/null
bosun send start_containers_not_running "{name: 'bosun-demo-site'}" --wait
bosun send start_containers_not_running "{name: 'bosun-demo-', exact_value: false}" --wait

say "seed 000 · monitor_container_status: a notice when the container stops"
# made by hand here, so it is marked as bosun's: the channels act only on bosun's containers
docker run -d --name bosun-demo-monitored --label bosun.managed=true bosun-busybox sleep 300 >/dev/null
bosun send monitor_container_status "{name: 'bosun-demo-monitored', response_channel: 'my_container_is_not_running_$RUN', interval: 10}" --wait
( sleep 1; docker kill bosun-demo-monitored >/dev/null ) &
bosun listen my_container_is_not_running_$RUN --count 1

say "seed 003 · dispatch: Dockercmd run (Attach, Remove), stop, remove"
bosun send dispatch '{Dockercmd: "run", Options: {Name: "hello_world", Attach: ["STDOUT","STDERR"], Remove: true}, Image: "bosun-busybox", Cmd: ["echo", "hello world!"]}' --wait
bosun send dispatch '{Dockercmd: "stop", Options: {Time: 1}, Container: "bosun-demo-site"}' --wait
bosun send dispatch '{Dockercmd: "remove", Container: "bosun-demo-site"}' --wait

say "bad input gets a clear error (and lands on bosun.errors)"
bosun send start_container.create "{image: 'bosun-busybox', comand: 'ls'}" --wait || true
bosun send start_container.create "{image: 'bosun-busybox', volumes: {'/var/run/docker.sock': {bind: '/s'}}}" --wait || true
bosun send close_container "{name: 'bosun-demo-monitored'}" --wait

say "a hostile publisher gets refused, and the agent stays up"
bosun send container_status "{name: 'x/..'}" --wait || true
bosun send start_container.response_channel "{image: 'bosun-busybox', command: 'true', response_channel: 'demo_hostile_$RUN', network: 'container:bosun-demo-site'}" --wait || true
docker run -d --name bosun-demo-foreign bosun-busybox sleep 300 >/dev/null
bosun send container_status "{name: 'bosun-demo-foreign'}" --wait || true
docker rm -f bosun-demo-foreign >/dev/null
bosun send start_container.response_channel "{image: 'bosun-busybox', command: 'true', response_channel: 'demo_hostile_$RUN', resources: {memory: '64g'}}" --wait || true

say "seed 002 · a declarative stack: plan, up, drift, update in place, down"
STACK="$ROOT/examples/stacks/site.yml"
bosun stack plan -f "$STACK"
bosun stack up -f "$STACK"
db_before=$(docker inspect -f '{{.Id}}' bosun-demo-stack-db)
echo "-- one env var of web changed: only web's containers are recreated"
GREETING=hi bosun stack plan -f "$STACK"
GREETING=hi bosun stack update -f "$STACK"
echo "-- db's memory limit changed: updated in place, same container id"
GREETING=hi DB_MEM=96m bosun stack update -f "$STACK"
db_after=$(docker inspect -f '{{.Id}} {{.HostConfig.Memory}}' bosun-demo-stack-db)
echo "db id before ${db_before:0:12}, after ${db_after:0:12}, memory now ${db_after##* } bytes"
GREETING=hi DB_MEM=96m bosun stack ps -f "$STACK"
bosun stack down -f "$STACK"

say "seed 001 · a cluster: bosun server + one bosun node, a service with 2 replicas"
docker build -q -t bosun-demo-daemon "$ROOT/examples/daemon" >/dev/null 2>&1
DEMO_TOKEN=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
(umask 077; head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$WORK/cluster.key")
AUTH="authorization: Bearer $DEMO_TOKEN"
node "$ROOT/bin/bosun.js" server --store memory: --http 127.0.0.1:5099 --token "$DEMO_TOKEN" --cluster-key "$WORK/cluster.key" > "$WORK/server.log" 2>&1 &
SERVER=$!
node "$ROOT/bin/bosun.js" node --name demo-node-1 --cluster-key "$WORK/cluster.key" > "$WORK/node.log" 2>&1 &
NODE=$!
stop_cluster() { kill -TERM "$NODE" "$SERVER" 2>/dev/null; wait "$NODE" "$SERVER" 2>/dev/null || true; }
for _ in $(seq 1 40); do curl -sf -H "$AUTH" 127.0.0.1:5099/nodes 2>/dev/null | grep -q demo-node-1 && break; sleep 0.5; done
curl -s -X POST 127.0.0.1:5099/service -H "$AUTH" -H 'content-type: application/json' \
  -d '{"services":[{"serviceName":"bosun-demo-svc","replicas":2,"container":{"name":"bosun-demo-svc","image":"bosun-demo-daemon"}}]}'
echo
for _ in $(seq 1 40); do curl -s -H "$AUTH" 127.0.0.1:5099/state | grep -q '"bosun-demo-svc":"2/2"' && break; sleep 0.5; done
echo "GET /state:"; curl -s -H "$AUTH" 127.0.0.1:5099/state; echo
curl -s -H "$AUTH" -X DELETE 127.0.0.1:5099/services/bosun-demo-svc; echo
for _ in $(seq 1 40); do [ -z "$(docker ps -q --filter label=bosun.service=bosun-demo-svc)" ] && break; sleep 0.5; done
stop_cluster

say "seed 004 · event glue: HAProxy follows labelled containers as they come and go"
if ! command -v haproxy >/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then DEBIAN_FRONTEND=noninteractive apt-get install -y -qq haproxy >/dev/null; fi
fi
if command -v haproxy >/dev/null; then
  node "$ROOT/bin/bosun.js" balancer -w --config-file "$WORK/haproxy.cfg" --http-bind 127.0.0.1:5098 --reload master --only-label bosun.demo=glue > "$WORK/glue.log" 2>&1 &
  GLUE=$!
  via_haproxy() { curl -s -o /dev/null -w '%{http_code}' -H 'Host: demo.local' 127.0.0.1:5098/app/ || true; }
  for _ in $(seq 1 40); do [ "$(via_haproxy)" = 404 ] && break; sleep 0.25; done
  echo "GET http://demo.local/app/ through haproxy, no container yet: $(via_haproxy)"
  docker run -d --name bosun-demo-glue-web --expose 80 --label bosun.demo=glue \
    --label glue_http_80_host=demo.local --label glue_http_80_prefix=app --label glue_http_80_strip_prefix=1 \
    bosun-busybox sh -c 'mkdir -p /www && echo "hello from a container routed by bosun glue" > /www/index.html && exec httpd -f -p 80 -h /www' >/dev/null
  for _ in $(seq 1 80); do [ "$(via_haproxy)" = 200 ] && break; sleep 0.1; done
  echo "after docker run (labels glue_http_80_host=demo.local, _prefix=app, _strip_prefix=1): $(via_haproxy) $(curl -s -H 'Host: demo.local' 127.0.0.1:5098/app/)"
  docker rm -f bosun-demo-glue-web >/dev/null
  for _ in $(seq 1 80); do [ "$(via_haproxy)" = 404 ] && break; sleep 0.1; done
  echo "after docker rm: $(via_haproxy) (the route left with the container)"
  kill -TERM "$GLUE" 2>/dev/null; wait "$GLUE" 2>/dev/null || true
else
  echo "haproxy is not installed (and could not be installed here): skipped"
fi

say "fast runs: the same function run cold, then warm (a prewarmed container, used once, then replaced)"
field() { node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const e=JSON.parse(s.slice(s.indexOf("{")));console.log(process.argv.slice(1).map(k=>k+"="+JSON.stringify(e[k])).join("  "))})' "$@"; }
for _ in $(seq 1 60); do [ "$(docker ps -q --filter label=bosun.pool --filter status=running | wc -l)" -ge 2 ] && break; sleep 0.5; done
for mode in false true; do
  bosun send start_container.response_channel "{image: 'bosun-busybox:latest', command: 'echo hello from a function', warm: $mode, response_channel: 'demo_fast_${mode}_$RUN'}" --listen "demo_fast_${mode}_$RUN" | field warm duration_ms stdout
done

say "live output: stream: true publishes the run's lines while it runs (bosun send --follow prints them)"
bosun send start_container.response_channel "{image: 'bosun-busybox:latest', command: ['sh', '-c', 'for i in 1 2 3; do echo line \$i; sleep 0.3; done'], stream: true, response_channel: 'demo_stream_$RUN'}" --follow 2>/dev/null

say "a durable workflow (Amazon States Language): seed 000's chain, run → its output → the next run"
sed 's/busybox:latest/bosun-busybox:latest/' examples/workflows/chain.yaml > "$WORK/chain.yaml"
echo "in this process (bosun workflow run, embedded store):"
bosun workflow run "$WORK/chain.yaml" --input '{"name": "world"}' --state-dir "$WORK/wf-state" 2>/dev/null
echo "on the agent, through the broker (bosun workflow start --wait: the states on stderr, the output on stdout):"
bosun workflow start "$WORK/chain.yaml" --input '{"name": "agent"}' --execution-name "demo-chain-$RUN" --wait
bosun workflow status "demo-chain-$RUN" | field status

say "workflows: an ASL definition is validated before anything runs"
bosun workflow validate examples/workflows/build-and-test.yaml
echo '{"StartAt": "A", "States": {"A": {"Type": "Task", "Resource": "bosun:nope", "Next": "B"}}}' > "$WORK/bad.asl.json"
bosun workflow validate "$WORK/bad.asl.json" || true

say "done: every reply above is bosun's reply envelope (see README); agent log: JSON lines, one per event"
