# Shared helpers for integration tests (sourced, not run). Each test starts real processes on
# 127.0.0.1 with ports of its own, bounded in time, and cleans up on exit.
BUILD="${1:?usage: test.sh BUILD_DIR SOURCE_DIR}"
SRC="${2:?usage: test.sh BUILD_DIR SOURCE_DIR}"
TMP="$(mktemp -d /tmp/cw-it.XXXXXX)"
PIDS=()
BASE_PORT=$(( 20000 + ($$ % 2000) * 4 ))
WORKER_PORT=$BASE_PORT
CONTROLLER_PORT=$(( BASE_PORT + 1 ))
export CLOCKWORK_LOG_DIR="$TMP"
export CLOCKWORK_CONTROLLER_PORT="$CONTROLLER_PORT"
HTTP_PORT=$(( BASE_PORT + 2 ))    # the controller's KServe v2 REST API
METRICS_PORT=$(( BASE_PORT + 3 )) # and its Prometheus metrics
export CLOCKWORK_HTTP_PORT="$HTTP_PORT" CLOCKWORK_METRICS_PORT="$METRICS_PORT"
export CLOCKWORK_STARTUP_QUIET_MS=500
export CLOCKWORK_MODEL_DIR="$SRC/modelzoo"

cleanup() {
  for p in "${PIDS[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
  if [ "${KEEP_TMP:-0}" = 1 ]; then echo "kept $TMP"; else rm -rf "$TMP"; fi
}
trap cleanup EXIT

fail() {
  echo "FAIL: $*"
  for f in "$TMP"/*.log; do [ -f "$f" ] && { echo "--- $f (tail)"; tail -n 30 "$f"; }; done
  exit 1
}

start_worker() { # extra args
  "$BUILD/worker_dummy" -p "$WORKER_PORT" "$@" > "$TMP/worker.log" 2>&1 &
  PIDS+=($!)
  WORKER_PID=$!
}

start_controller() { # extra args after the worker list
  start_controller_type "${CONTROLLER_TYPE:-INFER5}" "$@"
}

start_controller_type() { # TYPE [options after the worker list]
  local type="$1"
  shift
  "$BUILD/controller" "$type" "127.0.0.1:$WORKER_PORT" "$@" > "$TMP/controller.log" 2>&1 &
  PIDS+=($!)
  CONTROLLER_PID=$!
}

# run_client SECONDS LOGNAME WORKLOAD [PARAMS...]: runs a client, stopping it with SIGINT after SECONDS.
run_client() {
  local secs="$1" log="$2"
  shift 2
  timeout -s INT -k 10 "$secs" "$BUILD/client" "127.0.0.1:$CONTROLLER_PORT" "$@" > "$TMP/$log" 2>&1 || true
}

# stop PID NAME: SIGINT, then require a clean exit within 10 s.
stop_process() {
  local pid="$1" name="$2"
  kill -INT "$pid" 2>/dev/null || fail "$name was not running at the end"
  for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -0 "$pid" 2>/dev/null && fail "$name did not exit after SIGINT"
  wait "$pid"; local rc=$?
  [ "$rc" -eq 0 ] || fail "$name exited with $rc after SIGINT"
}

wait_for_line() { # FILE PATTERN SECONDS
  for _ in $(seq $(( $3 * 10 ))); do grep -q "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done
  fail "timed out waiting for '$2' in $1"
}
