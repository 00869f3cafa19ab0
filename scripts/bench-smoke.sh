#!/usr/bin/env bash
# Bench smoke test: MobileNet v1 0.25-128 on the CPU for 10 s through the whole daemon path (needs a broker on
# 127.0.0.1:1883). A model this fast (4 ms) leaves the daemon's own cost per frame in plain sight, as a Coral does.
# Prints the bench JSON; fails (exit 1) when the pipeline keeps the detector waiting or costs too much CPU per frame.
#   scripts/bench-smoke.sh [extra bench options]    e.g. --stall-ms 5 (the self-test: must fail)
#   BENCH_MAX_IDLE_SHARE=0.25  the detector's mean wait for the next frame, as a share of an inference, at most
#   BENCH_MAX_CPU_MS=4         CPU per frame beyond the runtime (daemon + inference host), at most, in ms
#   BENCH_TRIES=1              runs before giving up (each is printed)
#   BENCH_CMD="node dist/main.js"    how to run the CLI (build first: npm run build)
#
# The verdict uses figures that load on a shared machine does not move: how long the detector sat idle waiting for
# the pipeline (with two frames in flight a sound pipeline always has the next one there) and CPU time per frame
# (the processes' own counters). Wall-clock fps ratios are printed, not judged: another process taking a core slows
# the pipeline (two busy processes) more than the raw loop (one), whatever the daemon does. A frame held up in the
# pipeline (`--stall-ms 5`) leaves the detector idle and fails; so does a pipeline burning CPU per frame.
set -euo pipefail
cd "$(dirname "$0")/.."

MAX_IDLE_SHARE="${BENCH_MAX_IDLE_SHARE:-0.25}"
MAX_CPU_MS="${BENCH_MAX_CPU_MS:-4}"
TRIES="${BENCH_TRIES:-1}"
MODEL="${BENCH_MODEL:-../shared/models/mobilenet_v1_0.25_128_quant.tflite}"
read -r -a CMD <<< "${BENCH_CMD:-node dist/main.js}"
if [[ -z "${BENCH_CMD:-}" && ! -f dist/main.js ]]; then
  echo "bench-smoke: dist/main.js is missing: run 'npm run build' first" >&2
  exit 1
fi
[[ -f "$MODEL" ]] || { echo "bench-smoke: $MODEL is missing (../shared/models beside the checkout)" >&2; exit 1; }

for ((try = 1; try <= TRIES; try++)); do
  if ! json="$("${CMD[@]}" bench --model "$MODEL" --seconds 10 --json "$@")"; then
    echo "bench-smoke: FAIL: the bench itself failed (see above)" >&2
    exit 1
  fi
  printf '%s\n' "$json"
  if node -e '
const [json, maxIdle, maxCpu] = process.argv.slice(1);
let r;
try { r = JSON.parse(json); } catch { console.error("bench-smoke: FAIL: the bench did not print one JSON object"); process.exit(1); }
const idle = r.pipeline?.detectorIdleMs, runtime = r.raw?.p50Ms, cpu = r.cpuPerFrameMs?.outside;
if (![idle, runtime, cpu].every((v) => typeof v === "number") || !(runtime > 0)) { console.error("bench-smoke: FAIL: figures missing from the bench output"); process.exit(1); }
const share = idle / runtime;
const what = `detector idle ${idle.toFixed(2)} ms a frame (${(share * 100).toFixed(1)} % of a ${runtime} ms inference), CPU beyond the runtime ${cpu.toFixed(2)} ms a frame; ratio ${r.ratio} (pipeline ${r.pipeline.fps} fps / raw ${r.raw.fps} fps, ${r.model} on ${r.backend})`;
const bad = [];
if (share > Number(maxIdle)) bad.push(`idle share over ${maxIdle}`);
if (cpu > Number(maxCpu)) bad.push(`CPU over ${maxCpu} ms`);
if (bad.length) { console.error(`bench-smoke: FAIL: ${what}: ${bad.join(", ")}`); process.exit(1); }
console.error(`bench-smoke: ok: ${what}`);
' "$json" "$MAX_IDLE_SHARE" "$MAX_CPU_MS"; then exit 0; fi
  if [[ $try -lt $TRIES ]]; then
    echo "bench-smoke: try $try of $TRIES failed; measuring again in 10 s" >&2
    sleep 10
  fi
done
exit 1
