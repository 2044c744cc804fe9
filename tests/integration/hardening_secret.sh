#!/usr/bin/env bash
# Issue 11: the optional shared secret (CLOCKWORK_SECRET_FILE). With the same secret on the
# worker, the controller and the client, everything is served as usual. A peer without the
# secret, or with another one, gets nothing: a stranger's actions on the worker, a client
# without the secret, a client and a controller with a wrong one are each refused with a
# reason that names the secret, and the authenticated load goes on.
set -u
source "$(dirname "$0")/lib.bash"
# no HTTP front end: a second controller listens for clients on CONTROLLER_PORT + 2 (HTTP_PORT)
export CLOCKWORK_HTTP_PORT=0 CLOCKWORK_METRICS_PORT=0
HOSTILE="/usr/bin/python3 $(dirname "$0")/hostile.py"
printf 'correct horse battery staple 0123456789\n' > "$TMP/secret"
printf 'another secret of enough length\n' > "$TMP/wrong"
chmod 600 "$TMP/secret" "$TMP/wrong"
export CLOCKWORK_SECRET_FILE="$TMP/secret"

start_worker -n 1
wait_for_line "$TMP/worker.log" "controllers must authenticate" 10
start_controller
wait_for_line "$TMP/controller.log" "clients and workers must authenticate" 10
"$BUILD/client" "127.0.0.1:$CONTROLLER_PORT" poisson-open-loop 1 100 -d 12 > "$TMP/client.log" 2>&1 &
CLIENT=$!
PIDS+=($CLIENT)
wait_for_line "$TMP/client.log" "throughput=" 20

$HOSTILE stranger "$WORKER_PORT" > "$TMP/stranger.txt" 2>&1
cat "$TMP/stranger.txt"
grep -q "executed=0 closed_silently=0 challenged_and_closed=10" "$TMP/stranger.txt" ||
  fail "a peer without the secret got an answer from the worker"
grep -q "sent a message without authenticating" "$TMP/worker.log" || fail "the worker logged no reason"

CLOCKWORK_SECRET_FILE= run_client 3 nosecret.log simple
grep -q "the peer asks for authentication: set CLOCKWORK_SECRET_FILE here too" "$TMP/nosecret.log" ||
  fail "a client without the secret was not told why it was refused"
CLOCKWORK_SECRET_FILE="$TMP/wrong" run_client 3 wrong.log simple
grep -q "the peer closed the connection during authentication (does it hold the same secret?)" "$TMP/wrong.log" ||
  fail "a client with a wrong secret was not told why it was refused"
CLOCKWORK_SECRET_FILE="$TMP/wrong" CLOCKWORK_CONTROLLER_PORT=$(( CONTROLLER_PORT + 2 )) \
  "$BUILD/controller" INFER5 "127.0.0.1:$WORKER_PORT" > "$TMP/controller2.log" 2>&1 &
C2=$!
PIDS+=($C2)
wait_for_line "$TMP/controller2.log" "failed (the peer closed the connection during authentication" 10
grep -q "authentication failed: the peer does not hold this secret" "$TMP/worker.log" ||
  fail "the worker logged no reason for the wrong secret"
kill -KILL $C2

wait "$CLIENT"
grep -q "unanswered=0" "$TMP/client.log" || fail "requests were left without a response"
/usr/bin/python3 "$SRC/tools/analyze_telemetry.py" "$TMP" | head -n 1
/usr/bin/python3 - "$TMP" <<'PY' || fail "the authenticated load was not served"
import sys
rows = [l.split("\t") for l in open(sys.argv[1] + "/clockwork_request_log.tsv").read().splitlines()[1:]]
ok = sum(1 for r in rows if r[2] == "0")
assert len(rows) > 500 and ok > 0.9 * len(rows), (len(rows), ok)
PY
stop_process "$CONTROLLER_PID" controller
echo "PASS hardening_secret"
