#!/usr/bin/env bash
# The controller's KServe v2 REST API and metrics with real processes: worker_dummy + controller
# on 127.0.0.1, curl and the standard-library Python client (kserve_client.py, checks in
# http_checks.py). Health/ready through start-up, metadata, JSON/nested/binary inference,
# batches, versions, SLOs, a scheduler drop (503), every error path, the limits (connections,
# body size, header timeout), the repository (load/unload/index, paths kept inside the model
# directory), an unload with requests queued, a native client served at the same time, and the
# metrics against the request and action logs.
set -u
source "$(dirname "$0")/lib.bash"
command -v curl > /dev/null || { echo "SKIP: curl missing"; exit 77; }

# The model directory: tiny (input [1,2,3,4]), slowload (400 ms to load), slow (40 ms per
# request, batch 1 only), resnet50_v2 (for the native client), and escape, a symlink out of it.
ZOO="$TMP/zoo"
mkdir -p "$ZOO/tiny" "$ZOO/slowload" "$ZOO/slow" "$TMP/outside/escape"
cp -r "$SRC/modelzoo/resnet50_v2" "$ZOO/"
info='input_size = 96L; output_size = 40L; weights_size = 2000000L; batch_sizes = [1, 2, 4];
input_shape = [1, 2, 3, 4]; output_shape = [1, 10];'
for m in tiny slowload "$TMP/outside/escape"; do
  d="$m"; [ "${m#/}" = "$m" ] && d="$ZOO/$m"
  echo "$info" > "$d/model.info"
  echo 'weights = 2000000L; b1 = 1000000L; b2 = 1500000L; b4 = 2000000L;' > "$d/model.measurements"
done
echo 'weights = 400000000L; b1 = 1000000L; b2 = 1500000L; b4 = 2000000L;' > "$ZOO/slowload/model.measurements"
echo 'input_size = 96L; output_size = 40L; weights_size = 2000000L; batch_sizes = [1];' > "$ZOO/slow/model.info"
echo 'weights = 2000000L; b1 = 40000000L;' > "$ZOO/slow/model.measurements"
ln -s "$TMP/outside/escape" "$ZOO/escape"

export CLOCKWORK_MODEL_DIR="$ZOO" CLOCKWORK_STARTUP_QUIET_MS=1500 CLOCKWORK_HTTP_MAX_BODY_MB=1
export CLOCKWORK_HTTP_MAX_CONNECTIONS=8 CLOCKWORK_HTTP_TIMEOUT_MS=1000 WORKER_PORT
API="http://127.0.0.1:$HTTP_PORT"
start_worker -n 2
start_controller
wait_for_line "$TMP/controller.log" "HTTP KServe v2 API listening on 0.0.0.0:$HTTP_PORT" 10
wait_for_line "$TMP/controller.log" "HTTP metrics (GET /metrics) listening on 0.0.0.0:$METRICS_PORT" 10
code=$(curl -s -o /dev/null -w '%{http_code}' "$API/v2/health/ready")
[ "$code" = 400 ] || fail "curl: ready during start-up gave $code, not 400"

# a native client loads resnet50_v2 during start-up and runs while the HTTP checks do
run_client 14 client.log simple &
CLIENT_JOB=$!
/usr/bin/python3 "$SRC/tests/integration/http_checks.py" startup "$HTTP_PORT" || fail "start-up checks"
code=$(curl -s -o /dev/null -w '%{http_code}' "$API/v2/health/ready")
[ "$code" = 200 ] || fail "curl: ready once serving gave $code"
# curl: JSON inference, binary inference, HTTP/2, a malformed request
body='{"inputs":[{"name":"INPUT0","datatype":"FP32","shape":[1,2,3,4],"data":[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24]}]}'
out=$(curl -s -w ' %{http_code}' -H 'Content-Type: application/json' -d "$body" "$API/v2/models/tiny/infer")
[[ "$out" == *'"shape":[1,10],"data":[0.0,'*' 200' ]] || fail "curl JSON inference: $out"
out=$(curl -s --http2-prior-knowledge -w ' %{http_code} %{http_version}' -d "$body" "$API/v2/models/tiny/infer")
[[ "$out" == *' 200 2' ]] || fail "curl HTTP/2 inference: $out"
head='{"inputs":[{"name":"INPUT0","datatype":"FP32","shape":[1,2,3,4],"parameters":{"binary_data_size":96}}],"parameters":{"binary_data_output":true}}'
{ printf '%s' "$head"; head -c 96 /dev/zero; } > "$TMP/binary.req"
curl -s -D "$TMP/binary.hdr" -o "$TMP/binary.out" -H "Inference-Header-Content-Length: ${#head}" \
  -H 'Content-Type: application/octet-stream' --data-binary "@$TMP/binary.req" "$API/v2/models/tiny/infer"
jl=$(tr -d '\r' < "$TMP/binary.hdr" | awk -F': ' 'tolower($1) == "inference-header-content-length" {print $2}')
[ -n "$jl" ] && [ "$(stat -c %s "$TMP/binary.out")" = $(( jl + 40 )) ] || fail "curl binary inference: header $jl"
[ "$(tail -c 40 "$TMP/binary.out" | od -v -An -tx1 | tr -d ' \n')" = "$(printf '0%.0s' $(seq 80))" ] ||
  fail "curl binary output is not the worker's 40 zero bytes"
out=$(curl -s -w ' %{http_code}' -d '{"inputs":' "$API/v2/models/tiny/infer")
[[ "$out" == '{"error":"malformed JSON at line 1'*' 400' ]] || fail "curl malformed JSON: $out"

/usr/bin/python3 "$SRC/tests/integration/http_checks.py" serving "$HTTP_PORT" "$METRICS_PORT" || fail "serving checks"
wait "$CLIENT_JOB"
grep -q "Summary: sent=[1-9]" "$TMP/client.log" || fail "the native client sent nothing"
grep -q "unanswered=0" "$TMP/client.log" || fail "the native client has unanswered requests"
sleep 1.5 # the request log is flushed once a second
/usr/bin/python3 "$SRC/tests/integration/http_checks.py" final "$HTTP_PORT" "$METRICS_PORT" "$TMP" || fail "metrics vs logs"

exec 3<> "/dev/tcp/127.0.0.1/$HTTP_PORT" # an idle connection does not hold up shutdown
stop_process "$CONTROLLER_PID" controller
exec 3<&-
stop_process "$WORKER_PID" worker
echo "PASS http_api"
