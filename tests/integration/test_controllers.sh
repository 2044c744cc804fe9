#!/usr/bin/env bash
# The original's test controllers with real processes on 127.0.0.1 (worker_dummy + controller
# + client): ECHO answers the client's workload itself (the worker gets no action after
# start-up), DIRECT forwards every request as its own Infer (weights loaded on demand), STRESS
# loads its copies and keeps both GPUs loading, evicting and inferring without errors and refuses
# inference requests. Each stops cleanly on SIGINT.
set -u
source "$(dirname "$0")/lib.bash"
WIRE="/usr/bin/python3 $(dirname "$0")/wire_client.py"

count_rows() { # FILE AWK-CONDITION: data rows of a TSV matching the condition
  awk -F'\t' "NR > 1 && ($2) { n++ } END { print n + 0 }" "$1"
}

restart_worker() { # fresh registry for every controller type
  [ -n "${WORKER_PID:-}" ] && stop_process "$WORKER_PID" worker
  rm -f "$TMP/worker.log" # so that only the new worker's "listening" line counts
  start_worker -n 2
  wait_for_line "$TMP/worker.log" "IO service thread listening on 0.0.0.0:$WORKER_PORT" 10
}

# controller -h lists the test controllers next to the schedulers, STRESS with its options
usage="$("$BUILD/controller" -h)"
for t in "DIRECT    Used for testing" "ECHO      Used for testing" "STRESS    Used for testing" \
         "INFER5    The Clockwork Scheduler" "INFER4" "INFER6    INFER5's successor" "max_models_on_gpu" \
         "stress_loadweights"; do
  echo "$usage" | grep -q "$t" || fail "controller -h does not list '$t'"
done
"$BUILD/controller" ECHO "127.0.0.1:$WORKER_PORT" 1 > "$TMP/bad.log" 2>&1 && fail "ECHO accepted an option"
grep -q "ECHO takes no options" "$TMP/bad.log" || fail "ECHO's option error is not clear"

# ---- ECHO ----
restart_worker
start_controller_type ECHO
run_client 6 client_echo.log simple
stop_process "$CONTROLLER_PID" controller
cp "$TMP/controller.log" "$TMP/controller_echo.log"
grep -q "ECHO test controller" "$TMP/controller_echo.log" || fail "ECHO did not say what it is"
grep -q "(Startup-end) Transitioning to scheduler" "$TMP/controller_echo.log" || fail "ECHO never left start-up"
ok=$(count_rows "$TMP/clockwork_request_log.tsv" '$3 == 0')
bad=$(count_rows "$TMP/clockwork_request_log.tsv" '$3 != 0')
[ "$ok" -gt 1000 ] || fail "ECHO answered only $ok requests successfully"
[ "$bad" -eq 0 ] || fail "ECHO answered $bad requests with an error"
grep -q "Summary: sent=[0-9]* succeeded=[0-9]* failed=0 unanswered=0" "$TMP/client_echo.log" ||
  fail "the client saw failures or unanswered requests with ECHO"
[ "$(count_rows "$TMP/clockwork_action_log.tsv" 1)" -eq 0 ] || fail "ECHO sent actions to the worker"
grep -q "Inf=[1-9]" "$TMP/worker.log" && fail "the worker ran inferences under ECHO"
echo "ECHO: $ok requests answered"

# ---- DIRECT ----
restart_worker
start_controller_type DIRECT
run_client 6 client_direct.log simple
stop_process "$CONTROLLER_PID" controller
cp "$TMP/controller.log" "$TMP/controller_direct.log"
grep -q "DIRECT: forwarding each inference request to a GPU, round robin over 2 GPUs" "$TMP/controller_direct.log" ||
  fail "DIRECT did not start on both GPUs"
ok=$(count_rows "$TMP/clockwork_request_log.tsv" '$3 == 0')
bad=$(count_rows "$TMP/clockwork_request_log.tsv" '$3 != 0')
infers=$(count_rows "$TMP/clockwork_action_log.tsv" '$3 == 2 && $4 == 0')
loads=$(count_rows "$TMP/clockwork_action_log.tsv" '$3 == 1 && $4 == 0')
[ "$ok" -gt 200 ] || fail "DIRECT answered only $ok requests successfully"
[ "$bad" -eq 0 ] || fail "DIRECT answered $bad requests with an error"
[ "$infers" -eq "$ok" ] || fail "DIRECT: $infers infers for $ok requests (one each expected)"
[ "$loads" -ge 2 ] && [ "$loads" -le 4 ] || fail "DIRECT: $loads weight loads (2 models x 2 GPUs at most)"
awk -F'\t' 'NR > 1 && $3 == 2 && $8 != 1 { exit 1 }' "$TMP/clockwork_action_log.tsv" || fail "DIRECT batched requests"
grep -q "W0-GPU0 Infer" "$TMP/controller_direct.log" && grep -q "W0-GPU1 Infer" "$TMP/controller_direct.log" ||
  fail "DIRECT did not use both GPUs"
grep -q "Summary: sent=[0-9]* succeeded=[0-9]* failed=0 unanswered=0" "$TMP/client_direct.log" ||
  fail "the client saw failures or unanswered requests with DIRECT"
echo "DIRECT: $ok requests, $infers infers, $loads loads"

# ---- STRESS ----
restart_worker
start_controller_type STRESS resnet50_v2 300
wait_for_line "$TMP/controller.log" "Admitting inference requests" 20
wait_for_line "$TMP/controller.log" "W0-GPU1 Infer" 10
reply="$($WIRE "$CONTROLLER_PORT" infer-unknown-model)"
echo "$reply" | grep -q "type=102 id=5 header=0a.*1006" || fail "STRESS did not refuse an inference request: $reply"
sleep 3
stop_process "$CONTROLLER_PID" controller
stop_process "$WORKER_PID" worker
grep -q "STRESS test controller using: model=$SRC/modelzoo/resnet50_v2/model copies=300" "$TMP/controller.log" ||
  fail "STRESS did not print its options"
grep -q "Controller --> LoadModel path=$SRC/modelzoo/resnet50_v2/model copies=300 (STRESS)" "$TMP/controller.log" ||
  fail "STRESS did not load its model"
grep -q "errors=" "$TMP/controller.log" && fail "STRESS actions failed"
grep -q "STRESS: .* failed:" "$TMP/controller.log" && fail "STRESS actions failed"
loads=$(count_rows "$TMP/clockwork_action_log.tsv" '$3 == 1 && $4 == 0')
evicts=$(count_rows "$TMP/clockwork_action_log.tsv" '$3 == 3 && $4 == 0')
infers=$(count_rows "$TMP/clockwork_action_log.tsv" '$3 == 2 && $4 == 0')
failed=$(count_rows "$TMP/clockwork_action_log.tsv" '$4 != 0')
# 1376 pages of 7-page copies: 194 resident per GPU, so loads beyond 2 x 196 need evictions
[ "$loads" -gt 400 ] || fail "STRESS: only $loads loads"
[ "$evicts" -gt 0 ] || fail "STRESS never evicted"
[ "$infers" -gt 400 ] || fail "STRESS: only $infers infers"
[ "$failed" -eq 0 ] || fail "STRESS: $failed actions failed"
for g in 0 1; do
  grep -q "W0-GPU$g LoadW .*throughput=[1-9]" "$TMP/controller.log" || fail "no LoadWeights throughput on GPU $g"
done
echo "STRESS: $loads loads, $evicts evictions, $infers infers"
echo "PASS test_controllers"
