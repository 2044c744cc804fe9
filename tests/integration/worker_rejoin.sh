#!/usr/bin/env bash
# A worker that dies and is restarted comes back into service: the controller answers the
# requests the dead worker held, reconnects, registers the start-up models on it again and
# schedules on its GPUs, so requests succeed again without restarting anything else.
set -u
source "$(dirname "$0")/lib.bash"

start_worker -n 1
wait_for_line "$TMP/worker.log" "IO service thread listening" 10
start_controller
"$BUILD/client" "127.0.0.1:$CONTROLLER_PORT" poisson-open-loop 2 100 -d 16 > "$TMP/client.log" 2>&1 &
CLIENT_PID=$!
PIDS+=($CLIENT_PID)
wait_for_line "$TMP/client.log" "throughput=" 20
kill -KILL "$WORKER_PID"
sleep 2
"$BUILD/worker_dummy" -p "$WORKER_PORT" -n 1 > "$TMP/worker2.log" 2>&1 &
PIDS+=($!)
RESTART=$(date +%s%N)
wait_for_line "$TMP/controller.log" "Worker 0 (127.0.0.1:$WORKER_PORT) rejoined" 15
wait $CLIENT_PID

grep -q "lost" "$TMP/controller.log" || fail "the worker's death was not noticed"
grep -q "Received A[0-9]*:LoadModelFromDisk" "$TMP/worker2.log" || fail "models were not registered on the new worker"
grep -q "unanswered=0" "$TMP/client.log" || fail "requests were left without a response"
/usr/bin/python3 - "$TMP" "$RESTART" <<'PY' || fail "no successful requests after the worker came back"
import sys
d, restart = sys.argv[1], int(sys.argv[2])
rows = [l.split("\t") for l in open(d + "/clockwork_request_log.tsv").read().splitlines()[1:]]
after = [r for r in rows if int(r[0]) > restart + 3_000_000_000]
ok = sum(1 for r in after if r[2] == "0")
assert after and ok / len(after) > 0.9, "after restart: %d requests, %d ok" % (len(after), ok)
print("requests after the restart: %d, ok: %d" % (len(after), ok))
PY
stop_process "$CONTROLLER_PID" controller
echo "PASS worker_rejoin"
