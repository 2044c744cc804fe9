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
# The guide starts the scripts with `sh`; the rest of this file is bash.
if [ -z "${BASH_VERSION:-}" ]; then exec bash "$0" "$@"; fi
set -euo pipefail
{ # the whole script is parsed before it runs, so editing this file cannot disturb a running experiment

SCRIPTPATH="$(cd "$(dirname "$0")" && pwd -P)"
REPO_ROOT="$(cd "$SCRIPTPATH/../.." && pwd -P)"

############################## configure these ##############################
# (or override them without editing: --client/--controller/--workers/--username, or the
#  environment variables CLIENT_HOST, CONTROLLER_HOST, WORKER_HOSTS, SSH_USER)
client="${CLIENT_HOST:-cluster01}"                                   # runs the client
controller="${CONTROLLER_HOST:-cluster02}"                           # runs the controller
workers=("cluster03" "cluster04" "cluster05" "cluster06" "cluster07" "cluster08")  # one GPU each
[ -z "${WORKER_HOSTS:-}" ] || read -r -a workers <<<"${WORKER_HOSTS//,/ }"
username="${SSH_USER:-${USER:-$(id -un)}}"                          # SSH user
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
# Set on the master, these reach every remote process (a non-interactive SSH session reads no profile).
forwarded_env="CLOCKWORK_MODEL_DIR CLOCKWORK_CONFIG_FILE CLOCKWORK_DISABLE_INPUTS CLOCKWORK_STARTUP_QUIET_MS"
forwarded_env+=" CLOCKWORK_WORKER_TIMEOUT_MS AZURE_TRACE_DIR CLOCKWORK_HTTP_PORT CLOCKWORK_METRICS_PORT"

usage() {
  cat <<EOF
usage: run.sh [--local | --sim] [options]
  Runs the Figure 7 experiment (slo-exp-1) for each configuration N:R and writes everything
  to LOGDIR (progress in LOGDIR/run.log, which ends with "Exiting").
modes:
  (none)              cluster mode over SSH: client, controller and workers on the hosts below
  --local             all processes on this machine: $local_workers x 'worker_dummy -n 1' on 127.0.0.1
  --sim               run each configuration through \$CLOCKWORK_BUILD/clockwork-sim
cluster hosts (default: the variables at the top of run.sh):
  --client HOST       (env CLIENT_HOST; now $client)
  --controller HOST   (env CONTROLLER_HOST; now $controller)
  --workers "H ..."   worker hosts, HOST or HOST:PORT, space- or comma-separated (env WORKER_HOSTS;
                      now ${workers[*]})
  --username USER     SSH user (env SSH_USER; now $username)
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
  CLOCKWORK_BUILD           build directory with worker/worker_dummy/controller/client, the same path
                            on every machine (default $REPO_ROOT/build)
  CLOCKWORK_DISABLE_INPUTS  passed to the client (default 0: inputs generated at the client)
  WORKER_BINARY             worker or worker_dummy (cluster mode; default worker)
  SSH_CONFIG                an ssh_config file for every ssh (ssh -F), e.g. keys and known hosts
  SSH_OPTS                  extra ssh options, e.g. "-i ~/.ssh/cluster_key -o StrictHostKeyChecking=accept-new"
  SSH_PORT                  ssh port (default: ssh's own, normally 22)
  SIM_ARGS                  --sim: extra clockwork-sim options (e.g. "--ideal" or "-q")
  Forwarded to every remote process when set on this machine:
    $forwarded_env
EOF
}

die() { echo "run.sh: error: $*" >&2; exit 2; }

while [ $# -gt 0 ]; do
  case "$1" in
    --local) mode="local" ;;
    --sim) mode="sim" ;;
    --client) client="${2:?--client needs a host}"; shift ;;
    --controller) controller="${2:?--controller needs a host}"; shift ;;
    --workers) w="${2:?--workers needs hosts}"; read -r -a workers <<<"${w//,/ }"; shift ;;
    --username) username="${2:?--username needs a user}"; shift ;;
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
if [ "$mode" = cluster ]; then
  [ ${#workers[@]} -ge 1 ] || die "no worker hosts (set --workers or WORKER_HOSTS)"
  for h in "$client" "$controller"; do
    [[ "$h" =~ ^[A-Za-z0-9._-]+$ ]] || die "bad host '$h' (expected a host name or address)"
  done
  for h in "${workers[@]}"; do
    [[ "$h" =~ ^[A-Za-z0-9._-]+(:[0-9]+)?$ ]] || die "bad worker '$h' (expected HOST or HOST:PORT)"
  done
  [[ "$username" =~ ^[A-Za-z0-9._-]+$ ]] || die "bad username '$username'"
fi

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
  # the controller's HTTP API and metrics are off unless asked for (ports of their own)
  export CLOCKWORK_HTTP_PORT="${CLOCKWORK_HTTP_PORT:-0}" CLOCKWORK_METRICS_PORT="${CLOCKWORK_METRICS_PORT:-0}"
fi

# ---------------------------------------------------------------- helpers
mkdir -p "$logdir" || die "cannot create logdir '$logdir' (set --logdir or LOGDIR to a writable path)"
logdir="$(cd "$logdir" && pwd -P)"
runlog="$logdir/run.log"

log() { echo "$(date "+%Y-%m-%d %H:%M:%S") $*" | tee -a "$runlog"; }

# shq WORD: WORD quoted for any POSIX shell (the remote login shell need not be bash).
shq() {
  if [[ "$1" =~ ^[A-Za-z0-9_./:,=@%+-]+$ ]]; then printf '%s' "$1"; else printf "'%s'" "${1//\'/\'\\\'\'}"; fi
}
shq_words() { local w out=""; for w in "$@"; do out+="${out:+ }$(shq "$w")"; done; printf '%s' "$out"; }

ssh_cmd=(ssh -n)
[ -n "${SSH_CONFIG:-}" ] && ssh_cmd+=(-F "$SSH_CONFIG")
[ -n "${SSH_PORT:-}" ] && ssh_cmd+=(-p "$SSH_PORT")
read -r -a ssh_user_opts <<<"${SSH_OPTS:-}"
# ssh keeps the first value it sees for an option, so SSH_OPTS can override these bounds.
ssh_cmd+=("${ssh_user_opts[@]}" -o BatchMode=yes -o ConnectTimeout=10 -o ServerAliveInterval=5 -o ServerAliveCountMax=3)

run_id="$timestamp-$$-$RANDOM"   # marks this run's processes and its logdir on every host
this_host="$(hostname)"
this_fqdn="$(hostname -f 2>/dev/null || hostname)"
is_local_host() {
  [ "$mode" != cluster ] && return 0
  case "$1" in localhost|127.0.0.1|"$this_host"|"$this_fqdn") return 0 ;; esac
  return 1
}

# on HOST CMD: runs the POSIX shell command CMD on HOST (locally in --local/--sim mode or for this
# host). Exit status 255: HOST could not be reached.
on() {
  local host="$1" cmd="$2"
  if [ "$dry_run" = 1 ]; then echo "[$host] $cmd" | tee -a "$runlog"; return 0; fi
  if is_local_host "$host"; then
    sh -c "$cmd"
  else
    "${ssh_cmd[@]}" "$username@$host" "$cmd"
  fi
}

# Hosts that stopped answering over SSH, and what run.sh could not stop there (reported at the end).
unreachable=()
left_running=()
note_unreachable() { # HOST WHAT
  log "ERROR: cannot reach $1 over SSH ($2)"
  [[ " ${unreachable[*]} " == *" $1 "* ]] || unreachable+=("$1")
}

forwarded_assignments() {
  local v out=""
  for v in $forwarded_env; do
    if [ -n "${!v:-}" ]; then out+=" $v=$(shq "${!v}")"; fi
  done
  printf '%s' "$out"
}

# What this run started, as "HOST PID NAME" (PID "?" until its start returns), and the hosts it
# started something on in the current configuration (those that hold its logs).
started=()
touched=()

# start_on HOST NAME LOGFILE [VAR=VALUE...] PROGRAM [ARGS...]: starts PROGRAM in the background on
# HOST with the forwarded environment, output to LOGFILE. FIG7_RUN_ID=RUN@HOST in its environment
# marks it as this run's on HOST, so that stop_host finds it even if run.sh was interrupted before it
# learnt the PID (and never touches another run's processes, or a reused PID).
start_on() {
  local host="$1" name="$2" logfile="$3" pid words cmd rc
  shift 3
  stop_point   # nothing new starts once run.sh was asked to stop
  words="$(shq_words "$@")"
  cmd="mkdir -p $(shq "$(dirname "$logfile")") || exit 3
    nohup env FIG7_RUN_ID=$run_id@$host$(forwarded_assignments) $words > $(shq "$logfile") 2>&1 < /dev/null &"
  [[ " ${touched[*]} " == *" $host "* ]] || touched+=("$host")
  started+=("$host ? $name")
  if [ "$dry_run" = 1 ]; then on "$host" "$cmd"; return 0; fi
  rc=0; pid="$(on "$host" "$cmd echo \$!")" || rc=$?
  if [ "$rc" = 255 ]; then note_unreachable "$host" "starting $name"; return 1; fi
  [ "$rc" = 0 ] || { log "ERROR: could not start $name on $host (exit status $rc)"; return 1; }
  [[ "$pid" =~ ^[0-9]+$ ]] || { log "ERROR: could not start $name on $host (got '$pid')"; return 1; }
  started[${#started[@]} - 1]="$host $pid $name"
  log "Started $name on $host (pid $pid): $words"
}

# stop_host HOST: SIGINT to this run's processes on HOST, up to 10 s to exit, then SIGKILL; prints
# the PIDs it had to kill.
stop_host() {
  on "$1" "ids() { grep -lsxzF FIG7_RUN_ID=$run_id@$1 /proc/[0-9]*/environ | cut -d/ -f3; }
    p=\$(ids); [ -z \"\$p\" ] && exit 0; kill -INT \$p 2>/dev/null
    i=0; while [ \$i -lt 100 ]; do sleep 0.1; p=\$(ids); [ -z \"\$p\" ] && exit 0; i=\$((i + 1)); done
    kill -KILL \$p 2>/dev/null; echo \$p; exit 0"
}

host_names() { # HOST -> "NAME (pid PID), ..." of what was started on HOST
  local entry host pid name out=""
  for entry in "${started[@]}"; do
    read -r host pid name <<<"$entry"
    [ "$host" = "$1" ] && out+="${out:+, }$name (pid $pid)"
  done
  echo "$out"
}

# stop_hosts HOST...: stops this run's processes on these hosts, all hosts at once.
stop_hosts() {
  local h i=0 jobs=() killed
  for h in "$@"; do
    stop_host "$h" > "$scratch/stop.$i" &
    jobs+=($!); i=$((i + 1))
  done
  i=0
  for h in "$@"; do
    if wait "${jobs[$i]}"; then
      killed="$(paste -sd' ' "$scratch/stop.$i")"
      [ -z "$killed" ] || log "WARN: on $h, pid(s) $killed ignored SIGINT for 10 s and were killed"
    else
      note_unreachable "$h" "could not stop $(host_names "$h")"
      left_running+=("$h: $(host_names "$h")")
    fi
    i=$((i + 1))
  done
}

# stop_all: stops every started process: first on the client's and the controller's hosts, one
# after the other (the controller flushes its telemetry on SIGINT while its workers are still up),
# then on all the other hosts at once.
stop_all() {
  local i host first=() rest=()
  [ ${#started[@]} -gt 0 ] || return 0
  if [ "$dry_run" = 1 ]; then started=(); return 0; fi
  for ((i = ${#started[@]} - 1; i >= 0; i--)); do
    read -r host _ <<<"${started[$i]}"
    [[ " ${first[*]} ${rest[*]} " == *" $host "* ]] && continue
    if [ "$host" = "$client" ] || [ "$host" = "$controller" ]; then first+=("$host"); else rest+=("$host"); fi
  done
  for host in "${first[@]}"; do stop_hosts "$host"; done
  [ ${#rest[@]} -eq 0 ] || stop_hosts "${rest[@]}"
  started=()
}

# wait_for HOST PID FILE PATTERN SECONDS NAME: waits until FILE on HOST contains PATTERN, failing
# early if process PID exits. Polls on the host in slices of 5 s, so a stop request acts soon.
wait_for() {
  local host="$1" pid="$2" file="$3" pattern="$4" secs="$5" name="$6" rc deadline=$((SECONDS + $5))
  [ "$dry_run" = 1 ] && return 0
  while :; do
    stop_point
    rc=0
    on "$host" "i=0; while [ \$i -lt 50 ]; do grep -q $(shq "$pattern") $(shq "$file") 2>/dev/null && exit 0
      kill -0 $pid 2>/dev/null || exit 3; sleep 0.1; i=\$((i + 1)); done; exit 1" || rc=$?
    case "$rc" in
      0) return 0 ;;
      3) log "ERROR: $name on $host exited before printing '$pattern'; tail of $file:"; break ;;
      255) note_unreachable "$host" "waiting for $name"; return 1 ;;
    esac
    if [ "$SECONDS" -ge "$deadline" ]; then
      log "ERROR: $name on $host did not print '$pattern' within ${secs}s; tail of $file:"; break
    fi
  done
  on "$host" "tail -n 20 $(shq "$file")" 2>&1 | tee -a "$runlog" || true
  return 1
}

all_hosts() { # distinct hosts (without ports)
  local h
  { echo "$client"; echo "$controller"; for h in "${workers[@]}"; do echo "${h%%:*}"; done; } | awk '!seen[$0]++'
}

# Remote hosts whose {logdir} is this machine's own directory (a shared filesystem): nothing to copy.
shared_logdir_hosts=()

# probe_hosts: every host answers, has the binaries of its roles, and gets {logdir}.
probe_hosts() {
  local h bins out rc ok=0
  [ "$dry_run" = 0 ] || return 0
  echo "$run_id" > "$logdir/.run_id"
  for h in $(all_hosts); do
    stop_point
    bins=""
    [ "$h" = "$client" ] && bins+=" client"
    [ "$h" = "$controller" ] && bins+=" controller"
    [[ " ${workers[*]%%:*} " == *" $h "* ]] && bins+=" $worker_binary"
    rc=0
    out="$(on "$h" "mkdir -p $(shq "$logdir") || exit 3
      for b in$bins; do [ -x $(shq "$CLOCKWORK_BUILD")/\$b ] || { echo \$b; exit 4; }; done
      [ \"\$(cat $(shq "$logdir/.run_id") 2>/dev/null)\" = $(shq "$run_id") ] && echo shared; exit 0")" || rc=$?
    case "$rc" in
      0) [ "$out" = shared ] && ! is_local_host "$h" && shared_logdir_hosts+=("$h") ;;
      3) log "ERROR: cannot create $logdir on $h (set --logdir or LOGDIR to a path writable on every machine)"; ok=1 ;;
      4) log "ERROR: $CLOCKWORK_BUILD/$out not found on $h (every machine needs Clockwork built at the same" \
           "path; set CLOCKWORK_BUILD)"; ok=1 ;;
      *) note_unreachable "$h" "ssh $username@$h exited with $rc; password-free SSH is required"; ok=1 ;;
    esac
  done
  return $ok
}

# copy_back SUBDIR: copies {logdir}/SUBDIR from every remote host that ran something for it into
# {logdir}/SUBDIR here.
copy_back() {
  local sub="$1" h ok=0
  [ "$mode" = cluster ] && [ "$dry_run" = 0 ] || return 0
  for h in "${touched[@]}"; do
    is_local_host "$h" && continue
    [[ " ${shared_logdir_hosts[*]} " == *" $h "* ]] && continue
    if "${ssh_cmd[@]}" "$username@$h" "tar -C $(shq "$logdir") -cf - $(shq "$sub")" | tar -C "$logdir" -xf -; then
      log "Copied $sub from $h"
    else
      log "WARN: copying $logdir/$sub from $h failed; its files there are not on this machine"; ok=1
    fi
  done
  return $ok
}

finished=0
current_run=""
on_exit() {
  local rc=$?
  trap - EXIT
  stop_all || true
  if [ -n "$current_run" ]; then copy_back "$current_run" || true; fi
  rm -f "$logdir/.run_id"
  [ "$finished" = 1 ] || log "Experiment did not complete (exit status $rc)"
  if [ ${#left_running[@]} -gt 0 ]; then
    log "WARN: processes that may still be running (their hosts could not be reached): ${left_running[*]}"
  fi
  log "Exiting"
  exit "$rc"
}
scratch="$(mktemp -d "${TMPDIR:-/tmp}/fig7-run.XXXXXX")"   # this run's temporary files

# INT and TERM to run.sh (see supervise below) only create $stop_file; the experiment checks for it
# at the safe points that call stop_point, and its EXIT trap (on_exit) does the clean-up.
stop_file="$scratch/stop-request"
stop_point() {
  local signal=""
  [ -e "$stop_file" ] || return 0
  read -r signal < "$stop_file" || true
  log "Interrupted${signal:+ ($signal)}"
  exit 130
}

# ---------------------------------------------------------------- one configuration
worker_addr() { # ENTRY -> HOST PORT
  local port="$worker_port"
  [[ "$1" == *:* ]] && port="${1##*:}"
  echo "${1%%:*} $port"
}

start_workers() { # RUNDIR -> sets worker_list
  local rundir="$1" w host port i=0 args
  worker_list=""
  for w in "${workers[@]}"; do
    read -r host port <<<"$(worker_addr "$w")"
    args=()
    if [ "$mode" = local ]; then args=(-n 1 -p "$port"); elif [[ "$w" == *:* ]]; then args=(-p "$port"); fi
    start_on "$host" "worker$i" "$rundir/worker_${host}_${port}.log" "$CLOCKWORK_BUILD/$worker_binary" \
      ${args[@]+"${args[@]}"} || return 1
    worker_list="${worker_list:+$worker_list,}$host:$port"
    i=$((i + 1))
  done
  i=0
  for w in "${workers[@]}"; do
    read -r host port <<<"$(worker_addr "$w")"
    wait_for "$host" "$(pid_of "worker$i")" "$rundir/worker_${host}_${port}.log" "listening on" 60 "worker$i" \
      || return 1
    i=$((i + 1))
  done
}

pid_of() { # NAME -> PID of the started process NAME
  local entry host pid name
  for entry in "${started[@]}"; do
    read -r host pid name <<<"$entry"
    [ "$name" = "$1" ] && { echo "$pid"; return 0; }
  done
  echo 0
}

# wait_client RUNDIR: polls until the client exits (rather than waiting in the foreground, so that a
# stop request is acted on within a second or two).
wait_client() {
  local cpid rc
  cpid="$(pid_of client)"
  [ "$dry_run" = 0 ] || return 0
  while :; do
    stop_point
    rc=0; on "$client" "kill -0 $cpid 2>/dev/null" || rc=$?
    case "$rc" in
      0) sleep 1 ;;
      255) note_unreachable "$client" "waiting for the client"; return 1 ;;
      *) break ;;
    esac
  done
  log "Client finished: $(on "$client" "tail -n 1 $(shq "$1/client.log")" 2>/dev/null || true)"
}

# report_lost_workers RUNDIR: the controller's own account of workers it lost during the run.
report_lost_workers() {
  local lost
  [ "$dry_run" = 0 ] || return 0
  lost="$(on "$controller" "grep ' lost: ' $(shq "$1/controller.log") || true" 2>/dev/null)" || return 0
  [ -n "$lost" ] || return 0
  lost="$(echo "$lost" | sed 's/^.*\(Worker \)/\1/' | paste -sd ';')"
  log "WARN: the controller lost worker(s) during this run: $lost"
}

run_config_processes() { # N R RUNDIR
  local n="$1" r="$2" rundir="$3" clog cargs
  start_workers "$rundir" || return 1
  clog="$rundir/controller.log"
  start_on "$controller" controller "$clog" CLOCKWORK_LOG_DIR="$rundir" CLOCKWORK_CONTROLLER_PORT="$controller_port" \
    "$CLOCKWORK_BUILD/controller" "$controller_type" "$worker_list" "$generate_inputs" "$max_gpus" "$schedule_ahead" \
    || return 1
  wait_for "$controller" "$(pid_of controller)" "$clog" "listening for clients" 120 controller || return 1
  cargs=("$controller:$controller_port" "$exp_name" "$model" "$n" "$dist" "$r" "$slo_start" "$slo_end" "$slo_factor"
         "$slo_op" "$period")
  log "Running the client for about ${run_seconds}s"
  start_on "$client" client "$rundir/client.log" timeout -s INT -k 10 $((run_seconds + 120)) \
    "$CLOCKWORK_BUILD/client" "${cargs[@]}" || return 1
  wait_client "$rundir" || return 1
  sleep 1   # let the last responses arrive before stopping the controller
  report_lost_workers "$rundir"
  stop_all
}

run_config_sim() { # N R RUNDIR
  local n="$1" r="$2" rundir="$3"
  local cmd
  cmd="$(shq "$CLOCKWORK_BUILD/clockwork-sim") --gpus $max_gpus --seed $sim_seed --log-dir $(shq "$rundir")"
  cmd+=" ${SIM_ARGS:-} $controller_type $generate_inputs $max_gpus $schedule_ahead"
  cmd+=" -- $exp_name $model $n $dist $r $slo_start $slo_end $slo_factor $slo_op $period"
  log "Simulating: $cmd"
  on 127.0.0.1 "$cmd > $(shq "$rundir/sim.log") 2>&1" \
    || { log "ERROR: clockwork-sim failed (see $rundir/sim.log)"; return 1; }
}

check_binaries() {
  local b
  if [ "$mode" = sim ]; then
    if [ ! -x "$CLOCKWORK_BUILD/clockwork-sim" ]; then
      log "ERROR: --sim needs $CLOCKWORK_BUILD/clockwork-sim, which does not exist (the simulator is not built yet)."
      log "       Use --local (emulated workers on this machine) or build clockwork-sim;" \
        "see README.md for its expected invocation."
      return 1
    fi
    return 0
  fi
  [ "$mode" = local ] || return 0   # cluster mode: probe_hosts checks each machine
  for b in controller client "$worker_binary"; do
    [ -x "$CLOCKWORK_BUILD/$b" ] && continue
    log "ERROR: $CLOCKWORK_BUILD/$b not found; build first (bash scripts/build.sh) or set CLOCKWORK_BUILD"
    return 1
  done
}

# ---------------------------------------------------------------- main
prepare_run() { # logs the settings; checks the binaries and, in cluster mode, every host
  log "Experiment $exp_name (Figure 7), mode=$mode, logdir=$logdir"
  log "controller_type=$controller_type configs=[$configs] period=${period}s slo=$slo_start..$slo_end $slo_op $slo_factor" \
    "($n_steps steps, ~${run_seconds}s per run)"
  log "CLOCKWORK_BUILD=$CLOCKWORK_BUILD CLOCKWORK_DISABLE_INPUTS=$CLOCKWORK_DISABLE_INPUTS"
  check_binaries || exit 1
  [ "$mode" = cluster ] || return 0
  log "Hosts: client=$client controller=$controller workers=${workers[*]} (ssh as $username)"
  log "Checking every host and creating $logdir there"
  probe_hosts || { log "ERROR: not every host is ready; nothing was started"; exit 1; }
  [ ${#shared_logdir_hosts[@]} -eq 0 ] \
    || log "Shared with this machine (nothing to copy back): ${shared_logdir_hosts[*]}"
}

# run_config N R: runs one configuration and copies its logs back; sets config_ok to 0 if anything failed.
run_config() {
  local n="$1" r="$2" rundir="$logdir/N${1}_R${2}"
  log "=== Configuration N=$n R=$r -> $rundir"
  unreachable=(); touched=()
  mkdir -p "$rundir"   # (and on each remote host as a process starts there)
  current_run="N${n}_R${r}"
  config_ok=1
  if [ "$mode" = sim ]; then
    run_config_sim "$n" "$r" "$rundir" || config_ok=0
  else
    run_config_processes "$n" "$r" "$rundir" || { config_ok=0; stop_all; }
  fi
  copy_back "$current_run" || config_ok=0
  current_run=""
  if [ "$dry_run" = 0 ] && [ -f "$rundir/clockwork_request_log.tsv" ]; then
    log "N=$n R=$r: $(($(wc -l < "$rundir/clockwork_request_log.tsv") - 1)) requests logged"
  fi
  [ ${#unreachable[@]} -eq 0 ] || { config_ok=0; log "ERROR: N=$n R=$r: unreachable host(s): ${unreachable[*]}"; }
}

# run_experiment: all configurations, in a background child of run.sh (see supervise) that ignores INT
# and TERM, as do the programs it runs here (ssh, sleep, tar ...): a Ctrl-C cuts no step short
# halfway; the experiment stops at its next stop_point. Its EXIT trap stops what it started and
# copies the logs back, also after a failure.
run_experiment() {
  local c failures=0
  trap '' INT TERM
  trap on_exit EXIT
  stop_point
  prepare_run
  for c in $configs; do
    stop_point
    run_config "${c%%:*}" "${c##*:}"
    [ "$config_ok" = 1 ] || failures=$((failures + 1))
    sleep 1
  done
  stop_point
  log "All configurations done ($failures failed). Plot with: /usr/bin/python3 $SCRIPTPATH/plotter.py -l $logdir"
  finished=1
  [ "$failures" = 0 ] || exit 1
  exit 0
}

# supervise PID: waits for run_experiment (process PID) and returns its exit status. run.sh's own
# INT/TERM trap only writes the signal's name to $stop_file; it runs only while this shell waits in
# `wait` (with no foreground child) and never while it expands a $(...). A trap doing the work in the
# shell that runs the experiment was unreliable on bash 5.2: a signal arriving while bash re-parsed a
# $(...) to expand it made the trap's action a syntax error ("interrupt trap: line 2: unexpected EOF
# while looking for matching `)'", exit status 2), and a SIGINT that the foreground child survived
# (ssh catches it and exits 255) never ran the trap at all. tests/trap_race.sh measures both.
signal_caught=0
request_stop() { # SIGNAL
  signal_caught=1
  { echo "SIG$1" > "$stop_file"; } 2>/dev/null || true
}
supervise() {
  local rc
  while :; do
    signal_caught=0; rc=0
    wait "$1" || rc=$?
    [ "$signal_caught" = 1 ] || return "$rc"   # else a signal cut the wait short: wait again
  done
}
trap 'request_stop INT' INT
trap 'request_stop TERM' TERM
run_experiment &
rc=0; supervise $! || rc=$?
rm -rf "$scratch"
exit "$rc"
}
