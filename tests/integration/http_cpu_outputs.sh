#!/usr/bin/env bash
# The HTTP API's inference outputs equal the native protocol's, byte for byte, on a real worker:
# a small ONNX CNN converted and served by `worker` (one CPU device) + controller INFER5. The C
# client sends its input natively and saves what it got; http_native_compare.py then sends that
# input over HTTP (JSON flat and nested, binary, mixed) and a batch of distinct rows both
# natively (one at a time) and over HTTP (one request, split and merged), and compares the bytes.
# Skipped (77) when the CPU component or python3-onnx is not available.
set -u
source "$(dirname "$0")/lib.bash"
[ -x "$BUILD/worker" ] && [ -x "$BUILD/convert" ] || { echo "SKIP: CPU worker not built"; exit 77; }
/usr/bin/python3 -c "import onnx" 2>/dev/null || { echo "SKIP: python3-onnx missing"; exit 77; }

mkdir -p "$TMP/onnx" "$TMP/zoo"
/usr/bin/python3 "$SRC/tools/gen_onnx_models.py" "$TMP/onnx" tiny_cnn > "$TMP/gen.log" 2>&1 ||
  fail "model generation failed"
# batch sizes up to 4 only: in batches of 8 and 16 the CPU backend rounds some rows differently from
# batch 1, so the bytes would depend on how the scheduler happened to batch the rows (docs/http.md)
"$BUILD/convert" -r 1 -b 1,2,4 "$TMP/onnx/tiny_cnn.onnx" "$TMP/zoo/tiny_cnn" > "$TMP/convert.log" 2>&1 ||
  fail "convert failed"

export CLOCKWORK_MODEL_DIR="$TMP/zoo"
export CLOCKWORK_CONFIG_FILE="$SRC/config/cpu.cfg"
"$BUILD/worker" -p "$WORKER_PORT" --no-measure > "$TMP/worker.log" 2>&1 &
PIDS+=($!); WORKER_PID=$!
wait_for_line "$TMP/worker.log" "IO service thread listening on 0.0.0.0:$WORKER_PORT" 10
start_controller
wait_for_line "$TMP/controller.log" "HTTP KServe v2 API listening on 0.0.0.0:$HTTP_PORT" 10
# the client loads one copy (model id 0) during start-up and saves its first input and output
CLOCKWORK_SAVE_OUTPUTS="$TMP/outputs" run_client 4 client.log slo-exp-1 tiny_cnn 1 poisson 20 100 100 2 mul 30
[ -s "$TMP/outputs/model_0.in" ] && [ -s "$TMP/outputs/model_0.out" ] || fail "the client saved no input/output"
timeout -k 5 120 /usr/bin/python3 "$SRC/tests/integration/http_native_compare.py" "$HTTP_PORT" "$CONTROLLER_PORT" \
  tiny_cnn "$TMP/outputs" > "$TMP/compare.log" 2>&1 || { cat "$TMP/compare.log"; fail "HTTP outputs differ"; }
cat "$TMP/compare.log"
stop_process "$CONTROLLER_PID" controller
stop_process "$WORKER_PID" worker
# every HTTP row and native request went through the scheduler and succeeded
http_rows=$(awk -F'\t' 'NR > 1 && $3 == 0' "$TMP/clockwork_request_log.tsv" | wc -l)
[ "$http_rows" -ge $(( 5 + 2 * 5 + 5 )) ] || fail "only $http_rows successful rows in the request log"
echo "PASS http_cpu_outputs"
