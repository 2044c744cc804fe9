#!/usr/bin/env bash
# Multi-host run in network namespaces made by this test: a controller host and two worker
# hosts joined by veth links. One worker host is then cut off (its link goes down: no FIN, no
# RST). The controller must declare that worker lost after CLOCKWORK_WORKER_TIMEOUT_MS, answer
# every outstanding request, and keep serving on the other worker. Skips (77) without netns.
set -u
source "$(dirname "$0")/lib.bash"
N=$(( $$ % 10000 ))
NSC="cwc$N"; NS1="cww1$N"; NS2="cww2$N"
if ! ip netns add "$NSC" 2>/dev/null; then
  echo "SKIP: cannot create network namespaces here (needs root and iproute2)"
  exit 77
fi
ip netns add "$NS1"; ip netns add "$NS2"
netns_cleanup() {
  cleanup
  ip netns del "$NSC" 2>/dev/null; ip netns del "$NS1" 2>/dev/null; ip netns del "$NS2" 2>/dev/null
}
trap netns_cleanup EXIT

link() { # IDX NS: veth pair between the controller host and worker host IDX
  ip link add "vc$1$N" type veth peer name "vw$1$N"
  ip link set "vc$1$N" netns "$NSC"; ip link set "vw$1$N" netns "$2"
  ip -n "$NSC" addr add "10.213.$1.1/24" dev "vc$1$N"; ip -n "$2" addr add "10.213.$1.2/24" dev "vw$1$N"
  ip -n "$NSC" link set "vc$1$N" up; ip -n "$2" link set "vw$1$N" up; ip -n "$2" link set lo up
}
ip -n "$NSC" link set lo up
link 1 "$NS1"
link 2 "$NS2"

ip netns exec "$NS1" "$BUILD/worker_dummy" -n 1 -p 12345 > "$TMP/worker1.log" 2>&1 &
PIDS+=($!)
ip netns exec "$NS2" "$BUILD/worker_dummy" -n 1 -p 12345 > "$TMP/worker2.log" 2>&1 &
PIDS+=($!)
CLOCKWORK_WORKER_TIMEOUT_MS=2000 ip netns exec "$NSC" "$BUILD/controller" INFER5 10.213.1.2:12345,10.213.2.2:12345 \
  > "$TMP/controller.log" 2>&1 &
CONTROLLER_PID=$!
PIDS+=($!)
ip netns exec "$NSC" "$BUILD/client" "127.0.0.1:$CONTROLLER_PORT" poisson-open-loop 4 200 -d 16 > "$TMP/client.log" 2>&1 &
CLIENT_PID=$!
PIDS+=($!)
wait_for_line "$TMP/client.log" "throughput=" 30
sleep 3
ip -n "$NS1" link set "vw1$N" down   # cut worker 1 off without closing anything
CUT=$(date +%s%N)
wait $CLIENT_PID

grep -q "Worker 0 (10.213.1.2:12345) lost: no response" "$TMP/controller.log" || fail "controller did not declare the cut-off worker lost"
kill -0 "$CONTROLLER_PID" 2>/dev/null || fail "controller died"
grep -q "unanswered=0" "$TMP/client.log" || fail "requests were left without a response"
/usr/bin/python3 - "$TMP" "$CUT" <<'PY' || fail "no service on the remaining worker after the cut"
import sys
d, cut = sys.argv[1], int(sys.argv[2])
rows = [l.split("\t") for l in open(d + "/clockwork_action_log.tsv").read().splitlines()[1:]]
late = [r for r in rows if int(r[0]) > cut + 4_000_000_000 and r[2] == "2" and r[3] == "0"]
assert late, "no successful infer more than 4 s after the cut"
assert all(r[4] == "1" for r in late), "infers on the cut-off worker after it was lost"
print("successful infers on worker 1 after the cut:", len(late))
PY
stop_process "$CONTROLLER_PID" controller
echo "PASS netns_partition"
