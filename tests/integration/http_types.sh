#!/usr/bin/env bash
# The HTTP API on the other controller TYPEs: INFER6 and ECHO serve inference over HTTP like
# INFER5; a load or unload while serving is answered 501 with the TYPE's name where the TYPE
# cannot change its models (INFER6), and works where it can (ECHO). Loads during start-up work
# for every TYPE (they are the start-up LoadModel path).
set -u
source "$(dirname "$0")/lib.bash"
command -v curl > /dev/null || { echo "SKIP: curl missing"; exit 77; }

ZOO="$TMP/zoo"
mkdir -p "$ZOO/tiny"
echo 'input_size = 96L; output_size = 40L; weights_size = 2000000L; batch_sizes = [1, 2];
input_shape = [1, 24]; output_shape = [1, 10];' > "$ZOO/tiny/model.info"
echo 'weights = 2000000L; b1 = 1000000L; b2 = 1500000L;' > "$ZOO/tiny/model.measurements"
export CLOCKWORK_MODEL_DIR="$ZOO" CLOCKWORK_STARTUP_QUIET_MS=1500
API="http://127.0.0.1:$HTTP_PORT"
body='{"inputs":[{"name":"INPUT0","datatype":"FP32","shape":[1,24],"data":[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24]}]}'

post() { # PATH [BODY]: prints "BODY CODE"
  curl -s -w ' %{http_code}' -X POST ${2:+-d "$2"} "$API$1"
}

infer_ok() { # until the first inference (which loads the weights) succeeds
  local out
  for _ in $(seq 20); do
    out=$(post /v2/models/tiny/infer "$body")
    [[ "$out" == *'"shape":[1,10],"data":['*' 200' ]] && return 0
    sleep 0.1
  done
  fail "$1: inference over HTTP: $out"
}

for type in INFER6 ECHO; do
  start_worker -n 1
  start_controller_type "$type"
  wait_for_line "$TMP/controller.log" "HTTP KServe v2 API listening on 0.0.0.0:$HTTP_PORT" 10
  out=$(post /v2/repository/models/tiny/load)
  [ "$out" = ' 200' ] || fail "$type: load during start-up: $out"
  for _ in $(seq 100); do
    [ "$(curl -s -o /dev/null -w '%{http_code}' "$API/v2/health/ready")" = 200 ] && break
    sleep 0.1
  done
  [ "$(curl -s -o /dev/null -w '%{http_code}' "$API/v2/health/ready")" = 200 ] || fail "$type: never ready"
  infer_ok "$type"
  if [ "$type" = INFER6 ]; then
    out=$(post /v2/repository/models/tiny/load '{"parameters":{"copies":2}}')
    [[ "$out" == *'the INFER6 controller cannot load models while serving'*' 501' ]] || fail "INFER6 load: $out"
    out=$(post /v2/repository/models/tiny/unload)
    [[ "$out" == *'the INFER6 controller cannot unload models'*' 501' ]] || fail "INFER6 unload: $out"
    infer_ok "INFER6 after the refusals"
  else
    out=$(post /v2/repository/models/tiny/unload)
    [ "$out" = ' 200' ] || fail "ECHO unload: $out"
    out=$(post /v2/models/tiny/infer "$body")
    [[ "$out" == *"model 'tiny' is unloaded"*' 400' ]] || fail "ECHO inference on an unloaded model: $out"
    out=$(post /v2/repository/models/tiny/load '{"parameters":{"copies":2}}')
    [ "$out" = ' 200' ] || fail "ECHO load of a second copy: $out"
    versions=$(curl -s "$API/v2/models/tiny" | tr -d ' ')
    [[ "$versions" == *'"versions":["0","1"]'* ]] || fail "ECHO: two copies after the load: $versions"
    infer_ok "ECHO after the load"
  fi
  echo "ok: $type"
  stop_process "$CONTROLLER_PID" controller
  stop_process "$WORKER_PID" worker
done
echo "PASS http_types"
