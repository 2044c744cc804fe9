#!/usr/bin/env bash
# Real inference end to end: generates a small ONNX CNN, converts it, serves it with `worker`
# (one CPU device) + controller INFER5 + client slo-exp-1 on 127.0.0.1, and checks requests
# succeed. Skipped (77) when the CPU component or python3-onnx is not available.
set -u
source "$(dirname "$0")/lib.bash"
[ -x "$BUILD/worker" ] && [ -x "$BUILD/convert" ] || { echo "SKIP: CPU worker not built"; exit 77; }
/usr/bin/python3 -c "import onnx" 2>/dev/null || { echo "SKIP: python3-onnx missing"; exit 77; }

mkdir -p "$TMP/onnx" "$TMP/zoo"
/usr/bin/python3 "$SRC/tools/gen_onnx_models.py" "$TMP/onnx" tiny_cnn > "$TMP/gen.log" 2>&1 || fail "model generation failed"
"$BUILD/convert" -r 1 "$TMP/onnx/tiny_cnn.onnx" "$TMP/zoo/tiny_cnn" > "$TMP/convert.log" 2>&1 || fail "convert failed"
"$BUILD/check_model" -r 5 "$TMP/zoo/tiny_cnn" > "$TMP/check.log" 2>&1 || fail "check_model failed"
grep -q "b16 .*finite, deterministic" "$TMP/check.log" || fail "check_model did not report b16 finite+deterministic"
# A malformed model is refused with a message naming the node.
printf 'not an onnx file' > "$TMP/onnx/bad.onnx"
"$BUILD/convert" "$TMP/onnx/bad.onnx" "$TMP/zoo/bad" > "$TMP/bad.log" 2>&1 && fail "convert accepted garbage"
grep -q "not a valid ONNX model" "$TMP/bad.log" || fail "no clear error for a malformed file"

export CLOCKWORK_MODEL_DIR="$TMP/zoo"
export CLOCKWORK_CONFIG_FILE="$SRC/config/cpu.cfg"
"$BUILD/worker" -p "$WORKER_PORT" --no-measure > "$TMP/worker.log" 2>&1 &
PIDS+=($!); WORKER_PID=$!
wait_for_line "$TMP/worker.log" "IO service thread listening on 0.0.0.0:$WORKER_PORT" 10
start_controller
CLOCKWORK_SAVE_OUTPUTS="$TMP/outputs" run_client 6 client.log slo-exp-1 tiny_cnn 2 poisson 100 100 200 2 mul 30
sleep 0.5
stop_process "$CONTROLLER_PID" controller
stop_process "$WORKER_PID" worker

grep -q "Sending R[0-9]*:LoadModelFromDisk input=12288 output=40" "$TMP/worker.log" || fail "worker did not load the model"
/usr/bin/python3 - "$TMP" <<'PY' || fail "telemetry checks failed"
import sys
rows = [r.split("\t") for r in open(sys.argv[1] + "/clockwork_request_log.tsv").read().splitlines()[1:]]
ok = sum(1 for r in rows if r[2] == "0")
assert len(rows) > 100 and ok / len(rows) > 0.9, "requests=%d ok=%d" % (len(rows), ok)
print("requests=%d ok=%d" % (len(rows), ok))
PY
# The output the client received equals what check_model computes for the same input.
[ -s "$TMP/outputs/model_0.in" ] && [ -s "$TMP/outputs/model_0.out" ] || fail "client saved no input/output"
"$BUILD/check_model" -i "$TMP/outputs/model_0.in" -o "$TMP/outputs/ref.out" -b 1 "$TMP/zoo/tiny_cnn" \
  > "$TMP/ref.log" 2>&1 || fail "check_model could not run the saved input"
/usr/bin/python3 - "$TMP/outputs" <<'PY' || fail "served output differs from check_model's"
import struct, sys, math
d = sys.argv[1]
got, ref = open(d + "/model_0.out", "rb").read(), open(d + "/ref.out", "rb").read()
assert len(got) == len(ref) == 40, (len(got), len(ref))
a, b = struct.unpack("<10f", got), struct.unpack("<10f", ref)
assert all(math.isfinite(x) for x in a)
err = max(abs(x - y) for x, y in zip(a, b))
assert err <= 1e-5 + 1e-4 * max(abs(y) for y in b), err
print("served output matches check_model, max abs error %.2e" % err)
PY
echo "PASS cpu_cluster"
