#!/usr/bin/env bash
################################################################################
# Section 6.3 "How Low Can Clockwork Go?" (slo-exp-1) -- Figure 7.
#
# Runs the slo-exp-1 workload for each (N, R) configuration:
#   workers:    ${CLOCKWORK_BUILD}/worker            (or worker_dummy, see worker_binary)
#   controller: ${CLOCKWORK_BUILD}/controller INFER5 w1:12345,...,w6:12345 0 6 5000000
#   client:     ${CLOCKWORK_BUILD}/client controller:12346 slo-exp-1 resnet50_v2 N poisson R 1 100 1.5 mul 30
# and keeps each run's telemetry in its own subdirectory {logdir}/N{N}_R{R}/.
#
# Modes:
#   (default)  the cluster of the experiment guide, over password-free SSH
#   --local    everything on this machine: six `worker_dummy -n 1` on 127.0.0.1 ports, no SSH
#   --sim      each configuration through ${CLOCKWORK_BUILD}/clockwork-sim (virtual time)
# See README.md in this directory; `run.sh -h` lists the options.
################################################################################
set -euo pipefail
{ # the whole script is parsed before it runs, so editing this file cannot disturb a running experiment

SCRIPTPATH="$(cd "$(dirname "$0")" && pwd -P)"
REPO_ROOT="$(cd "$SCRIPTPATH/../.." && pwd -P)"

############################## configure these ##############################
client="cluster01"                                                  # runs the client
controller="cluster02"                                              # runs the controller
workers=("cluster03" "cluster04" "cluster05" "cluster06" "cluster07" "cluster08")  # one GPU each
username="${USER:-$(id -un)}"                                       # SSH user
ssh_port="${SSH_PORT:-22}"
worker_binary="${WORKER_BINARY:-worker}"      # "worker" (real GPUs) or "worker_dummy" (emulated)
worker_port=12345
controller_port=12346
exp_name="slo-exp-1"
timestamp="$(date "+%Y-%m-%d-%H-%M-%S")"
logdir="${LOGDIR:-/local/clockwork/${exp_name}/log/${timestamp}}"
#############################################################################

# Workload / controller parameters (the guide's values).
configs="12:600 12:1200 12:2400 48:600 48:1200 48:2400"   # N:R pairs
model="resnet50_v2"
dist="poisson"
slo_start=1
slo_end=100
slo_factor=1.5
slo_op="mul"
period=30
controller_type="INFER5"
generate_inputs=0
max_gpus=6
schedule_ahead=5000000
mode="cluster"
local_base_port="${LOCAL_BASE_PORT:-31345}"   # --local: workers on BASE..BASE+5, controller on BASE+6
local_workers=6
sim_seed=1
dry_run=0

export CLOCKWORK_DISABLE_INPUTS="${CLOCKWORK_DISABLE_INPUTS:-0}"   # the guide: inputs generated at the client

usage() {
  cat <<EOF
usage: run.sh [--local | --sim] [options]
  Runs the Figure 7 experiment (slo-exp-1) for each configuration N:R and writes everything
  to LOGDIR (progress in LOGDIR/run.log, which ends with "Exiting").
modes:
  (none)              cluster mode over SSH: edit client/controller/workers/username at the top
  --local             all processes on this machine: $local_workers x 'worker_dummy -n 1' on 127.0.0.1
  --sim               run each configuration through \$CLOCKWORK_BUILD/clockwork-sim
options:
  --logdir DIR        (default /local/clockwork/$exp_name/log/TIMESTAMP; env LOGDIR)
  --configs "N:R ..." configurations (default "$configs")
  --period SECONDS    seconds per SLO step (default $period)
  --slo-start X --slo-end X --slo-factor X --slo-op add|mul   (default $slo_start $slo_end $slo_factor $slo_op)
  --base-port PORT    --local: first worker port (default $local_base_port; controller = PORT+$local_workers)
  --seed S            --sim: random seed (default $sim_seed)
  --controller-type T controller TYPE, e.g. INFER6 (default $controller_type; see controller -h)
  --dry-run           print the commands instead of running them
  -h, --help          this message
environment:
  CLOCKWORK_BUILD           build directory with worker/worker_dummy/controller/client (default $REPO_ROOT/build)
  CLOCKWORK_DISABLE_INPUTS  passed to the client (default 0: inputs generated at the client)
  WORKER_BINARY             worker or worker_dummy (cluster mode; default worker)
  SIM_ARGS                  --sim: extra clockwork-sim options (e.g. "--ideal" or "-q")
EOF
}

die() { echo "run.sh: error: $*" >&2; exit 2; }

while [ $# -gt 0 ]; do
  case "$1" in
    --local) mode="local" ;;
    --sim) mode="sim" ;;
    --logdir) logdir="${2:?--logdir needs a directory}"; shift ;;
    --configs) configs="${2:?--configs needs \"N:R ...\"}"; shift ;;
    --period) period="${2:?--period needs seconds}"; shift ;;
    --slo-start) slo_start="${2:?}"; shift ;;
    --slo-end) slo_end="${2:?}"; shift ;;
    --slo-factor) slo_factor="${2:?}"; shift ;;
    --slo-op) slo_op="${2:?}"; shift ;;
    --base-port) local_base_port="${2:?}"; shift ;;
    --seed) sim_seed="${2:?}"; shift ;;
    --controller-type) controller_type="${2:?--controller-type needs a TYPE}"; shift ;;
    --dry-run) dry_run=1 ;;
    -h|--help) usage; exit 0 ;;
    *) usage >&2; die "unknown argument '$1'" ;;
  esac
  shift
done

CLOCKWORK_BUILD="${CLOCKWORK_BUILD:-$REPO_ROOT/build}"
for c in $configs; do
  [[ "$c" =~ ^[0-9]+:[0-9]+(\.[0-9]+)?$ ]] || die "bad configuration '$c' (expected N:R, e.g. 12:600)"
done
[[ "$period" =~ ^[0-9]+(\.[0-9]+)?$ ]] || die "bad --period '$period'"
[[ "$slo_op" == add || "$slo_op" == mul ]] || die "--slo-op must be add or mul"
[[ "$controller_type" =~ ^[A-Z0-9]+$ ]] || die "bad --controller-type '$controller_type'"

# Number of SLO steps the client will run (mirrors the client's schedule: stop once slo > slo_end).
n_steps="$(awk -v s="$slo_start" -v e="$slo_end" -v f="$slo_factor" -v op="$slo_op" 'BEGIN {
  n = 0; while (s <= e * (1 + 1e-9) && n < 100000) { n++; if (op == "mul") s *= f; else s += f } print n }')"
run_seconds="$(awk -v n="$n_steps" -v p="$period" 'BEGIN { printf "%d", n * p + 0.999 }')"
[ "$n_steps" -ge 1 ] || die "the SLO schedule has no steps (slo-start > slo-end?)"

if [ "$mode" = local ]; then
  client="127.0.0.1"
  controller="127.0.0.1"
  workers=()
  for ((i = 0; i < local_workers; i++)); do workers+=("127.0.0.1:$((local_base_port + i))"); done
  controller_port=$((local_base_port + local_workers))
  worker_binary="worker_dummy"
  export CLOCKWORK_CONTROLLER_PORT="$controller_port"
  export CLOCKWORK_MODEL_DIR="${CLOCKWORK_MODEL_DIR:-$REPO_ROOT/modelzoo}"
fi

# ---------------------------------------------------------------- helpers
mkdir -p "$logdir" || die "cannot create logdir '$logdir' (set --logdir or LOGDIR to a writable path)"
logdir="$(cd "$logdir" && pwd -P)"
runlog="$logdir/run.log"

log() { echo "$(date "+%Y-%m-%d %H:%M:%S") $*" | tee -a "$runlog"; }

is_local_host() {
  [ "$mode" != cluster ] && return 0
  case "$1" in
    localhost|127.0.0.1|"$(hostname)"|"$(hostname -f 2>/dev/null || hostname)") return 0 ;;
  esac
  return 1
}

# on HOST CMD: runs the shell command CMD on HOST (locally in --local/--sim mode or for this host).
on() {
  local host="$1" cmd="$2"
  if [ "$dry_run" = 1 ]; then echo "[$host] $cmd" | tee -a "$runlog"; return 0; fi
  if is_local_host "$host"; then
    bash -c "$cmd"
  else
    ssh -o BatchMode=yes -p "$ssh_port" "$username@$host" "$cmd"
  fi
}

# Started processes as "HOST PID NAME" (for the cleanup trap).
started=()

# start_on HOST NAME LOGFILE CMD: starts CMD in the background on HOST, output to LOGFILE.
start_on() {
  local host="$1" name="$2" logfile="$3" cmd="$4" pid
  if [ "$dry_run" = 1 ]; then on "$host" "nohup $cmd > $logfile 2>&1 &"; started+=("$host 0 $name"); return 0; fi
  pid="$(on "$host" "nohup $cmd > '$logfile' 2>&1 < /dev/null & echo \$!")" || die "could not start $name on $host"
  [[ "$pid" =~ ^[0-9]+$ ]] || die "could not start $name on $host (got '$pid')"
  started+=("$host $pid $name")
  log "Started $name on $host (pid $pid): $cmd"
}

# stop_all: SIGINT to every started process (controller first so it flushes telemetry), then SIGKILL.
stop_all() {
  local entry host pid name i alive
  [ ${#started[@]} -gt 0 ] || return 0
  if [ "$dry_run" = 1 ]; then started=(); return 0; fi
  for ((i = ${#started[@]} - 1; i >= 0; i--)); do
    read -r host pid name <<<"${started[$i]}"
    on "$host" "kill -INT $pid 2>/dev/null || true" || true
  done
  for _ in $(seq 100); do
    alive=0
    for entry in "${started[@]}"; do
      read -r host pid name <<<"$entry"
      if on "$host" "kill -0 $pid 2>/dev/null"; then alive=1; fi
    done
    [ "$alive" = 0 ] && break
    sleep 0.1
  done
  for entry in "${started[@]}"; do
    read -r host pid name <<<"$entry"
    if on "$host" "kill -0 $pid 2>/dev/null"; then
      log "WARN: $name on $host (pid $pid) ignored SIGINT; killing it"
      on "$host" "kill -KILL $pid 2>/dev/null || true" || true
    fi
  done
  started=()
}

# wait_for HOST FILE PATTERN SECONDS NAME
wait_for() {
  local host="$1" file="$2" pattern="$3" secs="$4" name="$5"
  [ "$dry_run" = 1 ] && return 0
  for _ in $(seq $((secs * 10))); do
    if on "$host" "grep -q '$pattern' '$file' 2>/dev/null"; then return 0; fi
    sleep 0.1
  done
  log "ERROR: $name on $host did not print '$pattern' within ${secs}s; tail of $file:"
  on "$host" "tail -n 20 '$file'" 2>&1 | tee -a "$runlog" || true
  return 1
}

finished=0
on_exit() {
  local rc=$?
  trap - EXIT INT TERM
  stop_all || true
  [ "$finished" = 1 ] || log "Experiment did not complete (exit status $rc)"
  log "Exiting"
  exit "$rc"
}
trap on_exit EXIT
trap 'log "Interrupted"; exit 130' INT TERM

all_hosts() { # distinct hosts (without ports)
  local h
  { echo "$client"; echo "$controller"; for h in "${workers[@]}"; do echo "${h%%:*}"; done; } | awk '!seen[$0]++'
}

# ---------------------------------------------------------------- one configuration
run_config_processes() { # N R RUNDIR
  local n="$1" r="$2" rundir="$3" w host port worker_list="" i=0 wlog clog
  for w in "${workers[@]}"; do
    host="${w%%:*}"; port="$worker_port"; [[ "$w" == *:* ]] && port="${w##*:}"
    wlog="$rundir/worker_${host}_${port}.log"
    if [ "$mode" = local ]; then
      start_on "$host" "worker$i" "$wlog" "'$CLOCKWORK_BUILD/$worker_binary' -n 1 -p $port"
    else
      start_on "$host" "worker$i" "$wlog" "'$CLOCKWORK_BUILD/$worker_binary'"
    fi
    worker_list="${worker_list:+$worker_list,}$host:$port"
    i=$((i + 1))
  done
  i=0
  for w in "${workers[@]}"; do
    host="${w%%:*}"; port="$worker_port"; [[ "$w" == *:* ]] && port="${w##*:}"
    wait_for "$host" "$rundir/worker_${host}_${port}.log" "listening on" 60 "worker$i" || return 1
    i=$((i + 1))
  done
  clog="$rundir/controller.log"
  start_on "$controller" controller "$clog" \
    "env CLOCKWORK_LOG_DIR='$rundir' CLOCKWORK_CONTROLLER_PORT=$controller_port '$CLOCKWORK_BUILD/controller' $controller_type $worker_list $generate_inputs $max_gpus $schedule_ahead"
  wait_for "$controller" "$clog" "listening for clients" 120 controller || return 1
  local climit=$((run_seconds + 120))
  local ccmd="env CLOCKWORK_DISABLE_INPUTS=$CLOCKWORK_DISABLE_INPUTS timeout -s INT -k 10 $climit '$CLOCKWORK_BUILD/client' $controller:$controller_port $exp_name $model $n $dist $r $slo_start $slo_end $slo_factor $slo_op $period"
  [ -n "${CLOCKWORK_MODEL_DIR:-}" ] && ccmd="env CLOCKWORK_MODEL_DIR='$CLOCKWORK_MODEL_DIR' $ccmd"
  log "Running the client for about ${run_seconds}s"
  start_on "$client" client "$rundir/client.log" "$ccmd"
  local cpid
  read -r _ cpid _ <<<"${started[$((${#started[@]} - 1))]}"
  if [ "$dry_run" = 0 ]; then
    # Poll (rather than wait in the foreground) so that a TERM/INT to run.sh is handled at once.
    while on "$client" "kill -0 $cpid 2>/dev/null"; do sleep 1; done
  fi
  log "Client finished: $(on "$client" "tail -n 1 '$rundir/client.log'" 2>/dev/null || true)"
  sleep 1   # let the last responses arrive before stopping the controller
  stop_all
  return 0
}

run_config_sim() { # N R RUNDIR
  local n="$1" r="$2" rundir="$3"
  local cmd="'$CLOCKWORK_BUILD/clockwork-sim' --gpus $max_gpus --seed $sim_seed --log-dir '$rundir' ${SIM_ARGS:-} $controller_type $generate_inputs $max_gpus $schedule_ahead -- $exp_name $model $n $dist $r $slo_start $slo_end $slo_factor $slo_op $period"
  log "Simulating: $cmd"
  on 127.0.0.1 "$cmd > '$rundir/sim.log' 2>&1" || { log "ERROR: clockwork-sim failed (see $rundir/sim.log)"; return 1; }
}

check_binaries() {
  local b
  if [ "$mode" = sim ]; then
    if [ ! -x "$CLOCKWORK_BUILD/clockwork-sim" ]; then
      log "ERROR: --sim needs $CLOCKWORK_BUILD/clockwork-sim, which does not exist (the simulator is not built yet)."
      log "       Use --local (emulated workers on this machine) or build clockwork-sim; see README.md for its expected invocation."
      return 1
    fi
    return 0
  fi
  for b in controller client "$worker_binary"; do
    if [ "$mode" = local ] || is_local_host "$controller"; then
      [ -x "$CLOCKWORK_BUILD/$b" ] || { log "ERROR: $CLOCKWORK_BUILD/$b not found; build first (bash scripts/build.sh) or set CLOCKWORK_BUILD"; return 1; }
    fi
  done
}

# ---------------------------------------------------------------- main
log "Experiment $exp_name (Figure 7), mode=$mode, logdir=$logdir"
log "controller_type=$controller_type configs=[$configs] period=${period}s slo=$slo_start..$slo_end $slo_op $slo_factor ($n_steps steps, ~${run_seconds}s per run)"
log "CLOCKWORK_BUILD=$CLOCKWORK_BUILD CLOCKWORK_DISABLE_INPUTS=$CLOCKWORK_DISABLE_INPUTS"
check_binaries || exit 1

if [ "$mode" = cluster ]; then
  log "Creating $logdir on all machines"
  for h in $(all_hosts); do on "$h" "mkdir -p '$logdir'" || die "cannot create $logdir on $h"; done
fi

failures=0
for c in $configs; do
  n="${c%%:*}"; r="${c##*:}"
  rundir="$logdir/N${n}_R${r}"
  log "=== Configuration N=$n R=$r -> $rundir"
  for h in $( [ "$mode" = cluster ] && all_hosts || echo 127.0.0.1 ); do on "$h" "mkdir -p '$rundir'"; done
  if [ "$mode" = sim ]; then
    run_config_sim "$n" "$r" "$rundir" || failures=$((failures + 1))
  else
    run_config_processes "$n" "$r" "$rundir" || { failures=$((failures + 1)); stop_all; }
  fi
  if [ "$dry_run" = 0 ] && [ -f "$rundir/clockwork_request_log.tsv" ]; then
    log "N=$n R=$r: $(($(wc -l < "$rundir/clockwork_request_log.tsv") - 1)) requests logged"
  fi
  sleep 1
done

if [ "$mode" = cluster ]; then
  for h in $(all_hosts); do
    is_local_host "$h" && continue
    log "Copying logs from $h"
    if [ "$dry_run" = 0 ]; then
      ssh -o BatchMode=yes -p "$ssh_port" "$username@$h" "tar -C '$logdir' --exclude=run.log -cf - ." | tar -C "$logdir" -xf - \
        || { log "WARN: copying logs from $h failed"; failures=$((failures + 1)); }
    fi
  done
fi

log "All configurations done ($failures failed). Plot with: /usr/bin/python3 $SCRIPTPATH/plotter.py -l $logdir"
finished=1
[ "$failures" = 0 ]
exit
}
