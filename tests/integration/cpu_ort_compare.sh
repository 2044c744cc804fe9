#!/usr/bin/env bash
# Whole-model comparison with ONNX Runtime: ResNet-18, ResNet-50 and MobileNet (full size, 224x224,
# batch 1), a small
# ResNet-18 (width 16, 64x64, batch 4) and a MobileNet-style model (depthwise +
# ReLU6 + MatMul + Softmax, 32x32, batch 2) and tiny_cnn (grouped/dilated conv, sigmoid, mul,
# concat, average pool on blocked layouts, batch 2) are converted, run by check_model on seeded random
# inputs and compared element-wise with ORT: |ours - ort| <= ATOL + RTOL * |ort|. Skipped (77)
# when the CPU component, python3-onnx/numpy or onnxruntime-node (tools/ort) is missing.
set -u
source "$(dirname "$0")/lib.bash"
RTOL=1e-3
ATOL=1e-4
PY=/usr/bin/python3
[ -x "$BUILD/convert" ] && [ -x "$BUILD/check_model" ] || { echo "SKIP: CPU component not built"; exit 77; }
$PY -c "import onnx, numpy" 2>/dev/null || { echo "SKIP: python3-onnx or python3-numpy missing"; exit 77; }
command -v node > /dev/null || { echo "SKIP: node missing"; exit 77; }
node "$SRC/tools/ort/ort_ref.js" > /dev/null 2>&1
[ $? -eq 77 ] && { echo "SKIP: onnxruntime-node not installed (cd tools/ort && npm install --ignore-scripts)"; exit 77; }

# compare NAME DIMS BATCH: DIMS = batch-1 input shape as ORT_INPUT_DIMS wants it.
compare() {
  local name=$1 dims=$2 batch=$3 d="$TMP/$1"
  mkdir -p "$d"
  timeout 120 $PY "$SRC/tools/gen_onnx_models.py" "$d" "$name" > "$d/gen.log" 2>&1 || fail "$name: generation failed"
  timeout 120 "$BUILD/convert" -r 1 -b 1,2,4 "$d/$name.onnx" "$d/zoo" > "$TMP/convert_$name.log" 2>&1 ||
    fail "$name: convert failed"
  $PY -c 'import numpy as np, sys
n = int(np.prod([int(x) for x in sys.argv[2].split(",")])) * int(sys.argv[3])
np.random.default_rng(7).uniform(-1, 1, n).astype(np.float32).tofile(sys.argv[1])' "$d/in.f32" "$dims" "$batch"
  timeout 120 "$BUILD/check_model" -b "$batch" -i "$d/in.f32" -o "$d/ours.f32" "$d/zoo" > "$TMP/check_$name.log" 2>&1 ||
    fail "$name: check_model failed"
  ORT_INPUT_DIMS="$dims" timeout 120 node "$SRC/tools/ort/ort_ref.js" run "$d/$name.onnx" "$d/in.f32" "$d/ort.f32" "$batch" \
    > "$TMP/ort_$name.log" 2>&1 || fail "$name: ORT failed"
  $PY - "$d/ours.f32" "$d/ort.f32" "$RTOL" "$ATOL" "$name" <<'PY' || fail "$name: outputs differ from ORT"
import sys
import numpy as np
ours, ref = np.fromfile(sys.argv[1], np.float32), np.fromfile(sys.argv[2], np.float32)
rtol, atol = float(sys.argv[3]), float(sys.argv[4])
assert ours.size == ref.size and ref.size > 0, "sizes %d vs %d" % (ours.size, ref.size)
err = np.abs(ours.astype(np.float64) - ref)
bad = int(np.sum(err > atol + rtol * np.abs(ref)))
print("%s: %d values, max abs err %.3g, max |ref| %.3g, %d outside tolerance" % (sys.argv[5], ref.size, err.max(), np.abs(ref).max(), bad))
assert bad == 0 and np.all(np.isfinite(ours))
PY
}

compare resnet18 1,3,224,224 1
compare resnet50 1,3,224,224 1
compare mobilenet 1,3,224,224 1
compare resnet18_small 1,3,64,64 4
compare mobilenet_tiny 1,3,32,32 2
compare tiny_cnn 1,3,32,32 2
echo "PASS cpu_ort_compare"
