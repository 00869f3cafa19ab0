#!/usr/bin/env bash
# The demo: fetch the CPU SSD model and sample photos (from ../shared when it is beside the checkout, else from their
# public URLs), then run the daemon on them against the broker on 127.0.0.1:1883. Ctrl-C stops it.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -f dist/main.js ] || npm run build
from=()
[ -d ../shared/models ] && from+=(--from ../shared/models)
[ -d ../shared/images ] && from+=(--from ../shared/images)
node dist/main.js fetch-models "${from[@]}"
exec bin/mobilenet-edge run --demo
