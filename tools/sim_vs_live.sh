#!/usr/bin/env bash
# Runs the same Figure 7 configuration live (6 x worker_dummy -n 1 + controller TYPE + client
# slo-exp-1 on 127.0.0.1, inputs off) and in clockwork-sim, twice: with the default overheads and
# with overheads calibrated from the live run's own logs (clockwork-sim --calibrate), and prints
# the deadline satisfaction per SLO step side by side, plus the live controller's CPU use.
#   usage: tools/sim_vs_live.sh [N_MODELS [RATE [PERIOD_S [SEED]]]]   (defaults 12 600 10 1)
#   env:   CLOCKWORK_BUILD (default ./build), OUT (default a new /tmp/cw-sim-vs-live.*),
#          BASE_PORT (default 32345), TYPE (controller type, default INFER5),
#          SIM_ARGS (extra clockwork-sim options for both simulations, e.g. --ideal),
#          SKIP_LIVE=1 (simulate only, against an OUT/live from an earlier run)
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd -P)"
BUILD="${CLOCKWORK_BUILD:-$ROOT/build}"
N="${1:-12}" R="${2:-600}" P="${3:-10}" SEED="${4:-1}"
OUT="${OUT:-$(mktemp -d /tmp/cw-sim-vs-live.XXXXXX)}"
BASE_PORT="${BASE_PORT:-32345}"
WORKLOAD=(slo-exp-1 resnet50_v2 "$N" poisson "$R" 1 100 1.5 mul "$P")
CTL_OPTS=("${TYPE:-INFER5}" 0 6 5000000)
export CLOCKWORK_MODEL_DIR="${CLOCKWORK_MODEL_DIR:-$ROOT/modelzoo}" CLOCKWORK_STARTUP_QUIET_MS=500
mkdir -p "$OUT/live" "$OUT/sim" "$OUT/cal"
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill -INT "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

live() {
  local workers="" ctl t0 t1 c0 c1
  for i in 0 1 2 3 4 5; do
    "$BUILD/worker_dummy" -n 1 -p $((BASE_PORT + i)) > "$OUT/live/worker$i.log" 2>&1 &
    PIDS+=($!)
    workers+="${workers:+,}127.0.0.1:$((BASE_PORT + i))"
  done
  sleep 1
  CLOCKWORK_LOG_DIR="$OUT/live" CLOCKWORK_CONTROLLER_PORT=$((BASE_PORT + 6)) CLOCKWORK_HTTP_PORT=0 CLOCKWORK_METRICS_PORT=0 \
    "$BUILD/controller" "${CTL_OPTS[0]}" "$workers" "${CTL_OPTS[@]:1}" > "$OUT/live/controller.log" 2>&1 &
  ctl=$!
  PIDS+=($ctl)
  sleep 1
  echo "live: ${CTL_OPTS[*]} -- ${WORKLOAD[*]} (about $((12 * P + 5)) s; load average $(cut -d' ' -f1-3 /proc/loadavg))" >&2
  t0=$(date +%s.%N) c0=$(cpu_ticks $ctl)
  CLOCKWORK_DISABLE_INPUTS=1 timeout -s INT $((12 * P + 60)) \
    "$BUILD/client" "127.0.0.1:$((BASE_PORT + 6))" "${WORKLOAD[@]}" > "$OUT/live/client.log" 2>&1 || true
  t1=$(date +%s.%N) c1=$(cpu_ticks $ctl)
  awk -v a="$c0" -v b="$c1" -v t0="$t0" -v t1="$t1" -v hz="$(getconf CLK_TCK)" -v l="$(cut -d' ' -f1-3 /proc/loadavg)" \
    'BEGIN { printf "controller_cpu=%.1f%% of one core over %.1f s (load average at the end: %s)\n", 100*(b-a)/hz/(t1-t0), t1-t0, l }' \
    | tee "$OUT/live/cpu.txt" >&2
  sleep 1
  cleanup
  PIDS=()
}

sim() { # DIR [options]
  local dir="$1"
  shift
  echo "sim:  clockwork-sim --gpus 6 --seed $SEED $* ${SIM_ARGS:-} ${CTL_OPTS[*]} -- ${WORKLOAD[*]}" >&2
  # shellcheck disable=SC2086
  "$BUILD/clockwork-sim" -q --gpus 6 --seed "$SEED" "$@" ${SIM_ARGS:-} --log-dir "$dir" "${CTL_OPTS[@]}" -- \
    "${WORKLOAD[@]}" > "$dir/sim.log" 2> "$dir/sim.err"
}

[ "${SKIP_LIVE:-0}" = 1 ] || live
sim "$OUT/sim"
"$BUILD/clockwork-sim" --calibrate "$OUT/live" --overheads-out "$OUT/overheads.txt" > "$OUT/cal/calibrate.log" 2>&1 \
  || { cat "$OUT/cal/calibrate.log" >&2; exit 1; }
sim "$OUT/cal" --overheads "$OUT/overheads.txt"
grep -v '^#' "$OUT/overheads.txt" | tr '\n' ' ' | sed 's/^/calibrated overheads (us): /; s/$/\n/' >&2
/usr/bin/python3 - "$OUT" <<'PY'
import csv, sys
out = sys.argv[1]
def by_slo(d):
    res = {}
    try:
        with open("%s/%s/clockwork_request_log.tsv" % (out, d)) as f:
            r = csv.reader(f, delimiter="\t")
            next(r)
            for row in r:
                s = res.setdefault(round(float(row[5]), 3), [0, 0])
                s[0] += 1
                s[1] += int(row[8])
    except OSError:
        pass
    return res
runs = {d: by_slo(d) for d in ("live", "sim", "cal")}
pct = lambda c: 100.0 * c[1] / c[0] if c and c[0] else float("nan")
print("%-10s %9s %9s %9s %8s %9s %8s" % ("slo_factor", "live_reqs", "live_met%", "sim_met%", "sim-live", "cal_met%", "cal-live"))
worst = {"sim": 0.0, "cal": 0.0}
for slo in sorted(set().union(*runs.values())):
    live = runs["live"].get(slo)
    cells = []
    for d in ("sim", "cal"):
        p = pct(runs[d].get(slo))
        if live and runs[d].get(slo):
            worst[d] = max(worst[d], abs(p - pct(live)))
        cells += [p, p - pct(live)]
    print("%-10g %9d %9.2f %9.2f %+8.2f %9.2f %+8.2f" % (slo, live[0] if live else 0, pct(live), *cells))
print("largest difference: %.2f points with the default overheads, %.2f calibrated" % (worst["sim"], worst["cal"]))
PY
echo "logs in $OUT" >&2
