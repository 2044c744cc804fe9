#!/usr/bin/env bash
# clockwork-sim as users run it: -h, the Figure 7 command line (short SLO periods), exact TSV
# headers, byte-identical logs for the same seed, CLOCKWORK_LOG_DIR as the default log
# directory, analyze_telemetry.py --by-slo on its logs, INFER6, --calibrate on a run's logs and
# --overheads with the file it saves, and clear errors for bad arguments.
set -u
source "$(dirname "$0")/lib.bash"
SIM="$BUILD/clockwork-sim"
ARGS=(--gpus 6 --seed 1 INFER5 0 6 5000000 -- slo-exp-1 resnet50_v2 12 poisson 600 1 100 1.5 mul 2)

"$SIM" -h > "$TMP/help.log" 2>&1 || fail "-h failed"
grep -q "generate_inputs max_gpus schedule_ahead" "$TMP/help.log" || fail "-h lacks the controller options"
grep -q "\-\-ctl-worker" "$TMP/help.log" || fail "-h lacks the overhead options"

mkdir -p "$TMP/a" "$TMP/b"
"$SIM" --log-dir "$TMP/a" "${ARGS[@]}" > "$TMP/sim_a.log" 2> "$TMP/sim_a.err" || fail "simulation failed"
CLOCKWORK_LOG_DIR="$TMP/b" "$SIM" "${ARGS[@]}" > "$TMP/sim_b.log" 2> "$TMP/sim_b.err" || fail "second simulation failed"
grep -q "^\[sim\] t=10s" "$TMP/sim_a.err" || fail "no progress line"
grep -q "Logging requests to $TMP/b/clockwork_request_log.tsv" "$TMP/sim_b.log" || fail "CLOCKWORK_LOG_DIR not used"
for f in clockwork_request_log.tsv clockwork_action_log.tsv; do
  cmp -s "$TMP/a/$f" "$TMP/b/$f" || fail "$f differs between two runs with the same seed"
done
head -1 "$TMP/a/clockwork_request_log.tsv" | grep -qx "$(printf 't\trequest_id\tresult\tuser_id\tmodel_id\tslo_factor\tlatency\tdeadline\tdeadline_met\tarrival_count\tdeparture_count\tis_coldstart')" \
  || fail "request log header"
head -1 "$TMP/a/clockwork_action_log.tsv" | grep -q "^t	action_id	action_type	status	worker_id	gpu_id" || fail "action log header"

/usr/bin/python3 "$SRC/tools/analyze_telemetry.py" "$TMP/a" --by-slo > "$TMP/analysis.log" || fail "analysis failed"
grep -q "^slo_factor=86.4976 " "$TMP/analysis.log" || fail "no last SLO step in the analysis"

mkdir -p "$TMP/c"
"$SIM" -q --log-dir "$TMP/c" --gpus 6 --seed 1 INFER6 0 6 5000000 -- slo-exp-1 resnet50_v2 12 poisson 600 1 100 1.5 mul 2 \
  > "$TMP/sim_c.log" 2>&1 || fail "INFER6 simulation failed"
grep -q "met their deadline" "$TMP/sim_c.log" || fail "no INFER6 summary"
"$SIM" --calibrate "$TMP/c" > "$TMP/cal.log" 2> "$TMP/cal.err" || fail "--calibrate failed"
grep -q "^ctl-worker " "$TMP/cal.log" || fail "--calibrate printed no ctl-worker overhead"
[ -f "$TMP/c/sim_overheads.txt" ] || fail "--calibrate saved no $TMP/c/sim_overheads.txt"
"$SIM" -q --overheads "$TMP/c/sim_overheads.txt" -d 2 --log-dir "$TMP/c" --gpus 6 INFER6 -- simple > "$TMP/sim_d.log" 2>&1 \
  || fail "--overheads with the calibrated file failed"
"$SIM" --calibrate "$TMP/nothing-here" > "$TMP/cal_bad.log" 2>&1 && fail "--calibrate without logs succeeded"
grep -q "cannot read $TMP/nothing-here/clockwork_action_log.tsv" "$TMP/cal_bad.log" || fail "no message for missing logs"

"$SIM" INFER5 -- no-such-workload > "$TMP/bad.log" 2>&1 && fail "unknown workload accepted"
grep -q "unknown workload" "$TMP/bad.log" || fail "no message for an unknown workload"
"$SIM" INFER9 -- simple > "$TMP/bad2.log" 2>&1 && fail "unknown controller type accepted"
grep -q "unknown controller type" "$TMP/bad2.log" || fail "no message for an unknown type"
for t in ECHO DIRECT STRESS; do # the live controller's test controllers: nothing to simulate
  "$SIM" "$t" -- simple > "$TMP/bad3.log" 2>&1 && fail "the simulator accepted the test controller $t"
  grep -q "$t is a test controller of the live controller, with nothing to simulate" "$TMP/bad3.log" ||
    fail "no clear message for the test controller $t"
done
echo "PASS: sim_cli ($(sha256sum < "$TMP/a/clockwork_request_log.tsv" | cut -c1-16))"
