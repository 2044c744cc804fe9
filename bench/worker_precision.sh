#!/usr/bin/env bash
# Benchmark (prints figures, never pass/fail): how precisely emulated workers keep the
# controller's schedule, and what it costs them. One `worker_dummy -n GPUS`, controller INFER5,
# client slo-exp-1 over COPIES resnet50_v2 copies at RATE r/s Poisson, inputs off, all on
# 127.0.0.1; per run: the prediction error |expected_exec_complete - worker_exec_complete| of
# successful infers (p50/p99, µs), worker and controller CPU (cores) while serving, and the
# deadline satisfaction.
#   usage: bench/worker_precision.sh [BUILD_DIR...]     (default: ./build)
#   Several build dirs (e.g. before/after a change) run alternately, ROUNDS times each, and a
#   median line per build closes the output, so a shared machine's noise hits all alike.
#   env: RATE (2400), COPIES (48), GPUS (6), SECONDS_PER_RUN (20), ROUNDS (3),
#        WORKER_ARGS (extra worker_dummy options, e.g. "--rt-priority 0"; given to the builds
#        whose worker_dummy knows the first of them)
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
source "$ROOT/bench/lib.bash"
[ $# -gt 0 ] || set -- "$ROOT/build"
RATE="${RATE:-2400}"
COPIES="${COPIES:-48}"
GPUS="${GPUS:-6}"
SECS="${SECONDS_PER_RUN:-20}"
ROUNDS="${ROUNDS:-3}"
export CLOCKWORK_DISABLE_INPUTS=1 CLOCKWORK_STARTUP_QUIET_MS=500 CLOCKWORK_MODEL_DIR="$ROOT/modelzoo"
RESULTS="$(mktemp /tmp/cw-precision.XXXXXX)"
trap 'rm -f "$RESULTS"' EXIT

# run BUILD: one serving run; appends "BUILD p50 p99 worker_cores controller_cores met%" to RESULTS
run() {
  local build="$1" out wport cport wpid cpid clpid t0 w0 c0 t1 w1 c1 dt line p50 p99 met n wc cc
  out="$(mktemp -d /tmp/cw-precision.XXXXXX)"
  wport=$(( 33000 + RANDOM % 1000 )); cport=$(( wport + 1000 ))
  # shellcheck disable=SC2046
  "$build/worker_dummy" -n "$GPUS" -p "$wport" $(worker_args "$build/worker_dummy") > "$out/worker.log" 2>&1 &
  wpid=$!
  CLOCKWORK_LOG_DIR="$out" CLOCKWORK_CONTROLLER_PORT="$cport" \
    "$build/controller" INFER5 "127.0.0.1:$wport" 0 "$GPUS" 5000000 > "$out/controller.log" 2>&1 &
  cpid=$!
  "$build/client" "127.0.0.1:$cport" slo-exp-1 resnet50_v2 "$COPIES" poisson "$RATE" 10 10 1.5 mul "$SECS" \
    > "$out/client.log" 2>&1 &
  clpid=$!
  for _ in $(seq 300); do grep -q "Admitting inference requests" "$out/controller.log" && break; sleep 0.1; done
  t0=$(date +%s.%N); w0=$(cpu_ticks $wpid); c0=$(cpu_ticks $cpid)
  wait $clpid || true
  t1=$(date +%s.%N); w1=$(cpu_ticks $wpid); c1=$(cpu_ticks $cpid)
  kill -INT $cpid $wpid 2>/dev/null; wait $cpid $wpid 2>/dev/null || true
  dt=$(awk -v a="$t0" -v b="$t1" 'BEGIN{print b-a}')
  line=$(/usr/bin/python3 "$ROOT/tools/analyze_telemetry.py" "$out" --json | /usr/bin/python3 -c '
import json, sys
s = json.load(sys.stdin)
pe = s["prediction_error_us"]
print("%.1f %.1f %.2f %d" % (pe["p50"], pe["p99"], 100 * s["deadline_met_fraction"], pe["samples"]))')
  read -r p50 p99 met n <<< "$line"
  wc=$(cores "$w0" "$w1" "$dt"); cc=$(cores "$c0" "$c1" "$dt")
  printf '%-32s prediction_error_us p50=%8.1f p99=%8.1f (n=%d)  worker=%s cores  controller=%s cores' \
    "$build" "$p50" "$p99" "$n" "$wc" "$cc"
  printf '  deadline_met=%s%%  load=%s\n' "$met" "$(cut -d' ' -f1 /proc/loadavg)"
  echo "$build $p50 $p99 $wc $cc $met" >> "$RESULTS"
  rm -rf "$out"
}

echo "== worker precision: $GPUS emulated GPUs, $COPIES x resnet50_v2, poisson $RATE r/s, slo-exp-1, inputs off," \
  "$SECS s per run, $ROUNDS round(s)"
echo "   at start: $(machine_line)"
for _ in $(seq "$ROUNDS"); do
  for b in "$@"; do run "$b"; done
done
echo "   at end: $(machine_line)"
echo "== medians over $ROUNDS round(s)"
print_medians "$RESULTS" \
  '%-32s prediction_error_us p50=%8.1f p99=%8.1f  worker=%.3f cores  controller=%.3f cores  deadline_met=%.2f%%\n' "$@"
