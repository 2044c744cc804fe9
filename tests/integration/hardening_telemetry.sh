#!/usr/bin/env bash
# Issue 11, finding 6: telemetry survives and rotates. (1) The controller is killed (SIGKILL)
# in the middle of a load: every response the client received has its row in the request log
# (rows reach the file before their responses leave). (2) With CLOCKWORK_TELEMETRY_MAX_MB the
# logs rotate to .1 .. .N (CLOCKWORK_TELEMETRY_KEEP), each file with its header, and
# analyze_telemetry.py reads the whole set; SIGTERM flushes the rest.
set -u
source "$(dirname "$0")/lib.bash"

start_worker -n 1
wait_for_line "$TMP/worker.log" "IO service thread listening" 10
start_controller
CLOCKWORK_CLIENT_LOG="$TMP/answered.tsv" "$BUILD/client" "127.0.0.1:$CONTROLLER_PORT" poisson-open-loop 2 300 -d 30 \
  > "$TMP/client.log" 2>&1 &
CLIENT=$!
PIDS+=($CLIENT)
wait_for_line "$TMP/client.log" "throughput=" 20
sleep 2.5 # killed at no particular moment of the once-a-second flush
kill -KILL "$CONTROLLER_PID"
wait "$CLIENT" 2>/dev/null
answered=$(( $(wc -l < "$TMP/answered.tsv") - 1 ))
rows=$(( $(wc -l < "$TMP/clockwork_request_log.tsv") - 1 ))
echo "responses received by the client: $answered; rows in the killed controller's request log: $rows"
[ "$answered" -gt 100 ] || fail "the client got too few responses to tell ($answered)"
[ "$rows" -ge "$answered" ] || fail "$(( answered - rows )) answered requests are missing from the log"

# (2) rotation: ~25 KB per file, 3 kept
mkdir "$TMP/rot"
CLOCKWORK_LOG_DIR="$TMP/rot" CLOCKWORK_TELEMETRY_MAX_MB=0.025 CLOCKWORK_TELEMETRY_KEEP=3 \
  "$BUILD/controller" INFER5 "127.0.0.1:$WORKER_PORT" > "$TMP/controller2.log" 2>&1 &
C2=$!
PIDS+=($C2)
run_client 10 client2.log poisson-open-loop 2 300 # > 100 KB of rows also on a slow (sanitizer) start
kill -TERM "$C2"
for _ in $(seq 100); do kill -0 "$C2" 2>/dev/null || break; sleep 0.1; done
kill -0 "$C2" 2>/dev/null && fail "the controller did not stop on SIGTERM"
ls -l "$TMP/rot"
for f in clockwork_request_log.tsv clockwork_action_log.tsv; do
  for n in "" .1 .2 .3; do
    [ -f "$TMP/rot/$f$n" ] || fail "$f$n is missing"
    head -n 1 "$TMP/rot/$f$n" | grep -q "^t	" || fail "$f$n does not start with its header"
  done
  [ -e "$TMP/rot/$f.4" ] && fail "more than CLOCKWORK_TELEMETRY_KEEP rotated files of $f"
  size=$(stat -c %s "$TMP/rot/$f.1")
  [ "$size" -lt 40000 ] || fail "$f.1 has $size bytes for a 25 KB limit"
done
grep -q "Telemetry files rotate beyond 0.02 MB, keeping 3" "$TMP/controller2.log" || fail "rotation not announced"
in_files=$(cat "$TMP/rot"/clockwork_request_log.tsv* | grep -vc "^t	")
summary=$(/usr/bin/python3 "$SRC/tools/analyze_telemetry.py" "$TMP/rot" --json)
echo "$summary"
echo "$summary" | /usr/bin/python3 -c "import json,sys; n=json.load(sys.stdin)['requests']; assert n == $in_files, n" ||
  fail "analyze_telemetry.py did not read the rotated set ($in_files rows in the files)"
echo "PASS hardening_telemetry"
