#!/usr/bin/env bash
# Runs every *.test.ts under src/ and test/ with node's own test runner (each file in its own process).
# Extra arguments are passed through, e.g. `bash scripts/test.sh test/native.test.ts`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/test-deps.sh
if [ $# -gt 0 ]; then files=("$@"); else
  mapfile -t files < <(find src test -name '*.test.ts' -not -path '*/node_modules/*' | sort)
fi
exec node --import tsx --test --test-concurrency=1 --test-reporter=spec "${files[@]}"
