#!/usr/bin/env bash
# experiments/sec63_fig7/run.sh in its default cluster mode, over SSH, on eight hosts made by this
# test: network namespaces on a bridge (itself in a namespace of its own, so nothing touches this
# machine's network), each running its own sshd with a host key and an authorized key made here
# (sshd -f with the test's config; the ssh client through run.sh's SSH_CONFIG). A ninth namespace is
# the master node that runs run.sh, unchanged, with client/controller/workers/username set by its
# flags and environment, WORKER_BINARY=worker_dummy, two configurations of 1 s SLO steps.
#
# Every host sees the master's log directory LOG as a directory of its own (a bind mount private to
# that host's sshd), so the master has only what run.sh copied back.
#
# Phases: (1) a missing binary is reported before anything starts; (2) the full run, through
# run_in_background.sh started with `sh` as the guide does; (3) Ctrl-C (SIGINT to run.sh's process
# group) mid-run stops every remote process; (4) one worker host's link goes down mid-run: run.sh
# finishes, reports the lost worker and what it could not stop. Skips (77) only without network
# namespaces or sshd. About 2 minutes.
set -uo pipefail
BUILD="${1:?usage: fig7_ssh_cluster.sh BUILD_DIR SOURCE_DIR}"
SRC="${2:?usage: fig7_ssh_cluster.sh BUILD_DIR SOURCE_DIR}"
BUILD="$(cd "$BUILD" && pwd -P)"; SRC="$(cd "$SRC" && pwd -P)"
EXP="$SRC/experiments/sec63_fig7"
for b in worker_dummy controller client; do
  [ -x "$BUILD/$b" ] || { echo "SKIP: $BUILD/$b not built"; exit 77; }
done
for t in /usr/sbin/sshd ssh ssh-keygen; do
  command -v "$t" > /dev/null && continue
  echo "SKIP: $t missing (bash scripts/install-deps.sh installs openssh-server)"
  exit 77
done

ID=$$
NS_SW="cwsw$ID"; NS_M="cwm$ID"; NS=()
for i in 1 2 3 4 5 6 7 8; do NS[$i]="cwh${i}_$ID"; done
NET="10.$((100 + ID % 100)).$(((ID / 100) % 250))"   # any subnet works: the bridge lives in NS_SW
IP=(); for i in 1 2 3 4 5 6 7 8; do IP[$i]="$NET.$((10 + i))"; done
MASTER_IP="$NET.10"
TMP="$(mktemp -d /tmp/cw-fig7ssh.XXXXXX)"
# Paths with a space and a quote, to exercise run.sh's quoting on every hop.
LOG="$TMP/Bob's fig7 logs"
CWB="$TMP/clockwork build"
ZOO="$TMP/model zoo"
SAMPLER=""

cleanup() {
  local ns p
  [ -n "$SAMPLER" ] && kill "$SAMPLER" 2>/dev/null
  for ns in "$NS_M" "${NS[@]}"; do
    for p in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$p" 2>/dev/null; done
  done
  for ns in "$NS_M" "${NS[@]}" "$NS_SW"; do ip netns del "$ns" 2>/dev/null; done
  if [ "${KEEP_TMP:-0}" = 1 ]; then echo "kept $TMP"; else rm -rf "$TMP"; fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

fail() {
  echo "FAIL: $*"
  local f
  for f in "$TMP"/*.out "$LOG"/*/run.log; do [ -f "$f" ] && { echo "--- $f (tail)"; tail -n 25 "$f"; }; done
  exit 1
}

# ------------------------------------------------------------------ hosts
if ! ip netns add "$NS_SW" 2>/dev/null; then
  echo "SKIP: cannot create network namespaces here (needs root and iproute2)"
  exit 77
fi
ip -n "$NS_SW" link add br0 type bridge && ip -n "$NS_SW" link set br0 up || fail "cannot create the bridge"
add_host() { # NS ADDRESS PORTNAME
  ip netns add "$1" && ip -n "$NS_SW" link add "$3" type veth peer name eth0 netns "$1" \
    && ip -n "$NS_SW" link set "$3" master br0 up && ip -n "$1" link set lo up \
    && ip -n "$1" addr add "$2/24" dev eth0 && ip -n "$1" link set eth0 up || fail "cannot create host $1"
}
add_host "$NS_M" "$MASTER_IP" pm
for i in 1 2 3 4 5 6 7 8; do add_host "${NS[$i]}" "${IP[$i]}" "p$i"; done

mkdir -p "$TMP/ssh" "$LOG" && touch "$LOG/.master" || fail "mkdir"
ln -s "$BUILD" "$CWB" && ln -s "$SRC/modelzoo" "$ZOO" || fail "symlinks"
ssh-keygen -q -t ed25519 -N "" -C "fig7 test host" -f "$TMP/ssh/host_key" || fail "host key"
ssh-keygen -q -t ed25519 -N "" -C "fig7 test user" -f "$TMP/ssh/id_ed25519" || fail "user key"
cp "$TMP/ssh/id_ed25519.pub" "$TMP/ssh/authorized_keys"
for i in 1 2 3 4 5 6 7 8; do echo "${IP[$i]} $(cut -d' ' -f1,2 "$TMP/ssh/host_key.pub")"; done > "$TMP/ssh/known_hosts"
cat > "$TMP/ssh/sshd_config" <<EOF
Port 22
HostKey $TMP/ssh/host_key
AuthorizedKeysFile $TMP/ssh/authorized_keys
PermitRootLogin prohibit-password
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
PidFile none
PrintMotd no
PrintLastLog no
X11Forwarding no
AllowTcpForwarding no
MaxStartups 100
LogLevel INFO
EOF
cat > "$TMP/ssh/ssh_config" <<EOF
Host *
  IdentityFile $TMP/ssh/id_ed25519
  IdentitiesOnly yes
  UserKnownHostsFile $TMP/ssh/known_hosts
  GlobalKnownHostsFile /dev/null
  StrictHostKeyChecking yes
  LogLevel ERROR
  KexAlgorithms curve25519-sha256
EOF
[ -d /run/sshd ] || mkdir -m 0755 -p /run/sshd   # sshd's privilege separation directory
/usr/sbin/sshd -t -f "$TMP/ssh/sshd_config" || fail "sshd rejects the test's configuration"

# Host i's own {LOG}: its sshd (and so everything started over SSH there) sees $TMP/host$i at $LOG.
SSHD=()
for i in 1 2 3 4 5 6 7 8; do
  mkdir -p "$TMP/host$i"
  ip netns exec "${NS[$i]}" sh -c 'mount --bind "$1" "$2" && exec /usr/sbin/sshd -D -e -f "$3"' sh \
    "$TMP/host$i" "$LOG" "$TMP/ssh/sshd_config" > "$TMP/sshd$i.log" 2>&1 &
  SSHD[$i]=$!
  disown
done
for i in 1 2 3 4 5 6 7 8; do
  ok=0
  for _ in $(seq 100); do
    if ! kill -0 "${SSHD[$i]}" 2>/dev/null; then
      echo "SKIP: cannot run sshd in a network namespace here: $(cat "$TMP/sshd$i.log")"
      exit 77
    fi
    ip netns exec "$NS_M" ssh -n -F "$TMP/ssh/ssh_config" -o BatchMode=yes -o ConnectTimeout=5 "root@${IP[$i]}" \
      "test -d $(printf %q "$LOG") && test ! -e $(printf %q "$LOG/.master")" 2>/dev/null && { ok=1; break; }
    sleep 0.2
  done
  [ "$ok" = 1 ] || fail "no SSH to host $i (${IP[$i]}), or it sees the master's $LOG: $(cat "$TMP/sshd$i.log")"
done

CLIENT="${IP[1]}"; CONTROLLER="${IP[2]}"; WORKERS="${IP[3]} ${IP[4]} ${IP[5]} ${IP[6]} ${IP[7]} ${IP[8]}"
master() { # [VAR=VALUE...] COMMAND...: runs on the master node with the cluster's environment
  ip netns exec "$NS_M" env CLOCKWORK_BUILD="$CWB" CLOCKWORK_MODEL_DIR="$ZOO" WORKER_BINARY=worker_dummy \
    SSH_CONFIG="$TMP/ssh/ssh_config" TMPDIR="$TMP" "$@"
}
RUN_ARGS=(--period 1 --slo-end 3.375)
last_line_is_exiting() { [ "$(tail -n 1 "$1" | awk '{print $NF}')" = Exiting ]; }
comms_in() { # NS -> the names of the programs running in NS
  local p; p="$(ip netns pids "$1" | paste -sd,)"
  [ -z "$p" ] || ps -o comm= -p "$p" | sort | paste -sd' '
}
# no_leftovers: every host runs its sshd listener and nothing else; the master runs nothing.
no_leftovers() {
  local i p extra
  for _ in $(seq 50); do
    extra=""
    for i in 1 2 3 4 5 6 7 8; do
      for p in $(ip netns pids "${NS[$i]}"); do
        [ "$p" = "${SSHD[$i]}" ] || extra+=" host$i:$p($(ps -o comm= -p "$p"))"
      done
    done
    for p in $(ip netns pids "$NS_M"); do extra+=" master:$p($(ps -o comm= -p "$p"))"; done
    [ -z "$extra" ] && return 0
    sleep 0.2
  done
  echo "left running:$extra"
  return 1
}

# ------------------------------------------------------------------ (1) a missing binary
master WORKER_BINARY=no_such_worker timeout -k 5 60 bash "$EXP/run.sh" --logdir "$LOG/nobin" \
  --client "$CLIENT" --controller "$CONTROLLER" --workers "$WORKERS" --username root "${RUN_ARGS[@]}" \
  > "$TMP/nobin.out" 2>&1
rc=$?
[ "$rc" = 1 ] || fail "missing worker binary: run.sh exited with $rc, expected 1"
grep -q "$CWB/no_such_worker not found on ${IP[3]}" "$LOG/nobin/run.log" || fail "missing binary: no clear message"
grep -q "nothing was started" "$LOG/nobin/run.log" || fail "missing binary: does not say nothing was started"
last_line_is_exiting "$LOG/nobin/run.log" || fail "missing binary: run.log does not end with Exiting"
no_leftovers || fail "missing binary: processes left"
echo "ok 1: a missing binary is reported on the host that lacks it"

# ------------------------------------------------------------------ (2) the full run
# Watch each host while it runs: which programs run there, and whether it listens on the worker port.
sample() {
  local i
  while :; do
    for i in 1 2 3 4 5 6 7 8; do
      echo "host$i $(comms_in "${NS[$i]}")"
      ip netns exec "${NS[$i]}" ss -ltnH "sport = :12345" 2>/dev/null | awk -v h="$i" '{print "listen" h, $4}'
    done
    sleep 0.3
  done
}
sample > "$TMP/samples" 2>/dev/null &
SAMPLER=$!
master sh "$EXP/run_in_background.sh" --logdir "$LOG/full" --client "$CLIENT" --controller "$CONTROLLER" \
  --workers "$WORKERS" --username root "${RUN_ARGS[@]}" --configs "12:200 48:400" > "$TMP/bg.out" 2>&1 \
  || fail "run_in_background.sh failed: $(cat "$TMP/bg.out")"
for _ in $(seq 1500); do
  [ -f "$LOG/full/run.log" ] && last_line_is_exiting "$LOG/full/run.log" && break
  sleep 0.1
done
kill "$SAMPLER"; SAMPLER=""
last_line_is_exiting "$LOG/full/run.log" || fail "run.log does not end with Exiting after 150 s"
grep -q "All configurations done (0 failed)" "$LOG/full/run.log" || fail "the run reports failures"
[ -s "$LOG/full/run.sh.out" ] || fail "run_in_background.sh left no run.sh.out"
for i in 3 4 5 6 7 8; do
  grep -q "^host$i .*worker_dummy" "$TMP/samples" || fail "no worker_dummy seen running on host $i"
  grep -q "^listen$i 0.0.0.0:12345" "$TMP/samples" || fail "host $i never listened on port 12345"
  ! grep -q "^host$i .*\(controller\|client\)" "$TMP/samples" || fail "host $i ran the controller or client"
done
grep -q "^host2 .*controller" "$TMP/samples" || fail "no controller seen on host 2"
grep -q "^host1 .*timeout" "$TMP/samples" || fail "no client seen on host 1"
! grep -q "^host[12] .*worker_dummy" "$TMP/samples" || fail "a worker ran on the client or controller host"
for run in N12_R200 N48_R400; do
  M="$LOG/full/$run"
  for f in clockwork_request_log.tsv clockwork_action_log.tsv controller.log; do
    [ -s "$M/$f" ] || fail "$run/$f did not come back to the master"
    cmp -s "$M/$f" "$TMP/host2/full/$run/$f" || fail "$run/$f on the master differs from the controller host's"
  done
  [ -s "$M/client.log" ] && cmp -s "$M/client.log" "$TMP/host1/full/$run/client.log" || fail "$run/client.log"
  [ "$(ls "$M" | grep -c '^worker_')" = 6 ] || fail "$run: expected 6 worker logs on the master: $(ls "$M")"
  for i in 3 4 5 6 7 8; do
    w="worker_${IP[$i]}_12345.log"
    [ "$(ls "$TMP/host$i/full/$run")" = "$w" ] || fail "$run: host $i holds $(ls "$TMP/host$i/full/$run")"
    cmp -s "$M/$w" "$TMP/host$i/full/$run/$w" || fail "$run/$w did not come back from host $i"
    grep -q "listening on 0.0.0.0:12345" "$M/$w" || fail "$run: worker on host $i did not listen"
    grep -q "Controller connected from $CONTROLLER:" "$M/$w" || fail "$run: the controller never reached host $i"
    grep -q "Connecting to worker ${IP[$i]}:12345" "$M/controller.log" || fail "$run: controller not told of host $i"
  done
  grep -q "Created 6 GPUs on 6 Workers" "$M/controller.log" || fail "$run: controller did not start on 6 workers"
  grep -q "Found [0-9]* models in $ZOO" "$M/client.log" || fail "$run: CLOCKWORK_MODEL_DIR did not reach the client"
  grep -q "Summary: sent=.* unanswered=0" "$M/client.log" || fail "$run: the client did not finish cleanly"
  /usr/bin/python3 "$(dirname "$0")/fig7_telemetry.py" "$M/clockwork_request_log.tsv" 200 1 1.5 2.25 3.375 \
    || fail "$run: telemetry"
done
no_leftovers || fail "processes left after the run"
mkdir -p "$TMP/plot"
if /usr/bin/python3 -c "import matplotlib" 2>/dev/null; then nop=""; else nop="--no-plot"; fi
(cd "$TMP/plot" && /usr/bin/python3 "$EXP/plotter.py" -l "$LOG/full" $nop) > "$TMP/plot.out" 2>&1 \
  || fail "plotter failed on what came back: $(cat "$TMP/plot.out")"
if [ -z "$nop" ]; then
  head -c 5 "$TMP/plot/graphs/fig7_dist=poisson.pdf" | grep -q "%PDF-" || fail "the plotter made no PDF"
else
  echo "note: no matplotlib, plotted tables only"
fi
[ "$(tail -n +2 "$TMP/plot/graphs/fig7_by_slo.tsv" | wc -l)" = 8 ] || fail "expected 8 rows in fig7_by_slo.tsv"
echo "ok 2: two configurations on 8 hosts over SSH, telemetry copied back and plotted"

# ------------------------------------------------------------------ (3) Ctrl-C mid-run
set -m   # run.sh gets a process group of its own, as a foreground job does in a terminal
master bash "$EXP/run.sh" --logdir "$LOG/int" --client "$CLIENT" --controller "$CONTROLLER" --workers "$WORKERS" \
  --username root "${RUN_ARGS[@]}" --configs "12:200" > "$TMP/int.out" 2>&1 &
RUN_PID=$!
set +m
for _ in $(seq 600); do grep -q "Running the client" "$LOG/int/run.log" 2>/dev/null && break; sleep 0.1; done
grep -q "Running the client" "$LOG/int/run.log" || fail "Ctrl-C phase: the client never started"
kill -INT -- "-$RUN_PID"
for _ in $(seq 600); do kill -0 "$RUN_PID" 2>/dev/null || break; sleep 0.1; done
kill -0 "$RUN_PID" 2>/dev/null && fail "run.sh still running 60 s after Ctrl-C"
wait "$RUN_PID"; rc=$?
[ "$rc" = 130 ] || fail "run.sh exited with $rc after Ctrl-C, expected 130"
grep -q "Interrupted" "$LOG/int/run.log" || fail "run.log does not record the interruption"
last_line_is_exiting "$LOG/int/run.log" || fail "Ctrl-C: run.log does not end with Exiting"
no_leftovers || fail "processes left after Ctrl-C"
[ -s "$LOG/int/N12_R200/controller.log" ] || fail "Ctrl-C: the controller's log was not copied back"
[ "$(ls "$LOG/int/N12_R200" | grep -c '^worker_')" = 6 ] || fail "Ctrl-C: the workers' logs were not copied back"
echo "ok 3: Ctrl-C stops every remote process and copies back what there is"

# ------------------------------------------------------------------ (4) a worker host cut off mid-run
CUT=5
master CLIENT_HOST="$CLIENT" CONTROLLER_HOST="$CONTROLLER" WORKER_HOSTS="$WORKERS" SSH_USER=root \
  CLOCKWORK_WORKER_TIMEOUT_MS=2000 SSH_OPTS="-o ConnectTimeout=4" \
  timeout -k 10 170 bash "$EXP/run.sh" --logdir "$LOG/cut" --period 2 --slo-end 3.375 --configs "12:200" \
  > "$TMP/cut.out" 2>&1 &
RUN_PID=$!
for _ in $(seq 600); do grep -q "throughput=" "$TMP/host1/cut/N12_R200/client.log" 2>/dev/null && break; sleep 0.1; done
grep -q "throughput=" "$TMP/host1/cut/N12_R200/client.log" || fail "cut phase: the client never ran"
ip -n "${NS[$CUT]}" link set eth0 down   # no FIN, no RST: the host just goes silent
wait "$RUN_PID"; rc=$?
[ "$rc" = 124 ] || [ "$rc" = 137 ] && fail "run.sh hung after a worker host was cut off"
[ "$rc" = 1 ] || fail "cut phase: run.sh exited with $rc, expected 1"
R="$LOG/cut/run.log"
last_line_is_exiting "$R" || fail "cut phase: run.log does not end with Exiting"
grep -q "the controller lost worker(s) during this run: Worker 2 (${IP[$CUT]}:12345) lost" "$R" \
  || fail "run.log does not report the lost worker"
grep -q "cannot reach ${IP[$CUT]} over SSH" "$R" || fail "run.log does not name the unreachable host"
wpid=$(grep -o "Started worker2 on ${IP[$CUT]} (pid [0-9]*" "$R" | grep -o '[0-9]*$')
grep -q "may still be running.*${IP[$CUT]}: worker2 (pid $wpid)" "$R" \
  || fail "run.log does not say what is left running"
[ "$(ps -o comm= -p "$wpid")" = worker_dummy ] && ip netns pids "${NS[$CUT]}" | grep -qx "$wpid" \
  || fail "the reported pid $wpid is not the worker on the cut-off host: $(ps -o pid=,comm= -p "$wpid");" \
          "there: $(comms_in "${NS[$CUT]}")"
M="$LOG/cut/N12_R200"
grep -q "Summary: sent=.* unanswered=0" "$M/client.log" || fail "cut phase: requests left unanswered"
[ -s "$M/clockwork_request_log.tsv" ] || fail "cut phase: telemetry did not come back"
[ "$(ls "$M" | grep -c '^worker_')" = 5 ] || fail "cut phase: expected the 5 reachable workers' logs: $(ls "$M")"
kill -KILL "$wpid"
no_leftovers || fail "cut phase: processes left on the reachable hosts"
echo "ok 4: a worker host cut off mid-run is reported; run.sh finishes (exit 1)"
echo "PASS fig7_ssh_cluster"
