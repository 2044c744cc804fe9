#!/usr/bin/env bash
# Benchmark (prints figures, never pass/fail): the live controller's CPU per request and per
# action at Figure 7's load: one `worker_dummy -n GPUS` (emulated GPUs), COPIES resnet50_v2
# copies, Poisson RATE r/s at SLO factor 10, inputs off, INFER5, everything on this machine.
# Per run: µs of controller CPU (utime+stime from /proc/PID/stat over the serving phase) per
# request, split into user and kernel (system) time, and per action (counted from the telemetry
# rows), read/write system calls and context switches per request (/proc/PID/io,
# /proc/PID/status), the share of one core, and analyze_telemetry.py's summary. TYPE=ECHO
# (answered by the controller itself) and TYPE=DIRECT (one infer per request, no scheduler) at
# the same load split the cost into the client path, the worker path and the scheduler. Given several build directories (e.g. a baseline and this
# tree), it runs them one after the other per rate and repeat, and prints their ratios.
#   usage: bench/controller_load.sh [BUILD_DIR ...]     (default: build/)
#   env: TYPE (INFER5; ECHO, DIRECT), RATES ("2400"), COPIES (48), GPUS (6), SECONDS_PER_RATE (20), REPEAT (1),
#        CLOCKWORK_DISABLE_INPUTS (1; 0 sends 602 KB inputs), QUIET (1: no telemetry summary)
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
[ $# -gt 0 ] || set -- "$ROOT/build"
RATES="${RATES:-2400}"
SECS="${SECONDS_PER_RATE:-20}"
COPIES="${COPIES:-48}"
GPUS="${GPUS:-6}"
REPEAT="${REPEAT:-1}"
TYPE="${TYPE:-INFER5}"
case "$TYPE" in
  INFER5 | INFER6) TYPE_ARGS=(0 "$GPUS" 5000000) ;;
  ECHO | DIRECT) TYPE_ARGS=() ;;
  *) echo "TYPE must be INFER5, INFER6, ECHO or DIRECT" >&2; exit 2 ;;
esac
export CLOCKWORK_DISABLE_INPUTS="${CLOCKWORK_DISABLE_INPUTS:-1}"
export CLOCKWORK_STARTUP_QUIET_MS=500
export CLOCKWORK_MODEL_DIR="$ROOT/modelzoo"
TICK=$(getconf CLK_TCK)
for b in "$@"; do
  for bin in worker_dummy controller client; do
    [ -x "$b/$bin" ] || { echo "no $b/$bin: build it first (bash scripts/build.sh $b)" >&2; exit 2; }
  done
done

cpu_ticks() { awk '{print $14, $15}' "/proc/$1/stat"; } # user, system
io_calls() { awk '/^syscr|^syscw/ {n += $2} END {print n}' "/proc/$1/io"; }
switches() { awk '/ctxt_switches/ {n += $2} END {print n}' "/proc/$1/status"; }
rows() { local n; n=$(cat "$1"/"$2"* 2>/dev/null | grep -vc "^t" || true); echo "${n:-0}"; }

# run_one BUILD RATE: prints "user_s system_s wall_s requests actions io_calls switches"; telemetry kept in $out
run_one() {
  local build=$1 rate=$2 wport cport wpid cpid clpid t0 t1 u0 u1 k0 k1 i0 i1 s0 s1
  wport=$(( 31000 + (RANDOM + $$) % 1000 )); cport=$(( wport + 1000 ))
  "$build/worker_dummy" -n "$GPUS" -p "$wport" > "$out/worker.log" 2>&1 &
  wpid=$!
  CLOCKWORK_LOG_DIR="$out" CLOCKWORK_CONTROLLER_PORT="$cport" CLOCKWORK_HTTP_PORT=0 CLOCKWORK_METRICS_PORT=0 \
    "$build/controller" "$TYPE" "127.0.0.1:$wport" "${TYPE_ARGS[@]}" > "$out/controller.log" 2>&1 &
  cpid=$!
  "$build/client" "127.0.0.1:$cport" slo-exp-1 resnet50_v2 "$COPIES" poisson "$rate" 10 10 1.5 mul "$SECS" \
    > "$out/client.log" 2>&1 &
  clpid=$!
  # measure the controller only while it serves
  for _ in $(seq 300); do grep -q "Admitting inference requests" "$out/controller.log" && break; sleep 0.1; done
  t0=$(date +%s.%N); read -r u0 k0 <<< "$(cpu_ticks $cpid)"; i0=$(io_calls $cpid); s0=$(switches $cpid)
  wait $clpid || true
  t1=$(date +%s.%N); read -r u1 k1 <<< "$(cpu_ticks $cpid)"; i1=$(io_calls $cpid); s1=$(switches $cpid)
  kill -INT $cpid $wpid 2>/dev/null; wait $cpid $wpid 2>/dev/null || true
  echo "$(awk -v u="$((u1 - u0))" -v k="$((k1 - k0))" -v hz="$TICK" 'BEGIN{print u/hz, k/hz}') $(awk -v a="$t0" -v b="$t1" \
    'BEGIN{print b-a}') $(rows "$out" clockwork_request_log.tsv) $(rows "$out" clockwork_action_log.tsv) \
    $((i1 - i0)) $((s1 - s0))"
}

declare -A sum_req sum_act
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores"
for rate in $RATES; do
  echo "== $TYPE, rate=$rate r/s, $COPIES copies, $GPUS GPUs, SLO factor 10, inputs $([ "$CLOCKWORK_DISABLE_INPUTS" = 1 ] \
    && echo disabled || echo sent), ${SECS}s"
  for rep in $(seq "$REPEAT"); do
    for build in "$@"; do
      out="$(mktemp -d /tmp/cw-bench.XXXXXX)"
      read -r user sys wall req act io sw <<< "$(run_one "$build" "$rate")"
      cpu=$(awk -v u="$user" -v k="$sys" 'BEGIN{print u + k}')
      line=$(awk -v c="$cpu" -v k="$sys" -v w="$wall" -v r="$req" -v a="$act" -v io="$io" -v sw="$sw" 'BEGIN{
        printf "us_per_request=%.1f (user %.1f, system %.1f) us_per_action=%s core=%.3f " \
               "rw_syscalls_per_request=%.2f switches_per_request=%.2f requests=%d actions=%d", 1e6*c/(r?r:1),
               1e6*(c-k)/(r?r:1), 1e6*k/(r?r:1), a ? sprintf("%.1f", 1e6*c/a) : "-", c/w, io/(r?r:1), sw/(r?r:1),
               r, a}')
      echo "[$build] run $rep: $line"
      [ "${QUIET:-1}" = 1 ] || /usr/bin/python3 "$ROOT/tools/analyze_telemetry.py" "$out" | sed 's/^/    /'
      key="$rate $build"
      sum_req[$key]=$(awk -v s="${sum_req[$key]:-0}" -v c="$cpu" -v r="$req" 'BEGIN{print s + 1e6*c/(r?r:1)}')
      sum_act[$key]=$(awk -v s="${sum_act[$key]:-0}" -v c="$cpu" -v a="$act" 'BEGIN{print s + (a ? 1e6*c/a : 0)}')
      rm -rf "$out"
    done
  done
  first="$rate $1"
  for build in "$@"; do
    key="$rate $build"
    awk -v r="${sum_req[$key]}" -v a="${sum_act[$key]}" -v r0="${sum_req[$first]}" -v n="$REPEAT" -v b="$build" \
      'BEGIN{printf "mean [%s]: us_per_request=%.1f us_per_action=%s (%.2fx the first)\n", b, r/n,
             a ? sprintf("%.1f", a/n) : "-", r/r0}'
  done
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
