#!/usr/bin/env bash
# Benchmark (prints figures, never pass/fail): what the original's test controllers let a user
# measure, side by side in one run on loopback with one emulated GPU (worker_dummy -n 1):
# ECHO = the client <-> controller path alone, DIRECT = the same plus the controller -> worker
# path without the scheduler, INFER5 = the Clockwork scheduler for reference. For each TYPE and
# each load (closed loops of the `simple` workload: 2 models, concurrency 1 each; and
# simple-parametric with CONCURRENCY requests in flight): successful requests/s and the client's
# latency p50/p99/max, from the client's per-request log (CLOCKWORK_CLIENT_LOG), first second
# dropped; then the ratios to ECHO. By default the model is resnet50_v2 with every exec time set
# to EXEC_US (100 us), so that the paths, not the emulated GPU, dominate; PROFILE=zoo keeps the
# model zoo's profile (b1 2.9 ms).
#   usage: bench/test_controllers.sh [BUILD_DIR]
#   env:   TYPES ("ECHO DIRECT INFER5"), SECONDS_PER_RUN (10), CONCURRENCY (16), PROFILE (fast|zoo),
#          EXEC_US (100), CLOCKWORK_DISABLE_INPUTS (1; 0 sends 602 KB LZ4-compressed inputs and gets
#          4 KB outputs back, ECHO's too)
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BUILD="${1:-$ROOT/build}"
TYPES="${TYPES:-ECHO DIRECT INFER5}"
SECS="${SECONDS_PER_RUN:-10}"
CONC="${CONCURRENCY:-16}"
export CLOCKWORK_DISABLE_INPUTS="${CLOCKWORK_DISABLE_INPUTS:-1}"
export CLOCKWORK_STARTUP_QUIET_MS=300
export CLOCKWORK_MODEL_DIR="$ROOT/modelzoo"
ZOO=""
if [ "${PROFILE:-fast}" != zoo ]; then
  ZOO="$(mktemp -d /tmp/cw-bench-zoo.XXXXXX)"
  mkdir "$ZOO/resnet50_v2"
  cp "$ROOT/modelzoo/resnet50_v2/model.info" "$ZOO/resnet50_v2/"
  e=$(( ${EXEC_US:-100} * 1000 ))
  echo "weights = 8400000L; b1 = ${e}L; b2 = ${e}L; b4 = ${e}L; b8 = ${e}L; b16 = ${e}L;" \
    > "$ZOO/resnet50_v2/model.measurements"
  export CLOCKWORK_MODEL_DIR="$ZOO"
fi

# run TYPE LABEL WORKLOAD...: prints one line of figures
run() {
  local type="$1" label="$2"
  shift 2
  local out wport cport wpid cpid
  out="$(mktemp -d /tmp/cw-bench-tc.XXXXXX)"
  wport=$(( 33000 + RANDOM % 1000 )); cport=$(( wport + 1000 ))
  "$BUILD/worker_dummy" -n 1 -p "$wport" > "$out/worker.log" 2>&1 &
  wpid=$!
  CLOCKWORK_LOG_DIR="$out" CLOCKWORK_CONTROLLER_PORT="$cport" CLOCKWORK_HTTP_PORT=0 CLOCKWORK_METRICS_PORT=0 "$BUILD/controller" "$type" "127.0.0.1:$wport" \
    > "$out/controller.log" 2>&1 &
  cpid=$!
  CLOCKWORK_CLIENT_LOG="$out/client.tsv" timeout -s INT "$(( SECS + 2 ))" "$BUILD/client" "127.0.0.1:$cport" "$@" \
    > "$out/client.log" 2>&1 || true
  kill -INT $cpid $wpid 2>/dev/null || true
  wait $cpid $wpid 2>/dev/null || true
  /usr/bin/python3 - "$out/client.tsv" "$type" "$label" <<'PY'
import sys
rows = [l.split("\t") for l in open(sys.argv[1]).read().splitlines()[1:]]
ok = sorted((int(r[0]), int(r[5])) for r in rows if r[6] == "0")
if not ok:
    print("%-7s %-24s no successful request" % (sys.argv[2], sys.argv[3]))
    sys.exit()
t0 = ok[0][0] + 1_000_000_000  # first second dropped: start-up and cold starts
lat = sorted(l for t, l in ok if t >= t0)
span = (ok[-1][0] - t0) / 1e9
q = lambda p: lat[min(len(lat) - 1, int(p * len(lat)))] / 1e6
failed = sum(1 for r in rows if r[6] != "0")
print("%-7s %-24s %10.0f %9.3f %9.3f %9.3f %9d %7d" % (sys.argv[2], sys.argv[3], len(lat) / span if span > 0 else 0,
      q(0.50), q(0.99), lat[-1] / 1e6, len(lat), failed))
PY
  rm -rf "$out"
}

profile="$([ -n "$ZOO" ] && echo "every batch size ${EXEC_US:-100} us" || echo "the zoo's, b1 2.9 ms")"
echo "one emulated GPU, resnet50_v2 with exec times $profile, inputs" \
     "$([ "$CLOCKWORK_DISABLE_INPUTS" = 1 ] && echo disabled || echo sent), ${SECS} s per run on $(nproc) cores"
printf "%-7s %-24s %10s %9s %9s %9s %9s %7s\n" TYPE load "req/s" "p50_ms" "p99_ms" "max_ms" requests failed
results="$(mktemp)"
for type in $TYPES; do
  run "$type" "closed loop x2 (simple)" simple | tee -a "$results"
  run "$type" "closed loop x$CONC" simple-parametric 2 1 "$CONC" 100000000 | tee -a "$results"
done
/usr/bin/python3 - "$results" <<'PY'
import sys
rows = [l.split() for l in open(sys.argv[1]) if "no successful" not in l]
echo = {}
for r in rows:
    if r[0] == "ECHO":
        echo[" ".join(r[1:-6])] = (float(r[-6]), float(r[-5]))
print("ratios to ECHO (req/s, p50):")
for r in rows:
    load = " ".join(r[1:-6])
    if r[0] != "ECHO" and load in echo and echo[load][0] > 0:
        print("  %-7s %-24s req/s x%.3f  p50 x%.1f" % (r[0], load, float(r[-6]) / echo[load][0],
                                                       float(r[-5]) / echo[load][1] if echo[load][1] else 0))
PY
rm -f "$results"
[ -n "$ZOO" ] && rm -rf "$ZOO"
exit 0
