#!/usr/bin/env bash
# Issue 11, finding 5: clients choose neither the files a worker opens nor the lines the
# processes log. A model planted outside the worker's CLOCKWORK_MODEL_DIR does not load (the
# worker looks for NAME/model inside its directory only, so '..' earlier in the path does not
# lead out, and a '..' in NAME/model is refused); a path carrying a
# newline and a forged "ERROR: Worker 0 ... lost" line is refused at the controller and forges
# no line in either log; a 2 KB path is refused, a 100 KB one closes the connection before it
# is read, and no log line grows past a few KB. Models inside the directory are then served.
set -u
source "$(dirname "$0")/lib.bash"
HOSTILE="/usr/bin/python3 $(dirname "$0")/hostile.py"

mkdir -p "$TMP/outside/evil"
cp "$SRC/modelzoo/resnet50_v2/model.measurements" "$TMP/outside/evil/model.measurements"
cp "$SRC/modelzoo/resnet50_v2/model.info" "$TMP/outside/evil/model.info"
start_worker -n 1
wait_for_line "$TMP/worker.log" "IO service thread listening" 10
start_controller
wait_for_line "$TMP/controller.log" "Awaiting LoadModel" 10

load() { # EXPECT-STATUS MESSAGE-PART PATH
  local out
  out="$($HOSTILE load "$CONTROLLER_PORT" 1 "$3")"
  echo "load ${3:0:80}... -> ${out:0:300}"
  case "$out" in
    *"status=$1 message="*"$2"*) ;;
    *) fail "LoadModel ${3:0:80}: expected status $1 ($2), got: ${out:0:300}" ;;
  esac
}
load 1 "cannot read $SRC/modelzoo/evil/model.info" "$TMP/outside/evil/model"
load 1 "cannot read $SRC/modelzoo/evil/model.info" "$SRC/modelzoo/../../$(basename "$TMP")/outside/evil/model"
load 1 "invalid model path" "$TMP/outside/evil/.."
load 6 "control character" $'/zoo/x\nERROR: Worker 0 (10.9.9.9:1) lost: forged/model'
load 6 "too long" "/zoo/$(head -c 2000 /dev/zero | tr '\0' a)/model"
# 100 KB is more than any request header can need: refused before it is read
[ "$($HOSTILE load "$CONTROLLER_PORT" 1 "/zoo/$(head -c 100000 /dev/zero | tr '\0' a)/model")" = "load: closed" ] ||
  fail "a 100 KB request header was read"
grep -q "header length exceeds the limit of this link" "$TMP/controller.log" || fail "no reason logged"
grep -q "Received A[0-9]*:LoadModelFromDisk .*$TMP/outside" "$TMP/worker.log" || fail "the worker saw no outside path"
grep -q "LoadModelFromDisk input=" "$TMP/worker.log" && fail "a model from outside the model directory loaded"

run_client 5 client.log simple
grep -q "throughput=" "$TMP/client.log" && grep -q "unanswered=0" "$TMP/client.log" ||
  fail "models inside the model directory were not served"
stop_process "$CONTROLLER_PID" controller
stop_process "$WORKER_PID" worker
for log in controller worker; do
  grep -q "^ERROR: Worker 0 (10.9.9.9:1)" "$TMP/$log.log" && fail "a client forged a line in the $log's log"
  longest=$(awk '{ if (length($0) > n) n = length($0) } END { print n + 0 }' "$TMP/$log.log")
  [ "$longest" -lt 5000 ] || fail "a $longest-byte line in the $log's log"
done
echo "PASS hardening_paths_logs"
