#!/usr/bin/env bash
# worker_dummy -n 2 + controller INFER5 + client simple on 127.0.0.1: checks the processes'
# output and the telemetry TSVs (exact headers, one row per request, successes dominate,
# action rows carry worker timings), and clean shutdown on SIGINT.
set -u
source "$(dirname "$0")/lib.bash"

start_worker -n 2
wait_for_line "$TMP/worker.log" "IO service thread listening on 0.0.0.0:$WORKER_PORT" 10
start_controller
run_client 8 client.log simple
sleep 0.5
stop_process "$CONTROLLER_PID" controller
stop_process "$WORKER_PID" worker

grep -q "Connecting to clockwork @ 127.0.0.1:$CONTROLLER_PORT" "$TMP/client.log" || fail "client did not connect"
grep -q "throughput=" "$TMP/client.log" || fail "client printed no throughput lines"
grep -q "Received A0:GetWorkerState" "$TMP/worker.log" || fail "worker did not log GetWorkerState"
grep -q "Clock Skew=" "$TMP/worker.log" || fail "worker printed no status line"
grep -q "Logging requests to $TMP/clockwork_request_log.tsv" "$TMP/controller.log" || fail "controller did not announce its logs"
grep -q "(Startup-end) Transitioning to scheduler" "$TMP/controller.log" || fail "controller never left start-up"
grep -q "W0-GPU[01] Infer min=" "$TMP/controller.log" || fail "controller printed no per-GPU infer status"
grep -q "Client throughput=" "$TMP/controller.log" || fail "controller printed no client status"

/usr/bin/python3 - "$TMP" <<'PY' || fail "telemetry checks failed"
import sys
d = sys.argv[1]
req = open(d + "/clockwork_request_log.tsv").read().splitlines()
act = open(d + "/clockwork_action_log.tsv").read().splitlines()
assert req[0] == "t\trequest_id\tresult\tuser_id\tmodel_id\tslo_factor\tlatency\tdeadline\tdeadline_met\tarrival_count\tdeparture_count\tis_coldstart", req[0]
assert act[0] == "\t".join("t action_id action_type status worker_id gpu_id model_id batch_size expected_exec_duration worker_exec_duration expected_exec_complete worker_exec_complete expected_gpu_clock worker_gpu_clock_before worker_gpu_clock worker_copy_output_complete worker_action_received worker_result_sent controller_result_enqueue controller_action_duration goodput requests_queued copies_loaded".split()), act[0]
rows = [r.split("\t") for r in req[1:]]
assert len(rows) > 200, "too few requests: %d" % len(rows)
assert all(len(r) == 12 for r in rows), "malformed request row"
ids = [int(r[1]) for r in rows]
assert len(ids) == len(set(ids)), "a request was answered twice"
ok = sum(1 for r in rows if r[2] == "0")
assert ok / len(rows) > 0.9, "successes do not dominate: %d/%d" % (ok, len(rows))
met = sum(1 for r in rows if r[8] == "1")
assert met / len(rows) > 0.9, "deadlines mostly missed: %d/%d" % (met, len(rows))
arows = [a.split("\t") for a in act[1:]]
assert all(len(a) == 23 for a in arows), "malformed action row"
infers = [a for a in arows if a[2] == "2" and a[3] == "0"]
loads = [a for a in arows if a[2] == "1" and a[3] == "0"]
assert loads, "no successful load action"
assert len(infers) > 100, "too few successful infers: %d" % len(infers)
for a in infers:
    assert int(a[9]) > 0, "infer without worker exec duration"
    assert int(a[11]) > 0 and int(a[16]) > 0 and int(a[17]) > 0, "infer without worker timestamps"
    assert int(a[7]) >= 1
print("requests=%d ok=%d met=%d infers=%d loads=%d" % (len(rows), ok, met, len(infers), len(loads)))
PY
echo "PASS cluster_simple"
