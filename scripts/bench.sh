#!/usr/bin/env bash
# npm run bench: every benchmark, each printing its figures beside a reference measured in the same run.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -d node_modules ] || npm ci
bash scripts/ensure-services.sh --all
for b in bench/agent.bench.ts bench/fuzz.bench.ts bench/stacks.bench.ts bench/glue.bench.ts bench/cluster.bench.ts bench/cluster-failover.bench.ts; do
  [ -f "$b" ] || continue
  echo "== $b"
  node --import tsx "$b"
done
