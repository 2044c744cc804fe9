#!/usr/bin/env bash
# Bad input and failures never take the controller or the worker down: malformed frames and
# unknown message types close only that connection; an unknown model gets an error response;
# a client killed mid-run does not disturb the controller, which then serves a new client;
# a worker killed while serving makes the controller answer every outstanding request.
set -u
source "$(dirname "$0")/lib.bash"
WIRE="/usr/bin/python3 $(dirname "$0")/wire_client.py"

start_worker -n 2
wait_for_line "$TMP/worker.log" "IO service thread listening" 10
start_controller
wait_for_line "$TMP/controller.log" "Awaiting LoadModel" 10

# Malformed input at both processes: the offending connection is closed, nothing else.
[ "$($WIRE "$CONTROLLER_PORT" garbage)" = closed ] || fail "controller kept a connection with an oversized header"
[ "$($WIRE "$CONTROLLER_PORT" unknown-type)" = closed ] || fail "controller kept a connection with an unknown type"
[ "$($WIRE "$WORKER_PORT" garbage)" = closed ] || fail "worker kept a connection with an oversized header"
[ "$($WIRE "$WORKER_PORT" unknown-type)" = closed ] || fail "worker kept a connection with an unknown type"
grep -q "header length exceeds 10 MiB" "$TMP/controller.log" || fail "controller logged no reason for the bad frame"
# During start-up, LS is bounced with status 5 (field 2 of the response header = 0x10 0x05).
$WIRE "$CONTROLLER_PORT" ls | grep -q "type=105 id=9 header=0a.*1005" || fail "LS during start-up not answered with status 5"

# A client that is killed mid-run.
"$BUILD/client" "127.0.0.1:$CONTROLLER_PORT" poisson-open-loop 2 400 > "$TMP/client1.log" 2>&1 &
C1=$!
PIDS+=($C1)
wait_for_line "$TMP/client1.log" "throughput=" 20
kill -KILL $C1
sleep 1
kill -0 "$CONTROLLER_PID" 2>/dev/null || fail "controller died when a client was killed"

# The controller keeps serving: an unknown model is an error response, a new client succeeds.
$WIRE "$CONTROLLER_PORT" infer-unknown-model | grep -q "type=102 id=5" || fail "no response for an unknown model"
run_client 5 client2.log simple
grep -q "throughput=" "$TMP/client2.log" || fail "second client was not served"
grep -q "unanswered=0" "$TMP/client2.log" || fail "second client had unanswered requests"

# Kill the worker while a client is running: every request still gets a response.
"$BUILD/client" "127.0.0.1:$CONTROLLER_PORT" poisson-open-loop 2 200 -d 6 > "$TMP/client3.log" 2>&1 &
C3=$!
PIDS+=($C3)
sleep 2
kill -KILL "$WORKER_PID"
wait $C3
grep -q "lost" "$TMP/controller.log" || fail "controller did not report the lost worker"
kill -0 "$CONTROLLER_PID" 2>/dev/null || fail "controller died with its worker"
grep -q "unanswered=0" "$TMP/client3.log" || fail "requests were left without a response after the worker died"
grep -Eq "failed=[1-9]|status" "$TMP/client3.log" || fail "client saw no errors after the worker died"
stop_process "$CONTROLLER_PID" controller
echo "PASS robustness"
