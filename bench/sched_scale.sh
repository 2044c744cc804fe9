#!/usr/bin/env bash
# Benchmark (prints figures, never pass/fail): how the schedulers (INFER5 and INFER6) and the
# simulator scale with the cluster. clockwork-sim runs poisson-open-loop at 10, 100, 1000 and
# 10,000 GPUs with 4 (and 40) resnet50_v2 copies and 40 r/s per GPU, each scheduler at its own
# tick (INFER5 1 ms, INFER6 its exact wake-ups), and prints per size: wall and CPU seconds per simulated
# second, events/s, and the wall time spent inside the scheduler's calls per request (its own
# cost, telemetry rows excluded) next to the time spent writing telemetry rows. Each figure is
# the best of REPEAT runs (the machine is shared: the minimum is the least disturbed). The
# modelled controller costs nothing here (--ctl-event 0 --send 0): at 5 us per event it would
# saturate beyond ~100,000 r/s and the run would measure a backlog, not the scheduler.
#   usage: bench/sched_scale.sh [BUILD_DIR]
#   env:   TYPES ("INFER5 INFER6"), GPU_COUNTS ("10 100 1000 10000"), MODELS_PER_GPU ("4 40"), RATE_PER_GPU (40),
#          REPEAT (3), TELEMETRY (1: TSVs into a temporary directory; 0: --no-telemetry),
#          SIM_SECONDS (default: 50 s at 10 GPUs, 10 s at 100, 2 s from 1000 on),
#          TIMEOUT (600 s per run), BASELINE (another clockwork-sim, e.g. an older build, run
#          on the same configurations for a side-by-side ratio; TSVs on, no per-request split)
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BUILD="${1:-$ROOT/build}"
SIM="$BUILD/clockwork-sim"
[ -x "$SIM" ] || { echo "no clockwork-sim in $BUILD (build first: scripts/build.sh)" >&2; exit 2; }
TYPES="${TYPES:-INFER5 INFER6}"
GPU_COUNTS="${GPU_COUNTS:-10 100 1000 10000}"
MODELS_PER_GPU="${MODELS_PER_GPU:-4 40}"
RATE_PER_GPU="${RATE_PER_GPU:-40}"
REPEAT="${REPEAT:-3}"
TELEMETRY="${TELEMETRY:-1}"
TIMEOUT="${TIMEOUT:-600}"
BASELINE="${BASELINE:-}"
export CLOCKWORK_MODEL_DIR="${CLOCKWORK_MODEL_DIR:-$ROOT/modelzoo}"
TMP="$(mktemp -d /tmp/cw-sched-scale.XXXXXX)"
trap 'rm -rf "$TMP"' EXIT

seconds_for() {
  if [ -n "${SIM_SECONDS:-}" ]; then echo "$SIM_SECONDS"
  elif [ "$1" -le 10 ]; then echo 50
  elif [ "$1" -le 100 ]; then echo 10
  else echo 2; fi
}

# One run: prints "wall_per_sim cpu_per_sim events_per_s sched_us telemetry_us requests events",
# or "timeout". $1 binary, $2 "new" (our output lines) or "base" (wall and events only), rest args.
run_once() {
  local bin="$1" kind="$2"
  shift 2
  rm -f "$TMP"/*.tsv
  if ! timeout "$TIMEOUT" "$bin" -q --ctl-event 0 --send 0 "$@" > "$TMP/out" 2> "$TMP/err"; then
    echo timeout
    return
  fi
  local requests events
  requests=$(sed -n 's/.* \([0-9]*\) requests, .*/\1/p' "$TMP/out" | tail -1)
  events=$(sed -n 's/.*actions, \([0-9]*\) events.*/\1/p' "$TMP/out" | tail -1)
  awk -v kind="$kind" -v req="$requests" -v ev="$events" '
    /^\[sim\] wall/ { sim = $6; wps = substr($9, 2); eps = $14 }
    /^\[sim\] cpu/ { cpu = $3; sched = $8; tel = $11 }
    END {
      if (kind == "base") { cpu = "-"; sched = "-"; tel = "-"; cps = "-" } else cps = cpu / sim
      print wps, cps, eps, sched, tel, req, ev
    }' "$TMP/err"
}

# Best of REPEAT runs: minimum of each time, maximum of events/s.
best_of() {
  local i line
  for ((i = 0; i < REPEAT; i++)); do
    line=$(run_once "$@")
    [ "$line" = timeout ] && { echo timeout; return; }
    echo "$line"
  done | awk '
    function lo(i, v) { if (!(i in m) || (v != "-" && v + 0 < m[i] + 0)) m[i] = v }
    { lo(1, $1); lo(2, $2); if ($3 + 0 > e) e = $3; lo(4, $4); lo(5, $5); r = $6; ev = $7 }
    END { print m[1], m[2], e, m[4], m[5], r, ev }'
}

tel_args() {
  if [ "$TELEMETRY" = 1 ]; then echo "--log-dir $TMP"; else echo "--no-telemetry"; fi
}

echo "== clockwork-sim scaling: poisson-open-loop, resnet50_v2, $RATE_PER_GPU r/s per GPU, TYPE 0 G 5000000," \
  "telemetry $([ "$TELEMETRY" = 1 ] && echo "on" || echo "off"), best of $REPEAT"
echo "   $(uname -n), $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
for TYPE in $TYPES; do
  for mpg in $MODELS_PER_GPU; do
    echo
    echo "-- $TYPE, $mpg models per GPU"
    printf '%7s %8s %8s %6s %9s %10s %11s %11s %10s %9s %9s %8s%s\n' gpus models "r/s" sim_s requests events \
      wall/sim_s cpu/sim_s events/s sched_us tel_us sched_x \
      "$([ -n "$BASELINE" ] && echo "  baseline wall/sim_s  speed-up")"
    first_sched=""
    for g in $GPU_COUNTS; do
      if [ $((mpg * g)) -gt 100000 ]; then
        printf '%7s %8s  skipped: poisson-open-loop takes at most 100000 models\n' "$g" $((mpg * g))
        continue
      fi
      secs=$(seconds_for "$g")
      # shellcheck disable=SC2046,SC2207 # tel_args is a word list
      args=(--gpus "$g" --seed 1 -d "$secs" $(tel_args) "$TYPE" 0 "$g" 5000000 -- poisson-open-loop
        $((mpg * g)) $((RATE_PER_GPU * g)))
      read -r wps cps eps sched tel req ev <<< "$(best_of "$SIM" new "${args[@]}")"
      if [ "$wps" = timeout ]; then
        printf '%7s %8s %8s %6s  timed out after %s s\n' "$g" $((mpg * g)) $((RATE_PER_GPU * g)) "$secs" "$TIMEOUT"
        continue
      fi
      [ -z "$first_sched" ] && first_sched="$sched"
      ratio=$(awk -v a="$sched" -v b="$first_sched" 'BEGIN { printf "%.2f", a / b }')
      extra=""
      if [ -n "$BASELINE" ]; then
        read -r bwps _ <<< "$(best_of "$BASELINE" base --gpus "$g" --seed 1 -d "$secs" --log-dir "$TMP" "$TYPE" 0 "$g" \
          5000000 -- poisson-open-loop $((mpg * g)) $((RATE_PER_GPU * g)))"
        if [ "$bwps" = timeout ]; then extra="  timed out (${TIMEOUT} s)"
        else extra=$(awk -v b="$bwps" -v n="$wps" 'BEGIN { printf "  %19.4f %9.1fx", b, b / n }'); fi
      fi
      printf '%7s %8s %8s %6s %9s %10s %11.4f %11.4f %10.0f %9.3f %9.3f %8s%s\n' "$g" $((mpg * g)) \
        $((RATE_PER_GPU * g)) "$secs" "$req" "$ev" "$wps" "$cps" "$eps" "$sched" "$tel" "$ratio" "$extra"
    done
  done
done
echo
echo "wall/sim_s < 1: faster than real time. sched_us: wall time inside scheduler_on_request/on_result/tick/"
echo "next_wakeup per request, telemetry rows excluded (tel_us); sched_x: relative to the smallest cluster."
