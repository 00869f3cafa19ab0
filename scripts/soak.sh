#!/usr/bin/env bash
# Soak: runs the daemon for a while and reports its RSS, open file descriptors and child processes after warm-up and
# at the end (not part of CI: it takes 10 minutes). Needs a build (npm run build), ffmpeg and a broker on 127.0.0.1.
#   scripts/soak.sh [SECONDS] [CONFIG]
# Without CONFIG it runs the SSD on the CPU over the fake Pi camera of the tests (640x480 I420 at 30 fps), with
# MALLOC_ARENA_MAX=2 as the systemd unit sets it.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-600}"
config="${2:-}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
if [[ -z "$config" ]]; then
  model=models/coco_ssd_mobilenet_v1_1.0_quant_2018_06_29.tflite
  [[ -f "$model" ]] || model=../shared/models/coco_ssd_mobilenet_v1_1.0_quant_2018_06_29.tflite
  config="$work/config.json"
  cat >"$config" <<JSON
{
  "device": { "id": "soak" },
  "cameras": { "pi": { "source": { "type": "rpicam", "width": 640, "height": 480, "framerate": 30,
                                   "rpicamPath": "$PWD/test/fixtures/rpicam/rpicam-vid" }, "detect": { "fps": 0 } } },
  "detector": { "backend": "cpu", "model": { "cpu": "$PWD/$model" } },
  "mqtt": { "topicPrefix": "soak", "outbox": { "dir": "$work/outbox" } },
  "stats": { "intervalSec": 30 }
}
JSON
fi

MALLOC_ARENA_MAX=2 node dist/main.js run --config "$config" >"$work/log" 2>&1 &
pid=$!
sample() {
  local rss fds kids processed
  rss=$(ps -o rss= -p "$pid" | tr -d ' ')
  fds=$(ls "/proc/$pid/fd" | wc -l)
  kids=$(ps -o comm=,rss= --ppid "$pid" | sort | awk '{printf "%s%s %.1f MB", sep, $1, $2 / 1024; sep=", "}')
  processed=$(grep '"msg":"stats"' "$work/log" | tail -1 | sed -n 's/.*"processed":\([0-9]*\).*/\1/p')
  printf '%s: rss %.1f MB, open fds %s, children [%s], frames processed %s\n' "$1" "$(awk -v r="$rss" 'BEGIN { print r / 1024 }')" "$fds" "$kids" "${processed:-0}"
}
sleep 40
sample "after warm-up"
sleep $((seconds > 40 ? seconds - 40 : 0))
sample "at the end   "
kill -TERM "$pid"
wait "$pid" && echo "stopped cleanly (exit 0)" || echo "exit code $?"
echo "error lines in the log: $(grep -c '"level":50' "$work/log" || true)"
