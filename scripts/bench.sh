#!/usr/bin/env bash
# npm run bench: every benchmark, each printing its figures beside a reference measured in the same run.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -d node_modules ] || npm ci
bash scripts/ensure-services.sh --all
# Its own RabbitMQ vhost, as the tests get: an agent of another run on "/" would take the bench's messages.
if [ -z "${BOSUN_TEST_AMQP:-}" ] && command -v rabbitmqctl >/dev/null 2>&1; then
  vhost="bosun-bench-$$-$RANDOM"
  rabbitmqctl -q add_vhost "$vhost" >/dev/null
  rabbitmqctl -q set_permissions -p "$vhost" guest '.*' '.*' '.*' >/dev/null
  export BOSUN_TEST_AMQP="amqp://guest:guest@127.0.0.1:5672/$vhost"
  trap 'rabbitmqctl -q delete_vhost "$vhost" >/dev/null 2>&1 || true' EXIT
fi
# Only the named benches when given (npm run bench -- bench/warm.bench.ts).
benches="${*:-}"
for b in ${benches:-bench/agent.bench.ts bench/warm.bench.ts bench/run-stream.bench.ts bench/runtime.bench.ts bench/fuzz.bench.ts bench/stacks.bench.ts bench/glue.bench.ts bench/cluster.bench.ts bench/cluster-failover.bench.ts bench/workflow-transitions.bench.ts bench/workflow-tasks.bench.ts bench/workflow-agent.bench.ts}; do
  [ -f "$b" ] || continue
  echo "== $b"
  node --import tsx "$b"
done
