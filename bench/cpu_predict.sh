#!/usr/bin/env bash
# Benchmark (prints figures, never pass/fail): does the controller know when the CPU device
# finishes? ResNet-18 from tools/gen_onnx_models.py (seeded weights), converted here (so its
# model.measurements are this machine's at conversion time), served by
# `worker -n 1 --first-core CORE --no-measure` (config/cpu.cfg), controller INFER5, and
# client slo-exp-1 with one copy at RATE r/s Poisson and SLO factor 10, inputs sent, on
# 127.0.0.1. Per run: the prediction error |expected_exec_complete - worker_exec_complete| of
# successful infers (p50/p99, ms and % of the median exec time), exec time p50/p99, infers that
# failed because the weights were missing (status 20/82), requests answered with an error, and
# worker CPU.
#   usage: bench/cpu_predict.sh [BUILD_DIR...]     (default: ./build)
#   Several build dirs run alternately, ROUNDS times each, with a median line per build.
#   env: MODEL (resnet18), RATE (20), SECONDS_PER_RUN (30), ROUNDS (1), CORE (1),
#        BATCHES (convert's -b; default its own), WORKER_ARGS (extra worker options)
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
source "$ROOT/bench/lib.bash"
[ $# -gt 0 ] || set -- "$ROOT/build"
MODEL="${MODEL:-resnet18}"
RATE="${RATE:-20}"
SECS="${SECONDS_PER_RUN:-30}"
ROUNDS="${ROUNDS:-1}"
CORE="${CORE:-1}"
PY=/usr/bin/python3
for b in "$@"; do
  [ -x "$b/worker" ] && [ -x "$b/convert" ] || { echo "no CPU worker in $b (needs libdnnl-dev libonnx-dev)"; exit 1; }
done
$PY -c "import onnx" 2>/dev/null || { echo "python3-onnx is needed to generate the model"; exit 1; }
TMP="$(mktemp -d /tmp/cw-cpu-predict.XXXXXX)"
trap 'rm -rf "$TMP"' EXIT
export CLOCKWORK_STARTUP_QUIET_MS=500 CLOCKWORK_MODEL_DIR="$TMP/zoo" CLOCKWORK_CONFIG_FILE="$ROOT/config/cpu.cfg"

mkdir -p "$TMP/onnx" "$TMP/zoo"
$PY "$ROOT/tools/gen_onnx_models.py" "$TMP/onnx" "$MODEL" > /dev/null
"$1/convert" -r 3 ${BATCHES:+-b "$BATCHES"} "$TMP/onnx/$MODEL.onnx" "$TMP/zoo/$MODEL" > "$TMP/convert.log" 2>&1 ||
  { cat "$TMP/convert.log"; exit 1; }

# run BUILD: one serving run; appends "BUILD err_p50 err_p99 err% exec_p50 exec_p99 missing errors cores"
run() {
  local build="$1" out wport cport wpid cpid t0 w0 t1 w1 line
  out="$(mktemp -d "$TMP/run.XXXXXX")"
  wport=$(( 36000 + RANDOM % 1000 )); cport=$(( wport + 1000 ))
  # shellcheck disable=SC2046
  "$build/worker" -n 1 --first-core "$CORE" --no-measure -p "$wport" $(worker_args "$build/worker") \
    > "$out/worker.log" 2>&1 &
  wpid=$!
  for _ in $(seq 100); do grep -q "listening" "$out/worker.log" && break; sleep 0.1; done
  CLOCKWORK_LOG_DIR="$out" CLOCKWORK_CONTROLLER_PORT="$cport" \
    "$build/controller" INFER5 "127.0.0.1:$wport" > "$out/controller.log" 2>&1 &
  cpid=$!
  t0=$(date +%s.%N); w0=$(cpu_ticks $wpid)
  "$build/client" "127.0.0.1:$cport" slo-exp-1 "$MODEL" 1 poisson "$RATE" 10 10 1.5 mul "$SECS" \
    > "$out/client.log" 2>&1 || true
  t1=$(date +%s.%N); w1=$(cpu_ticks $wpid)
  kill -INT $cpid $wpid 2>/dev/null; wait $cpid $wpid 2>/dev/null || true
  line=$($PY "$ROOT/tools/analyze_telemetry.py" "$out" --json | $PY -c '
import json, sys
s = json.load(sys.stdin)
pe, ex = s["prediction_error_us"], s["infer_exec_us"]
errors = s["requests"] - s["by_result"].get("0", 0)
pct = 100 * pe["p99"] / ex["p50"] if ex["p50"] else 0
print("%.3f %.3f %.1f %.3f %.3f %d %d %d" % (pe["p50"] / 1e3, pe["p99"] / 1e3, pct, ex["p50"] / 1e3, ex["p99"] / 1e3,
                                          s["weights_missing"], errors, s["requests"]))')
  read -r e50 e99 pct x50 x99 missing errors requests <<< "$line"
  local wc; wc=$(cores "$w0" "$w1" "$(awk -v a="$t0" -v b="$t1" 'BEGIN{print b-a}')")
  printf '%-32s prediction_error_ms p50=%7.3f p99=%7.3f (%5.1f%% of exec)  exec_ms p50=%7.3f p99=%7.3f' \
    "$build" "$e50" "$e99" "$pct" "$x50" "$x99"
  printf '  weights_missing=%d  failed=%d/%d  worker=%s cores  load=%s\n' "$missing" "$errors" "$requests" "$wc" \
    "$(cut -d' ' -f1 /proc/loadavg)"
  echo "$build $e50 $e99 $pct $x50 $x99 $missing $errors $wc" >> "$TMP/results"
}

echo "== CPU prediction: $MODEL ($(sed -n 's/^b1 = \([0-9]*\)L;/\1/p' "$TMP/zoo/$MODEL/model.measurements" |
  awk '{printf "profile b1 %.1f ms", $1 / 1e6}'), one device on core $CORE, poisson $RATE r/s, SLO factor 10," \
  "$SECS s per run, $ROUNDS round(s)"
echo "   at start: $(machine_line)"
for _ in $(seq "$ROUNDS"); do
  for b in "$@"; do run "$b"; done
done
echo "   at end: $(machine_line)"
echo "== medians over $ROUNDS round(s)"
print_medians "$TMP/results" '%-32s prediction_error_ms p50=%7.3f p99=%7.3f (%5.1f%% of exec)'\
'  exec_ms p50=%7.3f p99=%7.3f  weights_missing=%d  failed=%d  worker=%.3f cores\n' "$@"
