#!/usr/bin/env bash
# The test command: starts what is missing, then runs every test (unit, contracts, integration)
# with node's test runner, one file at a time (they share one Docker engine).
# Each run gets its own RabbitMQ vhost and Redis database, so two runs on one machine never
# consume each other's queues; both are removed when the run ends.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -d node_modules ] || npm ci
bash scripts/ensure-services.sh --all
npx tsc -p tsconfig.test.json
bash scripts/lint.sh

run_id="bosun-test-$$-$RANDOM"
if [ -z "${BOSUN_TEST_AMQP:-}" ] && command -v rabbitmqctl >/dev/null 2>&1; then
  rabbitmqctl -q add_vhost "$run_id" >/dev/null
  rabbitmqctl -q set_permissions -p "$run_id" guest '.*' '.*' '.*' >/dev/null
  export BOSUN_TEST_AMQP="amqp://guest:guest@127.0.0.1:5672/$run_id"
  trap 'rabbitmqctl -q delete_vhost "$run_id" >/dev/null 2>&1 || true' EXIT
fi
if [ -z "${BOSUN_TEST_REDIS:-}" ]; then
  db=$(( (RANDOM % 15) + 1 ))
  export BOSUN_TEST_REDIS="redis://127.0.0.1:6379/$db" BOSUN_TEST_REDIS_URL="redis://127.0.0.1:6379/$db"
fi
export BOSUN_BROKER_URL="${BOSUN_TEST_AMQP:-amqp://guest:guest@127.0.0.1:5672}"
export BOSUN_TEST_RUN_ID="$run_id"

shopt -s globstar nullglob
# The bound is on each file as a whole; the tests' own waits read it to fail, naming what they
# waited for, before the runner kills the file (test/helpers/docker.ts fileBudget).
export BOSUN_TEST_FILE_TIMEOUT_MS=300000
run() { node --import tsx --test --test-concurrency=1 --test-timeout="$BOSUN_TEST_FILE_TIMEOUT_MS" "$@"; }
if [ $# -gt 0 ]; then run "$@"; exit; fi
# No --test-force-exit anywhere: it hid leaked handles and was seen to end a file before all its
# tests ran. A file that leaks a socket or timer now keeps the run from ending: find it with
# process.getActiveResourcesInfo() at the end of that file.
run test/unit/**/*.test.ts test/property/**/*.test.ts
run test/contracts/**/*.test.ts test/integration/**/*.test.ts
