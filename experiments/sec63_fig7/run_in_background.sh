#!/usr/bin/env bash
# Runs run.sh in the background (nohup), detached from this terminal. Arguments are passed to run.sh.
# Progress: tail -f {logdir}/run.log -- the experiment is over once run.log ends with "Exiting".
#   usage: run_in_background.sh [run.sh options, e.g. --local --logdir DIR]
# The guide starts it with `sh`; the rest of this file is bash.
if [ -z "${BASH_VERSION:-}" ]; then exec bash "$0" "$@"; fi
set -euo pipefail
SCRIPTPATH="$(cd "$(dirname "$0")" && pwd -P)"
timestamp="$(date "+%Y-%m-%d-%H-%M-%S")"
logdir="${LOGDIR:-/local/clockwork/slo-exp-1/log/${timestamp}}"
args=("$@")
for ((i = 0; i < ${#args[@]}; i++)); do
  case "${args[$i]}" in
    -h|--help) exec bash "$SCRIPTPATH/run.sh" --help ;;
    --logdir) logdir="${args[$((i + 1))]:?--logdir needs a directory}" ;;
  esac
done
mkdir -p "$logdir" || { echo "run_in_background.sh: cannot create '$logdir' (use --logdir DIR or LOGDIR=DIR)" >&2; exit 2; }
logdir="$(cd "$logdir" && pwd -P)"
nohup bash "$SCRIPTPATH/run.sh" "$@" --logdir "$logdir" > "$logdir/run.sh.out" 2>&1 < /dev/null &
pid=$!
echo "run.sh started in the background (pid $pid)"
echo "  progress:  tail -f $logdir/run.log     (done when it ends with \"Exiting\")"
echo "  stop it:   kill -TERM $pid              (stops every process it started)"
echo "  plot:      /usr/bin/python3 $SCRIPTPATH/plotter.py -l $logdir"
