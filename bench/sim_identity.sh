#!/usr/bin/env bash
# A scheduler's decisions (INFER5, or TYPE), fingerprinted: runs clockwork-sim on the configurations whose
# telemetry must stay byte-identical across behaviour-preserving scheduler or simulator changes (the six
# Figure 7 configurations, fill_memory, azure on a synthetic trace, a 1000-GPU open loop, a
# 100-GPU cluster that evicts all the time, workers with 4 GPUs each) and
# prints one sha256 per TSV. Run it with the binary before and after a change, then diff.
#   usage: bench/sim_identity.sh [BUILD_DIR_OR_SIM_BINARY] [OUT_DIR]
#   env:   TYPE (INFER5; or INFER6, with its own tick), CONFIGS (default: all; e.g. "fig7_12_600 fill_memory"),
#          KEEP=1 keeps the TSVs in OUT_DIR
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
SIM="${1:-$ROOT/build}"
[ -d "$SIM" ] && SIM="$SIM/clockwork-sim"
[ -x "$SIM" ] || { echo "no clockwork-sim at $SIM" >&2; exit 2; }
OUT="${2:-$(mktemp -d /tmp/cw-identity.XXXXXX)}"
mkdir -p "$OUT"
export CLOCKWORK_MODEL_DIR="${CLOCKWORK_MODEL_DIR:-$ROOT/modelzoo}"

TYPE="${TYPE:-INFER5}"
FIG7="$TYPE 0 6 5000000 -- slo-exp-1 resnet50_v2"
declare -A CMD=(
  [fig7_12_600]="--gpus 6 --seed 1 $FIG7 12 poisson 600 1 100 1.5 mul 30"
  [fig7_12_1200]="--gpus 6 --seed 1 $FIG7 12 poisson 1200 1 100 1.5 mul 30"
  [fig7_12_2400]="--gpus 6 --seed 1 $FIG7 12 poisson 2400 1 100 1.5 mul 30"
  [fig7_48_600]="--gpus 6 --seed 1 $FIG7 48 poisson 600 1 100 1.5 mul 30"
  [fig7_48_1200]="--gpus 6 --seed 1 $FIG7 48 poisson 1200 1 100 1.5 mul 30"
  [fig7_48_2400]="--gpus 6 --seed 1 $FIG7 48 poisson 2400 1 100 1.5 mul 30"
  [fill_memory]="--gpus 2 --cache-size 335544320 --seed 3 -d 30 $TYPE 0 2 5000000 -- fill_memory"
  [azure]="--gpus 6 --seed 1 -d 30 $TYPE 0 6 5000000 -- azure 6 1 1.0 2 1 1 0"
  [open_1000]="--gpus 1000 --seed 1 -d 2 $TYPE 0 1000 5000000 -- poisson-open-loop 4000 40000"
  [evict_100]="--gpus 100 --cache-size 1073741824 --seed 1 -d 5 $TYPE 0 100 5000000 -- poisson-open-loop 4000 4000"
  [multi_gpu]="-w 3 -g 4 --cache-size 2147483648 --seed 5 -d 20 $TYPE 0 12 5000000 -- poisson-open-loop 200 2400"
)
ORDER="fig7_12_600 fig7_12_1200 fig7_12_2400 fig7_48_600 fig7_48_1200 fig7_48_2400 fill_memory azure open_1000 evict_100
multi_gpu"
CONFIGS="${CONFIGS:-$ORDER}"

# azure replays a synthetic trace (tools/gen_azure_trace.py is deterministic for its seed)
if [[ " $CONFIGS " == *" azure "* ]]; then
  export AZURE_TRACE_DIR="$OUT/azure_trace"
  [ -f "$AZURE_TRACE_DIR/invocations_per_function_md.anon.d01.csv" ] \
    || /usr/bin/python3 "$ROOT/tools/gen_azure_trace.py" "$AZURE_TRACE_DIR" --functions 2000 --seed 1 \
      --mean-rate 400 > /dev/null
fi

for c in $CONFIGS; do
  [ -n "${CMD[$c]:-}" ] || { echo "unknown configuration $c" >&2; exit 2; }
  dir="$OUT/$c"
  mkdir -p "$dir"
  # shellcheck disable=SC2086 # the command lines are word lists
  "$SIM" -q --log-dir "$dir" ${CMD[$c]} > "$dir/stdout.txt" 2> "$dir/stderr.txt" \
    || { echo "$c: clockwork-sim failed (see $dir/stderr.txt)" >&2; exit 1; }
  sed -i "s|$OUT|OUT|g" "$dir/stdout.txt" # the log directory is in it
  for f in clockwork_request_log.tsv clockwork_action_log.tsv stdout.txt; do
    printf '%s %s/%s %s lines\n' "$(sha256sum < "$dir/$f" | cut -c1-32)" "$c" "$f" "$(wc -l < "$dir/$f")"
  done
  [ "${KEEP:-0}" = 1 ] || rm -f "$dir"/clockwork_*.tsv
done
