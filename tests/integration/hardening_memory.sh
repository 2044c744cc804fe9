#!/usr/bin/env bash
# Issue 11, finding 3: memory is bounded per peer. (1) A client that floods inference requests
# and never reads its socket: the controller stops reading it at CLOCKWORK_CLIENT_MAX_PENDING
# outstanding requests and drops it beyond CLOCKWORK_CLIENT_MAX_UNSENT_MB of unread responses,
# so its RSS stays far below what the flood would cost (over 500 MB unbounded). (2) Bodies
# larger than an inference can need are refused from their pre-header, not buffered. (3) A
# worker stalled for 3 s under load leaves no backlog: queued actions whose time has passed
# are failed, not kept. Every request of the ordinary client is still answered.
set -u
source "$(dirname "$0")/lib.bash"
# RSS bounds are about live memory: ASan's quarantine (256 MB by default) keeps freed blocks too
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=8"
HOSTILE="/usr/bin/python3 $(dirname "$0")/hostile.py"
export CLOCKWORK_CLIENT_MAX_PENDING=2000 CLOCKWORK_CLIENT_MAX_UNSENT_MB=8

rss_kb() { awk '/VmRSS/{print $2}' "/proc/$1/status"; }
# peak_rss PID WATCHED_PID: the highest RSS of PID while WATCHED_PID runs (at most 30 s)
peak_rss() {
  local peak=0 r
  for _ in $(seq 120); do
    r=$(rss_kb "$1"); [ "$r" -gt "$peak" ] && peak=$r
    kill -0 "$2" 2>/dev/null || break
    sleep 0.25
  done
  echo "$peak"
}

start_worker -n 1
wait_for_line "$TMP/worker.log" "IO service thread listening" 10
start_controller
run_client 5 client1.log simple # loads resnet50_v2 as model 0
grep -q "throughput=" "$TMP/client1.log" || fail "the controller did not serve"

# (1) the unread flood, with a 30 s SLO so that nothing it sent would time out by itself
base=$(rss_kb "$CONTROLLER_PID")
$HOSTILE flood "$CONTROLLER_PORT" 0 10000 8 > "$TMP/flood.txt" 2>&1 &
FLOOD=$!
peak=$(peak_rss "$CONTROLLER_PID" "$FLOOD")
wait $FLOOD
cat "$TMP/flood.txt"
echo "controller RSS: ${base} kB before the flood, ${peak} kB at its peak"
[ $(( peak - base )) -lt 102400 ] || fail "the unread flood grew the controller by $(( (peak - base) / 1024 )) MB"
grep -q "requests outstanding (the limit): not reading from it" "$TMP/controller.log" ||
  fail "no backpressure on the flooding client"

# (2) three connections announcing 200 MB bodies: refused at once
base=$(rss_kb "$CONTROLLER_PID")
BIG=()
for i in 1 2 3; do
  $HOSTILE bigbody "$CONTROLLER_PORT" 200 > "$TMP/bigbody$i.txt" 2>&1 &
  BIG+=($!)
done
wait "${BIG[@]}"
cat "$TMP/bigbody"*.txt
grep -q "closed=True" "$TMP/bigbody1.txt" || fail "a 200 MB body was not refused"
now=$(rss_kb "$CONTROLLER_PID")
[ $(( now - base )) -lt 51200 ] || fail "announced bodies were buffered: +$(( (now - base) / 1024 )) MB"
grep -q "body length exceeds what its message type can need" "$TMP/controller.log" || fail "no reason logged"

# (3) the worker stalls for 3 s under a load with inputs
"$BUILD/client" "127.0.0.1:$CONTROLLER_PORT" poisson-open-loop 2 400 -d 10 > "$TMP/client2.log" 2>&1 &
CLIENT=$!
PIDS+=($CLIENT)
wait_for_line "$TMP/client2.log" "throughput=" 20
base=$(rss_kb "$CONTROLLER_PID")
kill -STOP "$WORKER_PID"
(sleep 3; kill -CONT "$WORKER_PID") &
STALL=$!
peak=$(peak_rss "$CONTROLLER_PID" "$STALL")
wait $CLIENT
echo "controller RSS: ${base} kB before the stall, ${peak} kB at its peak"
[ $(( peak - base )) -lt 61440 ] || fail "a stalled worker grew the controller by $(( (peak - base) / 1024 )) MB"
grep -q "unanswered=0" "$TMP/client2.log" || fail "requests were left without a response"
tail -n 3 "$TMP/client2.log"
kill -0 "$CONTROLLER_PID" 2>/dev/null || fail "the controller died"
stop_process "$CONTROLLER_PID" controller
echo "PASS hardening_memory"
