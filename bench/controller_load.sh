#!/usr/bin/env bash
# Benchmark (prints figures, never pass/fail): controller CPU use and deadline satisfaction with
# 6 emulated GPUs, 12 resnet50_v2 copies and Poisson load at SLO factor 10, plus the prediction
# error |expected_exec_complete - worker_exec_complete| from the action log.
#   usage: bench/controller_load.sh [BUILD_DIR]    env: RATES ("600 2400"), SECONDS_PER_RATE (20),
#          COPIES (12), GPUS (6), CLOCKWORK_DISABLE_INPUTS (1; 0 sends 602 KB inputs)
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BUILD="${1:-$ROOT/build}"
RATES="${RATES:-600 2400}"
SECS="${SECONDS_PER_RATE:-20}"
COPIES="${COPIES:-12}"
GPUS="${GPUS:-6}"
export CLOCKWORK_DISABLE_INPUTS="${CLOCKWORK_DISABLE_INPUTS:-1}"
export CLOCKWORK_STARTUP_QUIET_MS=500
export CLOCKWORK_MODEL_DIR="$ROOT/modelzoo"
TICK=$(getconf CLK_TCK)

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

for rate in $RATES; do
  out="$(mktemp -d /tmp/cw-bench.XXXXXX)"
  wport=$(( 31000 + RANDOM % 1000 )); cport=$(( wport + 1000 ))
  "$BUILD/worker_dummy" -n "$GPUS" -p "$wport" > "$out/worker.log" 2>&1 &
  wpid=$!
  CLOCKWORK_LOG_DIR="$out" CLOCKWORK_CONTROLLER_PORT="$cport" CLOCKWORK_HTTP_PORT=0 CLOCKWORK_METRICS_PORT=0 \
    "$BUILD/controller" INFER5 "127.0.0.1:$wport" 0 "$GPUS" 5000000 > "$out/controller.log" 2>&1 &
  cpid=$!
  "$BUILD/client" "127.0.0.1:$cport" slo-exp-1 resnet50_v2 "$COPIES" poisson "$rate" 10 10 1.5 mul "$SECS" \
    > "$out/client.log" 2>&1 &
  clpid=$!
  # measure the controller only while it serves
  for _ in $(seq 300); do grep -q "Admitting inference requests" "$out/controller.log" && break; sleep 0.1; done
  t0=$(date +%s.%N); c0=$(cpu_ticks $cpid)
  wait $clpid || true
  t1=$(date +%s.%N); c1=$(cpu_ticks $cpid)
  kill -INT $cpid $wpid 2>/dev/null; wait $cpid $wpid 2>/dev/null || true
  cpu=$(awk -v a="$c0" -v b="$c1" -v t0="$t0" -v t1="$t1" -v hz="$TICK" 'BEGIN{printf "%.1f", 100*(b-a)/hz/(t1-t0)}')
  echo "== rate=$rate r/s, $COPIES copies, $GPUS GPUs, SLO factor 10, inputs $([ "$CLOCKWORK_DISABLE_INPUTS" = 1 ] && echo disabled || echo sent)"
  echo "controller_cpu=${cpu}% of one core over $(awk -v t0="$t0" -v t1="$t1" 'BEGIN{printf "%.1f", t1-t0}') s"
  /usr/bin/python3 "$ROOT/tools/analyze_telemetry.py" "$out"
  rm -rf "$out"
done
