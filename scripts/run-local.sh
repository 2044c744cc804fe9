#!/usr/bin/env bash
# The main job: installs what is missing, builds, and runs a local emulated Clockwork cluster
# on 127.0.0.1 -- worker_dummy (2 emulated GPUs), controller INFER5, client WORKLOAD -- for
# DURATION seconds, then summarises the controller's telemetry.
#   usage: scripts/run-local.sh [WORKLOAD [PARAMS...]]     (default: simple)
#   env:   DURATION (s, default 20), GPUS (default 2), CLOCKWORK_LOG_DIR (default ./local)
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BUILD="${BUILD:-$ROOT/build}"
DURATION="${DURATION:-20}"
GPUS="${GPUS:-2}"
WORKER_PORT="${WORKER_PORT:-12345}"
CONTROLLER_PORT="${CONTROLLER_PORT:-12346}"
export CLOCKWORK_LOG_DIR="${CLOCKWORK_LOG_DIR:-$ROOT/local}"
[ $# -gt 0 ] || set -- simple

bash "$ROOT/scripts/install-deps.sh"
bash "$ROOT/scripts/build.sh" "$BUILD"
mkdir -p "$CLOCKWORK_LOG_DIR"

pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -INT "$p" 2>/dev/null || true; done
  sleep 0.5
  for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
}
trap cleanup EXIT

prefix() { sed -u "s/^/[$1] /"; }

"$BUILD/worker_dummy" -n "$GPUS" -p "$WORKER_PORT" > >(prefix worker) 2>&1 &
pids+=($!)
CLOCKWORK_CONTROLLER_PORT="$CONTROLLER_PORT" CLOCKWORK_STARTUP_QUIET_MS="${CLOCKWORK_STARTUP_QUIET_MS:-1000}" \
  "$BUILD/controller" INFER5 "127.0.0.1:$WORKER_PORT" > >(prefix controller) 2>&1 &
pids+=($!)
set +e
timeout -s INT -k 5 "$DURATION" "$BUILD/client" "127.0.0.1:$CONTROLLER_PORT" "$@" 2>&1 | prefix client
set -e
cleanup
trap - EXIT
sleep 0.5
echo
echo "== Telemetry summary ($CLOCKWORK_LOG_DIR) =="
/usr/bin/python3 "$ROOT/tools/analyze_telemetry.py" "$CLOCKWORK_LOG_DIR"
