#!/usr/bin/env bash
# Import-boundary lint (eslint.config.js): fails naming the rule and the file that broke it.
set -euo pipefail
cd "$(dirname "$0")/.."
npx eslint --max-warnings 0 src
echo "[lint] import boundaries hold"
