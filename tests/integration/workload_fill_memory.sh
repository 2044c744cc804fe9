#!/usr/bin/env bash
# client fill_memory against worker_dummy with a tight weights cache (20 pages of 16 MiB: two
# resnet50_v2 copies fit): 411 copies with open loops force the controller to page weights in
# and out, so the action log shows loads (action_type 1) and evictions (3) besides inferences.
set -u
source "$(dirname "$0")/lib.bash"

sed 's/^\([[:space:]]*weights_cache_size = \).*/\1335544320L;/' "$SRC/config/default.cfg" > "$TMP/small.cfg"
grep -q "weights_cache_size = 335544320L;" "$TMP/small.cfg" || fail "could not write the small worker config"
export CLOCKWORK_CONFIG_FILE="$TMP/small.cfg"

start_worker -n 1
wait_for_line "$TMP/worker.log" "IO service thread listening on 0.0.0.0:$WORKER_PORT" 10
start_controller
run_client 40 client.log fill_memory -d 6
sleep 0.5
stop_process "$CONTROLLER_PID" controller
stop_process "$WORKER_PID" worker

grep -q "Running workload \`fill_memory\`" "$TMP/client.log" || fail "client did not start fill_memory"
grep -q "Loaded 411 copies of resnet50_v2" "$TMP/client.log" || fail "client did not load 411 copies"
grep -q "Stopping: duration of 6s reached" "$TMP/client.log" || fail "client did not stop after -d 6"
grep -q "^Summary: sent=" "$TMP/client.log" || fail "client printed no summary"

if grep -lE "AddressSanitizer|LeakSanitizer|runtime error:" "$TMP"/*.log; then fail "sanitizer report in a log"; fi

/usr/bin/python3 - "$TMP" <<'PY' || fail "telemetry checks failed"
import sys
d = sys.argv[1]
act = [l.split("\t") for l in open(d + "/clockwork_action_log.tsv").read().splitlines()[1:]]
req = [l.split("\t") for l in open(d + "/clockwork_request_log.tsv").read().splitlines()[1:]]
ok = lambda kind: [a for a in act if a[2] == kind and a[3] == "0"]
loads, infers, evicts = ok("1"), ok("2"), ok("3")
assert len(loads) >= 10, "too few loads: %d" % len(loads)
assert len(evicts) >= 5, "too few evictions: %d" % len(evicts)
assert infers, "no successful inference"
models = {r[4] for r in req}
assert len(models) > 50, "requests reached only %d models" % len(models)
print("loads=%d evictions=%d infers=%d requests=%d models=%d" % (len(loads), len(evicts), len(infers), len(req), len(models)))
PY
echo "PASS workload_fill_memory"
