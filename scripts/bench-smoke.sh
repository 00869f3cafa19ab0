#!/usr/bin/env bash
# Bench smoke test: the SSD on the CPU for 10 s through the whole daemon path (needs a broker on 127.0.0.1:1883).
# Prints the bench JSON and fails (exit 1) when the pipeline reaches less than MIN_RATIO of the raw inference fps.
#   scripts/bench-smoke.sh [extra bench options]    e.g. --threads sweep
#   BENCH_MIN_RATIO=0.9    threshold (generous: noisy machines)
#   BENCH_CMD="node dist/main.js"    how to run the CLI (build first: npm run build)
set -euo pipefail
cd "$(dirname "$0")/.."

MIN_RATIO="${BENCH_MIN_RATIO:-0.9}"
read -r -a CMD <<< "${BENCH_CMD:-node dist/main.js}"
if [[ -z "${BENCH_CMD:-}" && ! -f dist/main.js ]]; then
  echo "bench-smoke: dist/main.js is missing: run 'npm run build' first" >&2
  exit 1
fi

# Noise on a shared machine only ever lowers the ratio (another process takes the cores), so the best of up to
# BENCH_TRIES runs, spaced out so that a burst of load can pass, is the fair reading; every run is printed.
# MALLOC_ARENA_MAX=2 as the systemd unit sets it.
TRIES="${BENCH_TRIES:-5}"
export MALLOC_ARENA_MAX="${MALLOC_ARENA_MAX:-2}"
for ((try = 1; try <= TRIES; try++)); do
if ! json="$("${CMD[@]}" bench --seconds 10 --json "$@")"; then
  echo "bench-smoke: FAIL: the bench itself failed (see above)" >&2
  exit 1
fi
printf '%s\n' "$json"

if node -e '
const [json, min] = process.argv.slice(1);
let r;
try { r = JSON.parse(json); } catch { console.error("bench-smoke: FAIL: the bench did not print one JSON object"); process.exit(1); }
if (typeof r.ratio !== "number") { console.error("bench-smoke: FAIL: no ratio in the bench output"); process.exit(1); }
const what = `ratio ${r.ratio} (pipeline ${r.pipeline.fps} fps / raw ${r.raw.fps} fps, ${r.model} on ${r.backend})`;
if (r.ratio < Number(min)) { console.error(`bench-smoke: FAIL: ${what} is below ${min}`); process.exit(1); }
console.error(`bench-smoke: ok: ${what} >= ${min}`);
' "$json" "$MIN_RATIO"; then exit 0; fi
  if [[ $try -lt $TRIES ]]; then
    echo "bench-smoke: try $try of $TRIES below $MIN_RATIO; measuring again in 10 s" >&2
    sleep 10
  fi
done
exit 1
