#!/usr/bin/env bash
# The test command: starts what is missing, then runs every test (unit, contracts, integration)
# with node's test runner, one file at a time (they share one Docker engine).
set -euo pipefail
cd "$(dirname "$0")/.."
[ -d node_modules ] || npm ci
bash scripts/ensure-services.sh --all
npx tsc -p tsconfig.test.json
shopt -s globstar nullglob
files=(test/unit/**/*.test.ts test/property/**/*.test.ts test/contracts/**/*.test.ts test/integration/**/*.test.ts)
if [ $# -gt 0 ]; then files=("$@"); fi
exec node --import tsx --test --test-concurrency=1 --test-force-exit --test-timeout=300000 "${files[@]}"
