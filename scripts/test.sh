#!/usr/bin/env bash
# Runs every *.test.ts under src/ and test/ with node's own test runner (each file in its own process).
# Extra arguments are passed through, e.g. `bash scripts/test.sh test/native.test.ts`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/test-deps.sh
if [ $# -gt 0 ]; then files=("$@"); else
  # the browser tests (test/e2e, about 2-4 min on 2 busy cores) run only with RECIST3D_E2E=1, which .ci/run sets
  if [ "${RECIST3D_E2E:-0}" = 1 ]; then skip_e2e=(); else skip_e2e=(-not -path 'test/e2e/*'); fi
  mapfile -t files < <(find src test -name '*.test.ts' -not -path '*/node_modules/*' "${skip_e2e[@]}" | sort)
fi
# the browser tests (test/e2e) need Debian's chromium: the setup installs it only for them
if printf '%s\n' "${files[@]}" | grep -q 'test/e2e/'; then bash scripts/setup.sh --browser; fi
# the SR test decodes the training photographs: the setup installs them only for it (and `setup.sh --sr` for `sr train`)
if printf '%s\n' "${files[@]}" | grep -q 'test/sr.test.ts'; then bash scripts/setup.sh --sr; fi
exec node --import tsx --test --test-concurrency=1 --test-reporter=spec "${files[@]}"
