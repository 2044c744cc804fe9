#!/usr/bin/env bash
# Benchmark (prints figures, never pass/fail): the CPU device against ONNX Runtime on one pinned
# core. For ResNet-18 and ResNet-50 (tools/gen_onnx_models.py, seeded weights) at batch 1 and 8:
# our exec time (check_model: median, p99) next to ORT's (onnxruntime-node, one intra-op thread)
# measured in the same run, and their ratio; weights load time per MB; and predictability
# (p99/median of exec time over PRED_RUNS runs of PRED_MODEL at batch 1).
#   usage: bench/cpu_vs_ort.sh [BUILD_DIR]
#   env:   MODELS ("resnet18 resnet50"), RUNS (30 per batch size), CORE (0),
#          PRED_MODEL (resnet18: ResNet-50 x 1000 takes minutes on a 2-core machine), PRED_RUNS (1000)
# ORT columns print "-" when onnxruntime-node is not installed (cd tools/ort && npm install --ignore-scripts).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BUILD="${1:-$ROOT/build}"
MODELS="${MODELS:-resnet18 resnet50}"
RUNS="${RUNS:-30}"
CORE="${CORE:-0}"
PRED_MODEL="${PRED_MODEL:-resnet18}"
PRED_RUNS="${PRED_RUNS:-1000}"
PY=/usr/bin/python3
[ -x "$BUILD/convert" ] && [ -x "$BUILD/check_model" ] || { echo "no CPU build in $BUILD (needs libdnnl-dev libonnx-dev)"; exit 1; }
$PY -c "import onnx" 2>/dev/null || { echo "python3-onnx is needed to generate the models"; exit 1; }
TMP="$(mktemp -d /tmp/cw-cpu-bench.XXXXXX)"
trap 'rm -rf "$TMP"' EXIT
ORT=1
node "$ROOT/tools/ort/ort_ref.js" >/dev/null 2>&1 || [ $? -ne 77 ] || ORT=0
command -v node >/dev/null || ORT=0

# field NAME LINE: the number after NAME in a check_model line.
field() { sed -n "s/.*$1 *\([0-9.]*\) ms.*/\1/p" <<<"$2"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b + 0 > 0) printf "%.2f", a / b; else print "-" }'; }

echo "CPU: $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1), $(nproc) core(s), pinned to core $CORE," \
     "load average $(cut -d' ' -f1 /proc/loadavg)"
[ "$ORT" = 1 ] || echo "ONNX Runtime: not installed, ORT columns skipped"
printf '%-9s %5s | %9s %9s %9s | %9s %9s %9s | %8s %8s\n' model batch "ours min" "ours med" "ours p99" \
       "ORT min" "ORT med" "ORT p99" "med/ORT" "min/ORT"
for m in $MODELS; do
  $PY "$ROOT/tools/gen_onnx_models.py" "$TMP" "$m" > /dev/null
  "$BUILD/convert" -r 1 -b 1,8 "$TMP/$m.onnx" "$TMP/zoo/$m" > "$TMP/convert.log" 2>&1
  out="$(taskset -c "$CORE" "$BUILD/check_model" -r "$RUNS" "$TMP/zoo/$m")"
  head -1 <<<"$out" | sed -n 's/.*weights \([0-9.]*\) MB.*load \([0-9.]*\) ms.*/\1 \2/p' > "$TMP/load.$m"
  for b in 1 8; do
    line="$(grep "^  b$b " <<<"$out")"
    min="$(field min "$line")"; med="$(field median "$line")"; p99="$(field p99 "$line")"; ort="- - -"
    if [ "$ORT" = 1 ]; then
      ort="$(taskset -c "$CORE" node "$ROOT/tools/ort/ort_ref.js" bench "$TMP/$m.onnx" "$b" "$RUNS" |
        $PY -c 'import json,sys; j = json.load(sys.stdin); print("%.3f %.3f %.3f" % (j["min_ms"], j["median_ms"], j["p99_ms"]))')"
    fi
    read -r omin omed op99 <<<"$ort"
    printf '%-9s %5s | %9s %9s %9s | %9s %9s %9s | %8s %8s\n' "$m" "$b" "$min" "$med" "$p99" "$omin" "$omed" "$op99" \
      "$(ratio "$med" "$omed")" "$(ratio "$min" "$omin")"
  done
done
echo "(ms over $RUNS runs after one warm-up, ours then ORT for each row; ORT: onnxruntime-node, intraOpNumThreads=1,"
echo " graph optimizations on. Other load on the machine shows in med/p99 first; min/ORT is the steadier ratio.)"

echo
echo "Weights load (LoadWeights: reorder into the page cache, one core):"
for m in $MODELS; do
  read -r mb ms < "$TMP/load.$m"
  printf '  %-9s %8s MB in %8s ms = %s ms/MB\n' "$m" "$mb" "$ms" "$(ratio "$ms" "$mb")"
done

echo
echo "Predictability: $PRED_MODEL batch 1, $PRED_RUNS runs on core $CORE" \
     "(ResNet-50 x 1000 takes minutes on this kind of machine; PRED_MODEL=resnet50 to run it):"
[ -f "$TMP/$PRED_MODEL.onnx" ] || $PY "$ROOT/tools/gen_onnx_models.py" "$TMP" "$PRED_MODEL" > /dev/null
"$BUILD/convert" -r 1 -b 1 "$TMP/$PRED_MODEL.onnx" "$TMP/zoo1/$PRED_MODEL" > "$TMP/convert.log" 2>&1
line="$(taskset -c "$CORE" "$BUILD/check_model" -r "$PRED_RUNS" "$TMP/zoo1/$PRED_MODEL" | grep '^  b1 ')"
med="$(field median "$line")"; p99="$(field p99 "$line")"
echo "  min $(field min "$line") ms, median $med ms, p99 $p99 ms: p99/median = $(ratio "$p99" "$med")"
