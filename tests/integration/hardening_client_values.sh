#!/usr/bin/env bash
# Issue 11, finding 2: every value of a client's inference request is checked at the edge. A
# non-finite, negative, tiny or huge slo_factor, a batch_size other than 1, an unknown model,
# an input that is not LZ4 or an LZ4 bomb each get status 6 with a message naming the problem
# (and a telemetry row); slo_factor 0 (the default SLO) and valid inputs are served; the
# controller (also the sanitizer build, where such a float used to be undefined behaviour)
# keeps serving.
set -u
source "$(dirname "$0")/lib.bash"
HOSTILE="/usr/bin/python3 $(dirname "$0")/hostile.py"

start_worker -n 1
wait_for_line "$TMP/worker.log" "IO service thread listening" 10
start_controller
run_client 5 client1.log simple # loads resnet50_v2 as model 0
grep -q "throughput=" "$TMP/client1.log" || fail "the controller did not serve"

expect() { # STATUS MESSAGE-PART ARGS...
  local status="$1" part="$2"
  shift 2
  local out
  out="$($HOSTILE infer "$CONTROLLER_PORT" "$@")"
  echo "infer $* -> $out"
  case "$out" in
    *"status=$status message="*"$part"*) ;;
    *) fail "infer $*: expected status $status ($part), got: $out" ;;
  esac
}
for slo in inf -inf nan -1 3e38 1e-30 0.5; do
  expect 6 "Invalid slo_factor" 0 "$slo"
done
expect 6 "Invalid batch_size 0" 0 0 0
expect 6 "Invalid batch_size 4294967295" 0 0 4294967295
expect 6 "Invalid model ID 999999" 999999 0
expect 6 "not an LZ4 block" 0 0 1 garbage
expect 6 "not an LZ4 block of exactly the model's input size (602112" 0 0 1 bomb
expect 0 "" 0 0 1 valid
expect 0 "" 0 10 1 none

kill -0 "$CONTROLLER_PID" 2>/dev/null || fail "the controller died"
run_client 5 client2.log simple
grep -q "throughput=" "$TMP/client2.log" && grep -q "unanswered=0" "$TMP/client2.log" ||
  fail "the controller stopped serving after bad requests"
stop_process "$CONTROLLER_PID" controller
rejected=$(awk -F'\t' 'NR > 1 && $3 == 6' "$TMP/clockwork_request_log.tsv" | wc -l)
[ "$rejected" -eq 12 ] || fail "expected 12 telemetry rows with result 6, found $rejected"
grep -q "refused: Invalid slo_factor" "$TMP/controller.log" || fail "the controller logged no refusal"
echo "PASS hardening_client_values"
