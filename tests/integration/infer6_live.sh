#!/usr/bin/env bash
# controller INFER6 live: worker_dummy -n 2 + controller INFER6 (exact wake-ups on a timerfd)
# + client slo-exp-1 with tight SLO steps on 127.0.0.1. Checks the controller runs INFER6, each
# request is answered exactly once, infers run within their windows (worker refusals, status 81,
# at most 5 %), most requests meet their deadline from 2.25x on, and a clean shutdown on SIGINT.
set -u
source "$(dirname "$0")/lib.bash"
export CONTROLLER_TYPE=INFER6 CLOCKWORK_DISABLE_INPUTS=1

start_worker -n 2
wait_for_line "$TMP/worker.log" "IO service thread listening on 0.0.0.0:$WORKER_PORT" 10
start_controller 0 2 5000000
run_client 40 client.log slo-exp-1 resnet50_v2 4 poisson 200 1.5 8 1.5 mul 3
sleep 0.5
stop_process "$CONTROLLER_PID" controller
stop_process "$WORKER_PID" worker

grep -q "INFER6 Scheduler using:" "$TMP/controller.log" || fail "controller did not run INFER6"
grep -q "no timerfd" "$TMP/controller.log" && fail "controller fell back to a 1 ms tick"
/usr/bin/python3 - "$TMP" <<'PY' || fail "telemetry checks failed"
import csv, sys
d = sys.argv[1]
rows = list(csv.DictReader(open(d + "/clockwork_request_log.tsv"), delimiter="\t"))
assert len(rows) > 1000, "too few requests: %d" % len(rows)
ids = [r["request_id"] for r in rows]
assert len(ids) == len(set(ids)), "a request was answered twice"
later = [r for r in rows if float(r["slo_factor"]) >= 2.25]
met = sum(int(r["deadline_met"]) for r in later)
assert met / len(later) > 0.9, "deadlines from 2.25x mostly missed: %d/%d" % (met, len(later))
acts = [a for a in csv.DictReader(open(d + "/clockwork_action_log.tsv"), delimiter="\t") if a["action_type"] == "2"]
refused = sum(a["status"] == "81" for a in acts)  # ACTION_EXEC_TOO_LATE
# a few miss their window when the shared host stalls the worker (35 of 2862 seen under ASan at
# load 5); windows the scheduler got wrong would have most of them refused
assert refused <= max(5, len(acts) // 20), "%d of %d infers refused by the worker" % (refused, len(acts))
print("requests %d, met from 2.25x %.1f%%, infers %d, refused %d" % (len(rows), 100.0 * met / len(later), len(acts), refused))
PY
if grep -lE "AddressSanitizer|LeakSanitizer|runtime error:" "$TMP"/*.log; then fail "sanitizer report in a log"; fi
echo "PASS: infer6_live"
