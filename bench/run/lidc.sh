#!/usr/bin/env bash
# Wall time per stage and in total, and peak memory, of `recist3d run` on the 617 LIDC nodules
# (issue 6 performance target: <= 10 minutes on 2 cores). Needs ../shared/data/lidc and `npm run setup`.
# Usage: bash bench/run/lidc.sh [extra run options]
set -euo pipefail
cd "$(dirname "$0")/../.."
DATA=${RECIST3D_SHARED_DATA:-../shared/data}/lidc
[ -d "$DATA/image" ] || { echo "LIDC data not found at $DATA; skipping"; exit 0; }
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
node dist/cli/main.js recist-from-masks --images "$DATA/image" --masks "$DATA/mask" --out "$OUT/manifest.csv" --category lung >/dev/null
start=$(date +%s)
CI=true node dist/cli/main.js run --manifest "$OUT/manifest.csv" --out "$OUT/run" --no-report "$@" 2>&1 | grep -E 'finished in|segmented'
echo "wall time of the command: $(( $(date +%s) - start )) s; load average: $(cut -d' ' -f1-3 /proc/loadavg)"
node -e '
const m = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
for (const [k, v] of Object.entries(m.stageSeconds)) console.log(`stage ${k.padEnd(12)} ${v.toFixed(1).padStart(8)} s`);
console.log(`total        ${m.totalSeconds.toFixed(1).padStart(8)} s`);
console.log(`peak RSS     ${String(m.peakRssMb).padStart(8)} MB`);
console.log(`3D Dice      ${m.metrics3d.overall.stats.dice.mean.toFixed(3)}`);
' "$OUT/run/metrics.json"
