#!/usr/bin/env bash
# Runs the same Figure 7 configuration live (6 x worker_dummy -n 1 + controller TYPE + client
# slo-exp-1 on 127.0.0.1) and in clockwork-sim, and prints the deadline satisfaction per SLO
# step side by side.
#   usage: tools/sim_vs_live.sh [N_MODELS [RATE [PERIOD_S [SEED]]]]   (defaults 12 600 10 1)
#   env:   CLOCKWORK_BUILD (default ./build), OUT (default a new /tmp/cw-sim-vs-live.*),
#          BASE_PORT (default 32345), TYPE (controller type, default INFER5),
#          SIM_ARGS (extra clockwork-sim options, e.g. --ideal or "--overheads FILE"),
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
mkdir -p "$OUT/live" "$OUT/sim"
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill -INT "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT

live() {
  local workers=""
  for i in 0 1 2 3 4 5; do
    "$BUILD/worker_dummy" -n 1 -p $((BASE_PORT + i)) > "$OUT/live/worker$i.log" 2>&1 &
    PIDS+=($!)
    workers+="${workers:+,}127.0.0.1:$((BASE_PORT + i))"
  done
  sleep 1
  CLOCKWORK_LOG_DIR="$OUT/live" CLOCKWORK_CONTROLLER_PORT=$((BASE_PORT + 6)) \
    "$BUILD/controller" "${CTL_OPTS[0]}" "$workers" "${CTL_OPTS[@]:1}" > "$OUT/live/controller.log" 2>&1 &
  PIDS+=($!)
  sleep 1
  echo "live: ${WORKLOAD[*]} (about $((12 * P + 5)) s)" >&2
  CLOCKWORK_DISABLE_INPUTS=1 timeout -s INT $((12 * P + 60)) \
    "$BUILD/client" "127.0.0.1:$((BASE_PORT + 6))" "${WORKLOAD[@]}" > "$OUT/live/client.log" 2>&1 || true
  sleep 1
  cleanup
  PIDS=()
}

sim() {
  echo "sim:  clockwork-sim --gpus 6 --seed $SEED ${SIM_ARGS:-} ${CTL_OPTS[*]} -- ${WORKLOAD[*]}" >&2
  # shellcheck disable=SC2086
  "$BUILD/clockwork-sim" -q --gpus 6 --seed "$SEED" ${SIM_ARGS:-} --log-dir "$OUT/sim" "${CTL_OPTS[@]}" -- \
    "${WORKLOAD[@]}" > "$OUT/sim/sim.log" 2> "$OUT/sim/sim.err"
  tail -1 "$OUT/sim/sim.err" >&2
}

[ "${SKIP_LIVE:-0}" = 1 ] || live
sim
/usr/bin/python3 - "$OUT/live" "$OUT/sim" <<'PY'
import csv, sys
def by_slo(d):
    out = {}
    try:
        with open(d + "/clockwork_request_log.tsv") as f:
            r = csv.reader(f, delimiter="\t"); next(r)
            for row in r:
                s = out.setdefault(round(float(row[5]), 3), [0, 0]); s[0] += 1; s[1] += int(row[8])
    except OSError:
        pass
    return out
live, sim = by_slo(sys.argv[1]), by_slo(sys.argv[2])
print("%-10s %10s %10s %10s %10s %8s" % ("slo_factor", "live_reqs", "live_met%", "sim_reqs", "sim_met%", "diff"))
worst = 0.0
for slo in sorted(set(live) | set(sim)):
    l, s = live.get(slo, [0, 0]), sim.get(slo, [0, 0])
    lp = 100.0 * l[1] / l[0] if l[0] else float("nan")
    sp = 100.0 * s[1] / s[0] if s[0] else float("nan")
    if l[0] and s[0]:
        worst = max(worst, abs(sp - lp))
    print("%-10g %10d %10.2f %10d %10.2f %+8.2f" % (slo, l[0], lp, s[0], sp, sp - lp))
print("largest difference: %.2f percentage points" % worst)
PY
echo "logs in $OUT" >&2
