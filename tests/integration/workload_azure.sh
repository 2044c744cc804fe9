#!/usr/bin/env bash
# client azure on a synthetic Azure Functions trace (tools/gen_azure_trace.py): 300 functions
# replayed with 1 s intervals onto 200 resnet50_v2 copies against worker_dummy -n 2, bounded
# with -d. Also: a malformed trace row and a missing AZURE_TRACE_DIR end the client with a
# clear error and exit status 1.
set -u
source "$(dirname "$0")/lib.bash"

/usr/bin/python3 "$SRC/tools/gen_azure_trace.py" "$TMP/azure" --functions 300 --mean-rate 100 > "$TMP/gen.log" \
  || fail "trace generator failed"
/usr/bin/python3 "$SRC/tools/gen_azure_trace.py" "$TMP/bad" --functions 20 --bad-row 5 > /dev/null \
  || fail "trace generator failed"

# No AZURE_TRACE_DIR: refused before connecting (nothing listens on the port yet).
rc=0; env -u AZURE_TRACE_DIR timeout 10 "$BUILD/client" "127.0.0.1:$CONTROLLER_PORT" azure > "$TMP/noenv.log" 2>&1 || rc=$?
[ "$rc" -eq 1 ] || fail "client without AZURE_TRACE_DIR exited with $rc"
grep -q "AZURE_TRACE_DIR variable not set" "$TMP/noenv.log" || fail "no clear message without AZURE_TRACE_DIR"

start_worker -n 2
wait_for_line "$TMP/worker.log" "IO service thread listening on 0.0.0.0:$WORKER_PORT" 10
start_controller

# A malformed row: the error names the file and line (header is line 1, function row 5 is line 6).
rc=0; AZURE_TRACE_DIR="$TMP/bad" timeout 30 "$BUILD/client" "127.0.0.1:$CONTROLLER_PORT" azure 1 0 > "$TMP/bad.log" 2>&1 || rc=$?
[ "$rc" -eq 1 ] || fail "client on a malformed trace exited with $rc"
grep -q "invocations_per_function_md.anon.d01.csv:6: minute 8" "$TMP/bad.log" || fail "malformed row not reported with file:line"

export AZURE_TRACE_DIR="$TMP/azure"
run_client 60 client.log azure 1 0 8.0 1 1 1 0 -d 8
sleep 0.5
stop_process "$CONTROLLER_PID" controller
stop_process "$WORKER_PID" worker

grep -q "Loaded Azure trace $TMP/azure/invocations_per_function_md.anon.d01.csv: 300 functions" "$TMP/client.log" \
  || fail "client did not read the trace"
grep -q "Replaying 300 functions onto 200 models" "$TMP/client.log" || fail "client did not map functions onto 200 models"
grep -q "Stopping: duration of 8s reached" "$TMP/client.log" || fail "client did not stop after -d 8"

if grep -lE "AddressSanitizer|LeakSanitizer|runtime error:" "$TMP"/*.log; then fail "sanitizer report in a log"; fi

/usr/bin/python3 - "$TMP" <<'PY' || fail "telemetry checks failed"
import sys
d = sys.argv[1]
req = [l.split("\t") for l in open(d + "/clockwork_request_log.tsv").read().splitlines()[1:]]
assert len(req) > 100, "too few requests: %d" % len(req)
users, models = {r[3] for r in req}, {r[4] for r in req}
assert len(users) > 10, "requests from only %d functions (user ids)" % len(users)
assert len(models) > 10, "requests reached only %d models" % len(models)
ok = sum(1 for r in req if r[2] == "0")
assert ok > 0, "no request succeeded"
print("requests=%d ok=%d functions=%d models=%d" % (len(req), ok, len(users), len(models)))
PY
echo "PASS workload_azure"
