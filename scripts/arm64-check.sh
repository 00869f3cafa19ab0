#!/usr/bin/env bash
# arm64 check: runs the committed tree of this checkout on aarch64 (Debian 13 trixie, its own Node 20) under
# qemu-user-static, without a Pi. It proves that `npm ci` builds the native TFLite binding for aarch64, that the SSD
# finds the same objects there as on this host, and that the daemon runs there, publishes to MQTT and stops cleanly.
# It proves nothing about speed (an emulated SSD inference takes 2-5 s here, ~70 ms natively), the Pi camera or the
# Coral. Not part of `npm test`: the first run took 43 minutes here (debootstrap 27, npm ci 8, tsc 4), later ones
# 4 minutes (the root, node_modules and dist are cached). Needs root (debootstrap, mount, chroot), apt, the npm
# registry and the broker on 127.0.0.1:1883.
#
#   sudo scripts/arm64-check.sh [--seconds N] [--fresh-npm] [--rebuild-root]
#
#   --seconds N      how long the daemon runs after its first detection (default 90, or $ARM64_DAEMON_SECONDS)
#   --fresh-npm      run `npm ci` in the root even when package.json and the lockfile have not changed since the last one
#   --rebuild-root   throw the cached root away and debootstrap a new one
#
# The root is cached outside the project: $ARM64_ROOT, else ${XDG_CACHE_HOME:-~/.cache}/mobilenet-edge/arm64-trixie.
# The shared models and images ($ARM64_SHARED, else ../shared beside the checkout) are bind-mounted read-only into it.
set -euo pipefail

readonly SUITE=trixie
readonly PACKAGES=nodejs,npm,ca-certificates,python3,make,g++,libusb-1.0-0
readonly SSD=coco_ssd_mobilenet_v1_1.0_quant_2018_06_29.tflite
readonly MIN_SCORE=0.5   # compared from here (the detector's default)
readonly LISTED_FROM=0.4 # detect lists from here, so a result just under MIN_SCORE on one side is still seen
# aarch64 runs other TFLite kernels than x86-64 (the fast uint8 depthwise ones are ARM-only), so results differ a
# little: measured here, scores by up to 0.016 (4 steps of the model's 1/256) and box corners by up to 0.017 of the
# frame (the SSD decodes its quantized box offsets through exp(), which widens a step).
readonly SCORE_TOL=0.02
readonly BOX_TOL=0.03
# Paths inside the root: the project and ../shared beside it, as in a checkout.
readonly IN_PROJECT=/opt/mobilenet-edge
readonly IN_SHARED=/opt/shared
readonly IN_WORK=/tmp/arm64-check
readonly FRAME_INTERVAL=10 # seconds between the daemon's frames: longer than an emulated inference

script_dir="$(cd "$(dirname "$0")" && pwd)"
repo="$(git -C "$script_dir" rev-parse --show-toplevel)"
shared="$(realpath -m "${ARM64_SHARED:-$repo/../shared}")"
root="$(realpath -m "${ARM64_ROOT:-${XDG_CACHE_HOME:-$HOME/.cache}/mobilenet-edge/arm64-trixie}")"
daemon_seconds="${ARM64_DAEMON_SECONDS:-90}"
fresh_npm=0
rebuild_root=0
readonly READY_MARK="$root/etc/mobilenet-edge-arm64-root"

mounted=()       # what this run mounted, unmounted in reverse order on exit
timings=()       # "step seconds" per step, printed at the end
host_tmp=""      # the host's build of the same commit
out="$(dirname "$root")/arm64-check-last-run" # this run's detect outputs, MQTT messages and daemon log, kept for a look afterwards
daemon_pid=""
sub_pid=""
binding_note=""  # whether this run built the aarch64 binding or reused the last build
root_node=""     # node's version in the root
daemon_detections=0
in_root=()       # see make_in_root
in_project=()

log() { printf '\n== %s\n' "$*"; }
die() {
  printf 'arm64-check: %s\n' "$*" >&2
  exit 1
}

usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; }

parse_args() {
  while (($#)); do
    case "$1" in
      --seconds) daemon_seconds="${2:?--seconds needs a number}"; shift ;;
      --fresh-npm) fresh_npm=1 ;;
      --rebuild-root) rebuild_root=1 ;;
      -h | --help) usage; exit 0 ;;
      *) usage >&2; exit 64 ;;
    esac
    shift
  done
  [[ "$daemon_seconds" =~ ^[0-9]+$ ]] || die "--seconds: not a whole number of seconds: $daemon_seconds"
}

# Runs a step and records how long it took.
step() {
  local name="$1" t0
  shift
  log "$name"
  t0=$(date +%s)
  "$@"
  timings+=("$(printf '%-44s %5ss' "$name" "$(($(date +%s) - t0))")")
}

# --- mounts and cleanup -----------------------------------------------------------------------------------------------

mount_bind() { # SRC DST [ro]
  mkdir -p "$2"
  mount --bind "$1" "$2"
  mounted+=("$2")
  [[ "${3:-}" != ro ]] || mount -o remount,bind,ro "$2"
}

# Mount points at or under DIR, deepest first (left by a killed run or a failed debootstrap, or ours).
mounts_under() {
  awk -v d="$1" '$2 == d || index($2, d "/") == 1 { print $2 }' /proc/mounts | sort -r
}

unmount_under() {
  local m
  for m in $(mounts_under "$1"); do
    umount "$m" 2>/dev/null || umount -l "$m"
  done
}

cleanup() {
  local rc=$? i
  set +e
  [[ -z "$daemon_pid" ]] || kill -KILL "$daemon_pid" 2>/dev/null
  [[ -z "$sub_pid" ]] || kill "$sub_pid" 2>/dev/null
  for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do
    umount "${mounted[i]}" 2>/dev/null || umount -l "${mounted[i]}"
  done
  # Anything still mounted in the root (a chroot's own mounts) must go before anyone deletes the root.
  unmount_under "$root"
  [[ -z "$host_tmp" ]] || rm -rf "$host_tmp"
  ((rc == 0)) || printf '\narm64-check: FAILED (exit %s); outputs in %s, the root in %s\n' "$rc" "$out" "$root" >&2
  exit "$rc"
}

# Deletes a directory only when nothing is mounted in it: an rm -rf through a bind of /dev would empty the host's.
remove_root() {
  unmount_under "$root"
  [[ -z "$(mounts_under "$root")" ]] || die "still mounted under $root: $(mounts_under "$root" | tr '\n' ' ')"
  rm -rf --one-file-system "$root"
}

# --- the host ---------------------------------------------------------------------------------------------------------

host_tools() {
  local missing=()
  command -v qemu-aarch64-static >/dev/null || missing+=(qemu-user-static)
  command -v debootstrap >/dev/null || missing+=(debootstrap)
  command -v update-binfmts >/dev/null || missing+=(binfmt-support)
  command -v mosquitto_sub >/dev/null || missing+=(mosquitto-clients)
  if ((${#missing[@]})); then
    echo "installing ${missing[*]}"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  else
    echo "qemu-user-static, debootstrap, binfmt-support and mosquitto-clients are installed"
  fi
}

# The kernel runs aarch64 ELF files through qemu only with a registered binfmt_misc handler. In a container
# binfmt_misc is often not mounted; qemu-user-static registers its handlers with the F flag (the interpreter is
# opened at registration), so the chroot needs no qemu binary of its own.
binfmt_aarch64() {
  local dir=/proc/sys/fs/binfmt_misc
  if [[ ! -e "$dir/status" ]]; then
    mount -t binfmt_misc binfmt_misc "$dir"
    mounted+=("$dir")
    echo "mounted binfmt_misc"
  fi
  grep -qx enabled "$dir/qemu-aarch64" 2>/dev/null || update-binfmts --enable qemu-aarch64
  grep -qx enabled "$dir/qemu-aarch64" || die "the qemu-aarch64 binfmt handler is not enabled ($dir/qemu-aarch64)"
  echo "$(qemu-aarch64-static --version | head -n1); handler: $(sed -n 's/^interpreter //p' "$dir/qemu-aarch64"), flags $(sed -n 's/^flags: //p' "$dir/qemu-aarch64")"
}

# The Debian mirror the host's apt uses: only it may be reachable (no internet at large). $ARM64_MIRROR overrides.
debian_mirror() {
  if [[ -n "${ARM64_MIRROR:-}" ]]; then
    echo "$ARM64_MIRROR"
    return
  fi
  local files=() f uri
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
    [[ -f "$f" ]] && files+=("$f")
  done
  # One-line "deb URI suite ..." and deb822 "URIs: ..."; the archive is the URI whose path ends in /debian
  # (not debian-security, not a vendor's repository).
  uri=$(awk '/^[[:space:]]*deb[[:space:]]/ { for (i = 2; i <= NF; i++) if ($i !~ /^\[/ && $i !~ /\]$/) { print $i; break } }
             /^URIs:/ { for (i = 2; i <= NF; i++) print $i }' "${files[@]}" 2>/dev/null |
    grep -E '^https?://[^ ]+/debian/?$' | head -n1 || true)
  echo "${uri:-http://deb.debian.org/debian}"
}

# The CA bundle npm on the host trusts: in a network that inspects TLS it holds the inspecting CA, without which
# npm in the root fails with SELF_SIGNED_CERT_IN_CHAIN.
host_ca_bundle() {
  local f
  for f in "${npm_config_cafile:-}" "$(npm config get cafile 2>/dev/null || true)" "${NODE_EXTRA_CA_CERTS:-}" \
    "${SSL_CERT_FILE:-}" /etc/ssl/certs/ca-certificates.crt; do
    [[ -n "$f" && "$f" != null && "$f" != undefined && -f "$f" ]] && { echo "$f"; return; }
  done
  die "no CA bundle found on the host (npm config get cafile, NODE_EXTRA_CA_CERTS, /etc/ssl/certs)"
}

# --- the root ---------------------------------------------------------------------------------------------------------

# How to run a command in the root: chroot with a clean environment, as the host's (paths to host files, the host's
# npm config) means nothing there. An array, not a function, so that `"${in_root[@]}" cmd &` gives the command's pid.
make_in_root() {
  local env=(HOME=/root PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8
    DEBIAN_FRONTEND=noninteractive TERM=dumb MALLOC_ARENA_MAX=2
    npm_config_cafile=/etc/ssl/host-ca-bundle.crt NODE_EXTRA_CA_CERTS=/etc/ssl/host-ca-bundle.crt
    npm_config_registry="$(npm config get registry 2>/dev/null || echo https://registry.npmjs.org/)"
    npm_config_update_notifier=false npm_config_fund=false npm_config_audit=false)
  local v
  for v in http_proxy https_proxy no_proxy HTTP_PROXY HTTPS_PROXY NO_PROXY; do
    [[ -z "${!v:-}" ]] || env+=("$v=${!v}")
  done
  in_root=(chroot "$root" /usr/bin/env -i "${env[@]}")
  # shellcheck disable=SC2016 # $0 and $@ belong to the inner shell
  in_project=("${in_root[@]}" /bin/sh -c 'cd "$0" && exec "$@"' "$IN_PROJECT")
}

# /proc and /dev for the chroot (npm, node-gyp and dpkg need them), and what the host knows about the network.
prepare_root_runtime() {
  mkdir -p "$root/proc"
  mount -t proc proc "$root/proc"
  mounted+=("$root/proc")
  mount_bind /dev "$root/dev"
  cp -L /etc/resolv.conf "$root/etc/resolv.conf"
  cp -L /etc/hosts "$root/etc/hosts"
  cp -L "$(host_ca_bundle)" "$root/etc/ssl/host-ca-bundle.crt"
}

release_root_runtime() {
  local i
  for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do
    if [[ "${mounted[i]}" == "$root"/* ]]; then
      umount "${mounted[i]}"
      unset 'mounted[i]'
    fi
  done
  mounted=("${mounted[@]}")
}

build_root() {
  if ((rebuild_root)) && [[ -d "$root" ]]; then
    echo "--rebuild-root: removing $root"
    remove_root
  fi
  if [[ -f "$READY_MARK" ]]; then
    echo "cached root: $root ($(tr '\n' ' ' <"$READY_MARK"))"
    return
  fi
  local mirror
  mirror=$(debian_mirror)
  if [[ -x "$root/usr/bin/apt-get" && -f "$root/var/lib/dpkg/status" ]]; then
    # debootstrap got past unpacking the base system (and then stopped, or a run was interrupted): apt can finish
    # it, which takes minutes where a new debootstrap takes half an hour here.
    echo "unfinished root in $root: finishing it with apt (--rebuild-root starts over)"
  else
    [[ ! -e "$root" ]] || { echo "unusable root in $root: starting over" && remove_root; }
    echo "debootstrap $SUITE arm64 from $mirror (the host's mirror) into $root"
    mkdir -p "$root"
    # It fails while configuring: its resolver leaves out some of npm's node-* dependencies (node-cli-table3,
    # node-cssesc, ...), so npm and node-gyp cannot be configured. apt fetches them below.
    debootstrap --arch=arm64 --variant=minbase --include="$PACKAGES" "$SUITE" "$root" "$mirror" ||
      echo "debootstrap stopped with exit $? (expected: npm's dependencies); apt finishes the root"
  fi
  finish_root "$mirror"
}

# Installs what debootstrap left out, configures the rest, checks that every package we need is installed, and
# marks the root as ready.
finish_root() {
  local mirror="$1" pkg status
  [[ -f "$root/etc/apt/sources.list" ]] || echo "deb $mirror $SUITE main" >"$root/etc/apt/sources.list"
  prepare_root_runtime
  "${in_root[@]}" apt-get -f install -y -q --no-install-recommends
  "${in_root[@]}" dpkg --configure -a
  [[ -z "$("${in_root[@]}" dpkg --audit)" ]] || die "packages in the root are still broken: chroot $root dpkg --audit"
  for pkg in ${PACKAGES//,/ }; do
    # shellcheck disable=SC2016 # ${Status} is dpkg-query's, not ours
    status=$("${in_root[@]}" dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
    [[ "$status" == "install ok installed" ]] || die "$pkg is not installed in the root ($status); try --rebuild-root"
  done
  "${in_root[@]}" apt-get clean
  rm -rf --one-file-system "$root/debootstrap"
  printf 'built %s from %s\nnode %s, npm %s\n' "$(date -u +%FT%TZ)" "$mirror" \
    "$("${in_root[@]}" node -v)" "$("${in_root[@]}" npm -v 2>/dev/null)" >"$READY_MARK"
  release_root_runtime
  echo "root ready: $(tr '\n' ' ' <"$READY_MARK")"
}

check_root() {
  local arch
  arch=$("${in_root[@]}" node -p 'process.arch + " " + process.version')
  [[ "$arch" == arm64* ]] || die "node in the root says it is $arch, not arm64"
  root_node=${arch#arm64 }
  echo "node in the root: $arch (through $(sed -n 's/^interpreter //p' /proc/sys/fs/binfmt_misc/qemu-aarch64))"
}

mount_shared() {
  [[ -f "$shared/models/$SSD" ]] || die "the SSD model is missing: $shared/models/$SSD"
  [[ -d "$shared/images" ]] || die "the shared images are missing: $shared/images"
  mount_bind "$shared/models" "$root$IN_SHARED/models" ro
  mount_bind "$shared/images" "$root$IN_SHARED/images" ro
}

# --- the project ------------------------------------------------------------------------------------------------------

# The committed tree (HEAD), so the check is about what is committed; node_modules and dist are kept for their caches.
copy_project() {
  local dir="$root$IN_PROJECT"
  mkdir -p "$dir"
  find "$dir" -mindepth 1 -maxdepth 1 ! -name node_modules ! -name dist -exec rm -rf --one-file-system {} +
  git -C "$repo" archive --format=tar HEAD | tar -x -C "$dir"
  echo "copied $(git -C "$repo" log -1 --format='%h %s' HEAD | cut -c1-100)"
  if [[ -n "$(git -C "$repo" status --porcelain --untracked-files=no)" ]]; then
    echo "note: the checkout has uncommitted changes; they are NOT in this check"
  fi
}

# npm ci takes minutes under emulation: skip it when package.json, the lockfile and node are those of the last one.
npm_ci() {
  local dir="$root$IN_PROJECT" key stamp="$root$IN_PROJECT/node_modules/.arm64-check-npm-ci"
  key="$(cat "$dir/package.json" "$dir/package-lock.json" | sha256sum | cut -c1-16) $("${in_root[@]}" node -v)"
  if ((!fresh_npm)) && [[ -f "$stamp" && "$(head -n1 "$stamp")" == "$key" ]]; then
    binding_note="built by the npm ci of $(sed -n 2p "$stamp"), reused: same lockfile"
    echo "node_modules: $binding_note (--fresh-npm runs npm ci again)"
  else
    "${in_project[@]}" npm ci --no-audit --no-fund
    printf '%s\n%s\n' "$key" "$(date -u +%FT%TZ)" >"$stamp"
    binding_note="built by this run's npm ci"
  fi
  check_binding
}

# The tfjs-tflite-node binding must be an aarch64 ELF file (e_machine 183) and load in the root's node, by the
# specifier the inference host uses (src/inference/host/host-main.ts).
check_binding() {
  local binding=tfjs-tflite-node/build/Release/node_tflite_binding.node machine
  [[ -f "$root$IN_PROJECT/node_modules/$binding" ]] || die "npm ci built no tfjs-tflite-node binding (no node_modules/$binding)"
  machine=$(od -An -tu2 -j18 -N2 "$root$IN_PROJECT/node_modules/$binding" | tr -d ' ')
  [[ "$machine" == 183 ]] || die "node_modules/$binding is not an aarch64 binary (ELF machine $machine)"
  "${in_project[@]}" node -e "require('$binding')" || die "the aarch64 binding does not load in the root's node"
  echo "node_modules/$binding: aarch64 ELF, loads ($binding_note)"
}

# tsc takes ~9 minutes under emulation here (and its output does not depend on the machine): keep dist when the
# committed src, tsconfig and lockfile are those it was built from.
build_in_root() {
  local dir="$root$IN_PROJECT" key stamp="$root$IN_PROJECT/dist/.arm64-check-build"
  key=$(git -C "$repo" rev-parse HEAD:src HEAD:tsconfig.json HEAD:package-lock.json | tr '\n' ' ')
  if [[ -f "$stamp" && "$(head -n1 "$stamp")" == "$key" && -f "$dir/dist/main.js" ]]; then
    echo "dist: built by the npm run build of $(sed -n 2p "$stamp"), reused: same src, tsconfig and lockfile"
    return
  fi
  rm -rf --one-file-system "$dir/dist"
  "${in_project[@]}" npm run build
  printf '%s\n%s\n' "$key" "$(date -u +%FT%TZ)" >"$stamp"
}

# The same commit built on the host, against this checkout's node_modules, so both sides run the same code.
build_on_host() {
  [[ -d "$repo/node_modules" ]] || die "no node_modules in $repo: run npm ci there first"
  host_tmp=$(mktemp -d /tmp/arm64-check.XXXXXX)
  mkdir "$host_tmp/project"
  git -C "$repo" archive --format=tar HEAD | tar -x -C "$host_tmp/project"
  ln -s "$(realpath "$repo/node_modules")" "$host_tmp/project/node_modules"
  (cd "$host_tmp/project" && npm run build --silent)
  echo "built $(git -C "$repo" rev-parse --short HEAD) on the host in $host_tmp/project"
  # Not a verdict: a host node_modules that does not match the lockfile (another TypeScript) may emit other bytes.
  if diff -rq -x .arm64-check-build "$host_tmp/project/dist" "$root$IN_PROJECT/dist" >/dev/null; then
    echo "its dist is byte-identical to the one built on aarch64"
  else
    echo "note: its dist differs from the one built on aarch64 in $(diff -rq -x .arm64-check-build "$host_tmp/project/dist" "$root$IN_PROJECT/dist" | wc -l) files"
  fi
}

# --- the checks -------------------------------------------------------------------------------------------------------

image_names() { find "$shared/images" -maxdepth 1 -type f -printf '%f\n' | sort; }

# Both sides list results from LISTED_FROM, below the compared MIN_SCORE (see arm64-compare.ts).
detect_host() {
  local names=() name args=()
  mapfile -t names < <(image_names)
  for name in "${names[@]}"; do args+=("$shared/images/$name"); done
  (cd "$host_tmp/project" && node dist/main.js detect --json --min-score "$LISTED_FROM" \
    --model "$shared/models/$SSD" "${args[@]}") >"$out/detect-x86-64.jsonl"
  echo "$(wc -l <"$out/detect-x86-64.jsonl") images"
}

detect_arm64() {
  local names=() name args=()
  mapfile -t names < <(image_names)
  for name in "${names[@]}"; do args+=("$IN_SHARED/images/$name"); done
  "${in_project[@]}" node dist/main.js detect --json --min-score "$LISTED_FROM" \
    --model "$IN_SHARED/models/$SSD" "${args[@]}" >"$out/detect-arm64.jsonl"
  echo "$(wc -l <"$out/detect-arm64.jsonl") images"
}

compare_detect() {
  compare detect "$out/detect-x86-64.jsonl" "$out/detect-arm64.jsonl" --arm64-from "$LISTED_FROM"
}

compare() {
  "$repo/node_modules/.bin/tsx" "$script_dir/arm64-compare.ts" "$@" --min-score "$MIN_SCORE" --host-from "$LISTED_FROM" \
    --score-tol "$SCORE_TOL" --box-tol "$BOX_TOL"
}

# Waits up to SECONDS for a command to succeed (event-driven enough for a script: polls twice a second).
wait_for() {
  local seconds="$1" i
  shift
  for ((i = 0; i < seconds * 2; i++)); do
    "$@" && return 0
    sleep 0.5
  done
  return 1
}

# The daemon's stop waits for the inference in flight, within a fixed 5 s deadline (src/cli/run.ts). Under emulation
# one SSD inference takes 2-5 s here, so a SIGTERM in the middle of one overruns it (exit 1), which says nothing
# about a Pi (~0.2-0.35 s). So SIGTERM goes right after a detection arrives: the next frame is FRAME_INTERVAL s away.
stop_when_idle() {
  local mqtt="$1"
  wait_for 120 more_detections_than "$mqtt" "$(detections_in "$mqtt")" || die "no detection for 120 s before the stop"
  kill -TERM "$daemon_pid"
}

detections_in() { grep -c '/detections ' "$1" || true; }
more_detections_than() { (($(detections_in "$1") > $2)); }

daemon_run() {
  local work="$root$IN_WORK" prefix="arm64-check-$$" device=arm64 mqtt="$out/mqtt.txt"
  rm -rf "$work"
  mkdir -p "$work"
  # A files camera over the shared images, the CPU SSD, a long inference timeout (one SSD inference takes 2-5 s
  # under emulation on this loaded machine), the outbox on disk as on a Pi. One frame every FRAME_INTERVAL seconds,
  # so that the detector is idle for a while after each detection: see stop_when_idle.
  cat >"$work/config.json" <<JSON
{
  "device": { "id": "$device" },
  "cameras": { "shared": { "source": { "type": "files", "path": "$IN_SHARED/images", "fps": $(awk -v s="$FRAME_INTERVAL" 'BEGIN { print 1 / s }'), "loop": true } } },
  "detector": { "backend": "cpu", "model": { "cpu": "$IN_SHARED/models/$SSD" }, "kind": "ssd", "inferenceTimeoutMs": 60000 },
  "filters": { "minScore": $MIN_SCORE },
  "mqtt": { "url": "mqtt://127.0.0.1:1883", "topicPrefix": "$prefix", "outbox": { "dir": "$IN_WORK/outbox" } },
  "stats": { "intervalSec": 10 }
}
JSON
  local topic="$prefix/$device"
  mosquitto_sub -h 127.0.0.1 -i "$prefix-sub" -v -t "$topic/availability" -t "$topic/shared/detections" >"$mqtt" &
  sub_pid=$!
  "${in_project[@]}" node dist/main.js run --config "$IN_WORK/config.json" >"$work/daemon.log" 2>&1 &
  daemon_pid=$!
  local t0=$SECONDS
  if ! wait_for 600 grep -q '/detections ' "$mqtt"; then
    tail -n 20 "$work/daemon.log" >&2
    die "no detection from the arm64 daemon on MQTT within 600 s"
  fi
  echo "first detection on MQTT $((SECONDS - t0)) s after the start; running $daemon_seconds s more"
  sleep "$daemon_seconds"
  stop_when_idle "$mqtt"
  local rc=0 t1=$SECONDS
  wait "$daemon_pid" || rc=$?
  daemon_pid=""
  echo "SIGTERM: the daemon exited with $rc after $((SECONDS - t1)) s"
  wait_for 10 grep -q "^$topic/availability offline" "$mqtt" || true
  kill "$sub_pid" 2>/dev/null
  wait "$sub_pid" 2>/dev/null || true
  sub_pid=""
  # Its retained topics (availability, status, counts, snapshots) would stay on the shared broker for ever.
  mosquitto_sub -h 127.0.0.1 -t "$prefix/#" --remove-retained --retained-only -W 2 >/dev/null 2>&1 || true

  local errors
  errors=$(grep -c '"level":50' "$work/daemon.log" || true)
  cp "$work/daemon.log" "$out/daemon.log"
  echo "daemon log: $(wc -l <"$work/daemon.log") lines, $errors at error level"
  ((rc == 0)) || { tail -n 20 "$work/daemon.log" >&2; die "the daemon did not stop cleanly on SIGTERM (exit $rc)"; }
  grep -q "^$topic/availability online" "$mqtt" || die "no retained 'online' on $topic/availability"
  [[ "$(grep "^$topic/availability " "$mqtt" | tail -n1)" == "$topic/availability offline" ]] ||
    die "the last availability was not 'offline' after the stop"
  ((errors == 0)) || { grep '"level":50' "$work/daemon.log" | head -n5 >&2; die "the daemon logged $errors errors"; }
  daemon_detections=$(detections_in "$mqtt")
  echo "availability: online, then offline on the stop; $daemon_detections detections messages"
}

compare_daemon() {
  compare mqtt "$out/detect-x86-64.jsonl" "$out/mqtt.txt" --arm64-from "$MIN_SCORE"
}

print_timings() {
  log "timings"
  printf '%s\n' "${timings[@]}"
}

main() {
  parse_args "$@"
  ((EUID == 0)) || die "needs root (debootstrap, mount, chroot): sudo $0"
  mkdir -p "$(dirname "$root")"
  # One run at a time per root: two would share its mounts and its node_modules.
  exec 9>"$root.lock"
  flock -n 9 || die "another arm64-check is using $root"
  trap cleanup EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  # Left by a run that was killed before its trap ran.
  [[ -z "$(mounts_under "$root")" ]] || { echo "unmounting what a killed run left in $root" && unmount_under "$root"; }
  rm -rf "$out"
  mkdir -p "$out"

  make_in_root
  local t0=$SECONDS
  step "host tools" host_tools
  step "binfmt_misc: aarch64 through qemu" binfmt_aarch64
  step "root: debootstrap $SUITE arm64, or the cache" build_root
  step "root: mounts, DNS, CA bundle" prepare_root_runtime
  step "root: node is aarch64" check_root
  step "root: shared models and images (read-only)" mount_shared
  step "copy the committed tree (git archive HEAD)" copy_project
  step "root: npm ci (aarch64 binding), or the cache" npm_ci
  step "root: npm run build, or the cache" build_in_root
  step "host: build the same commit" build_on_host
  step "detect on x86-64" detect_host
  step "detect on arm64" detect_arm64
  step "compare detections" compare_detect
  step "arm64 daemon: files camera -> MQTT, SIGTERM" daemon_run
  step "compare the daemon's MQTT detections" compare_daemon
  print_timings
  printf '%-44s %5ss\n' total "$((SECONDS - t0))"
  echo "outputs (detect, MQTT, daemon log): $out"
  echo
  echo "arm64-check PASSED for $(git -C "$repo" rev-parse --short HEAD) on aarch64 (Debian $SUITE, node $root_node," \
    "qemu): the TFLite binding is an aarch64 build that loads ($binding_note), the SSD finds the same objects as" \
    "on x86-64 in $(image_names | wc -l) images (scores within $SCORE_TOL, boxes within $BOX_TOL), and the daemon" \
    "published $daemon_detections matching detections to MQTT and stopped cleanly on SIGTERM. Not tested: speed," \
    "the Pi camera, the Coral."
}

main "$@"
