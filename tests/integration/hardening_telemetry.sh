#!/usr/bin/env bash
# Issue 11, finding 6: telemetry survives and rotates. (1) The controller is killed (SIGKILL)
# in the middle of a load: every response the client received has its row in the request log
# (rows reach the file before their responses leave). (2) With CLOCKWORK_TELEMETRY_MAX_MB the
# logs rotate to .1 .. .N (CLOCKWORK_TELEMETRY_KEEP), each file with its header, and
# analyze_telemetry.py reads the whole set; SIGTERM flushes the rest. (3) As (1) with HTTP
# clients (the KServe v2 API): every answer received has its row.
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

# (3) the same over the HTTP API (issue 12): its replies leave once per loop turn, after one
# commit of the rows; a controller killed under HTTP load has a row for every answer received
command -v curl > /dev/null || { echo "SKIP (3): curl missing"; echo "PASS hardening_telemetry"; exit 0; }
kill -KILL "$WORKER_PID"
wait "$WORKER_PID" 2>/dev/null
mkdir -p "$TMP/zoo/tiny" "$TMP/http"
echo 'input_size = 96L; output_size = 40L; weights_size = 2000000L; batch_sizes = [1, 2, 4];
input_shape = [1, 24]; output_shape = [1, 10];' > "$TMP/zoo/tiny/model.info"
echo 'weights = 2000000L; b1 = 500000L; b2 = 700000L; b4 = 900000L;' > "$TMP/zoo/tiny/model.measurements"
export CLOCKWORK_MODEL_DIR="$TMP/zoo" CLOCKWORK_LOG_DIR="$TMP/http"
start_worker -n 2
wait_for_line "$TMP/worker.log" "IO service thread listening" 10
start_controller
wait_for_line "$TMP/controller.log" "HTTP KServe v2 API listening" 10
curl -s -o /dev/null -X POST "http://127.0.0.1:$HTTP_PORT/v2/repository/models/tiny/load"
for _ in $(seq 200); do
  [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$HTTP_PORT/v2/health/ready")" = 200 ] && break
  sleep 0.1
done
# 4 keep-alive connections posting JSON inference; each answer (200 or a 503 drop: both have
# rows) is counted once received
/usr/bin/python3 - "$HTTP_PORT" "$TMP/http_answered" > "$TMP/http_client.log" 2>&1 <<'PY' &
import http.client, os, sys, threading
port, path = int(sys.argv[1]), sys.argv[2]
fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND)
body = '{"inputs":[{"name":"INPUT0","datatype":"FP32","shape":[1,24],"data":[%s]}]}' % ",".join(["0.25"] * 24)
def run():
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        while True:
            c.request("POST", "/v2/models/tiny/infer", body, {"Content-Type": "application/json"})
            r = c.getresponse()
            r.read()
            if r.status in (200, 503):
                os.write(fd, b"1\n")
    except Exception as e:
        print("client stopped:", e)
threads = [threading.Thread(target=run) for _ in range(4)]
for t in threads: t.start()
for t in threads: t.join()
PY
HTTP_CLIENT=$!
PIDS+=($HTTP_CLIENT)
sleep 2.5 # killed at no particular moment of the once-a-second flush
kill -KILL "$CONTROLLER_PID"
wait "$HTTP_CLIENT" 2>/dev/null
answered=$(wc -l < "$TMP/http_answered" 2>/dev/null || echo 0)
rows=$(( $(wc -l < "$TMP/http/clockwork_request_log.tsv") - 1 ))
echo "HTTP answers received: $answered; rows in the killed controller's request log: $rows"
[ "$answered" -gt 100 ] || fail "the HTTP client got too few answers to tell ($answered)"
[ "$rows" -ge "$answered" ] || fail "$(( answered - rows )) answered HTTP requests are missing from the log"
echo "PASS hardening_telemetry"
