#!/usr/bin/env bash
# Benchmark (prints figures, never pass/fail): the controller's KServe v2 HTTP API vs its native
# protocol, side by side in one run on the same controller (INFER5) and worker_dummy. A model
# "tiny" (24 FP32 in, 10 out, 0.2-1 ms per batch) has COPIES copies on GPUS emulated GPUs.
#   1. native: the client's slo-exp-1 open loop at RATE r/s (fixed rate) for SECS s, inputs sent;
#   2. HTTP:   wrk, CONNS keep-alive connections each posting a JSON inference request and pausing
#              so that the total is about RATE r/s, for SECS s (wrk is closed loop per connection);
#   3. HTTP paced like native: bench/http_pace.c, the same JSON request at RATE r/s released as the
#              native client releases its requests (a millisecond timer, fixed rate), over CONNS
#              keep-alive connections, for SECS s: the like-for-like comparison with phase 1 (same
#              arrival pattern, one single-threaded libuv load generator, latency from write to answer).
# Per phase: achieved r/s, controller CPU (share of one core, and per 1000 r/s), the controller's
# request latency p50/p99 (arrival to answer, from its request log: the same rows for both APIs)
# and the end-to-end p50/p99 the load generators see (native: the client's CLOCKWORK_CLIENT_LOG;
# HTTP: wrk's, and http_pace's); then the HTTP/native ratios.
#   usage: bench/http_load.sh [BUILD_DIR]   env: RATE (2000), SECS (15), CONNS (8), COPIES (4), GPUS (4),
#          KEEP (set: keep the logs' folder)
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BUILD="${1:-$ROOT/build}"
RATE="${RATE:-2000}" SECS="${SECS:-15}" CONNS="${CONNS:-8}" COPIES="${COPIES:-4}" GPUS="${GPUS:-4}"
[ -x "$BUILD/http_pace" ] || { echo "$BUILD/http_pace is missing: build the project first"; exit 1; }
command -v wrk > /dev/null || { echo "wrk is missing: scripts/install-deps.sh installs it"; exit 1; }
TICK=$(getconf CLK_TCK)
out="$(mktemp -d /tmp/cw-bench-http.XXXXXX)"
mkdir -p "$out/zoo/tiny"
echo 'input_size = 96L; output_size = 40L; weights_size = 2000000L; batch_sizes = [1, 2, 4, 8, 16];
input_shape = [1, 24]; output_shape = [1, 10];' > "$out/zoo/tiny/model.info"
echo 'weights = 2000000L; b1 = 200000L; b2 = 250000L; b4 = 350000L; b8 = 550000L; b16 = 1000000L;' \
  > "$out/zoo/tiny/model.measurements"
export CLOCKWORK_MODEL_DIR="$out/zoo" CLOCKWORK_LOG_DIR="$out" CLOCKWORK_STARTUP_QUIET_MS=500
export CLOCKWORK_DISABLE_INPUTS=0
base=$(( 32000 + RANDOM % 1000 * 4 ))
export CLOCKWORK_CONTROLLER_PORT=$((base + 1)) CLOCKWORK_HTTP_PORT=$((base + 2)) CLOCKWORK_METRICS_PORT=$((base + 3))
pids=()
trap 'kill -KILL "${pids[@]}" 2>/dev/null || true; [ -n "${KEEP:-}" ] || rm -rf "$out"' EXIT

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
now() { date +%s.%N; }
rows() { tail -n +2 "$out/clockwork_request_log.tsv" | wc -l; }
# p50 and p99 (ms) and count of successful rows' latencies (ns): FILE FROM TO STATUS_COL LATENCY_COL
pcts() {
  tail -n +2 "$1" | sed -n "$2,$3p" | awk -F'\t' -v s="$4" -v l="$5" '$s == 0 {print $l}' | sort -n |
    awk '{v[NR] = $1} END {if (NR) printf "%.3f %.3f %d", v[int(NR * 0.5) + (NR * 0.5 > int(NR * 0.5))] / 1e6,
         v[int(NR * 0.99) + (NR * 0.99 > int(NR * 0.99))] / 1e6, NR; else print "0 0 0"}'
}

"$BUILD/worker_dummy" -n "$GPUS" -p "$base" > "$out/worker.log" 2>&1 &
wpid=$!
pids+=($wpid)
for _ in $(seq 100); do grep -q "listening on" "$out/worker.log" && break; sleep 0.1; done
grep -q "listening on" "$out/worker.log" || { tail -n 3 "$out/worker.log"; echo "worker_dummy did not start"; exit 1; }
"$BUILD/controller" INFER5 "127.0.0.1:$base" 0 "$GPUS" 5000000 > "$out/controller.log" 2>&1 &
cpid=$!
pids+=($cpid)

# 1. native (its LoadModel during start-up loads the copies the HTTP phase uses too)
CLOCKWORK_CLIENT_LOG="$out/client.tsv" "$BUILD/client" "127.0.0.1:$CLOCKWORK_CONTROLLER_PORT" \
  slo-exp-1 tiny "$COPIES" fixed-rate "$RATE" 20 20 2 mul "$SECS" > "$out/client.log" 2>&1 &
clpid=$!
for _ in $(seq 300); do grep -q "Admitting inference requests" "$out/controller.log" && break; sleep 0.1; done
t0=$(now); c0=$(cpu_ticks $cpid)
wait $clpid || true
t1=$(now); c1=$(cpu_ticks $cpid)
sleep 2 # the request log is flushed once a second
n_native=$(rows)

# 2. HTTP: the same model, SLO factor 20, each connection pausing CONNS/RATE s between requests
cat > "$out/infer.lua" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"inputs":[{"name":"INPUT0","datatype":"FP32","shape":[1,24],"data":[' ..
  string.rep("0.5,", 23) .. '0.5]}],"parameters":{"slo_factor":20}}'
function delay() return $(awk -v c="$CONNS" -v r="$RATE" 'BEGIN{printf "%d", 1000 * c / r}') end
LUA
curl -s -o /dev/null -d "$(printf '{"inputs":[{"name":"INPUT0","datatype":"FP32","shape":[1,24],"data":[%s0]}]}' \
  "$(printf '0,%.0s' $(seq 23))")" "http://127.0.0.1:$CLOCKWORK_HTTP_PORT/v2/models/tiny/infer"
t2=$(now); c2=$(cpu_ticks $cpid)
wrk -t 2 -c "$CONNS" -d "${SECS}s" --latency -s "$out/infer.lua" \
  "http://127.0.0.1:$CLOCKWORK_HTTP_PORT/v2/models/tiny/infer" > "$out/wrk.log" 2>&1
t3=$(now); c3=$(cpu_ticks $cpid)
sleep 2
n_all=$(rows)

# 3. HTTP paced as the native client
printf '{"inputs":[{"name":"INPUT0","datatype":"FP32","shape":[1,24],"data":[%s0.5]}],"parameters":{"slo_factor":20}}' \
  "$(printf '0.5,%.0s' $(seq 23))" > "$out/infer.json"
t4=$(now); c4=$(cpu_ticks $cpid)
"$BUILD/http_pace" 127.0.0.1 "$CLOCKWORK_HTTP_PORT" /v2/models/tiny/infer "$out/infer.json" "$RATE" "$SECS" "$CONNS" \
  "$out/pace.tsv" > "$out/pace.log" 2>&1 || { cat "$out/pace.log"; echo "http_pace failed"; }
t5=$(now); c5=$(cpu_ticks $cpid)
sleep 2
n_paced=$(rows)
kill -INT $cpid $wpid; wait $cpid $wpid 2>/dev/null || true

read -r nat50 nat99 nat_ok <<< "$(pcts "$out/clockwork_request_log.tsv" 1 "$n_native" 3 7)"
read -r http50 http99 http_ok <<< "$(pcts "$out/clockwork_request_log.tsv" $((n_native + 2)) "$n_all" 3 7)"
read -r pc50 pc99 pc_ok <<< "$(pcts "$out/clockwork_request_log.tsv" $((n_all + 1)) "$n_paced" 3 7)"
awk -F'\t' -v OFS='\t' 'BEGIN {print "latency\tstatus"} {print $1, ($2 == 200 ? 0 : $2)}' "$out/pace.tsv" \
  > "$out/pace0.tsv" # pcts' layout: a header, status 0 for success
read -r pe50 pe99 _ <<< "$(pcts "$out/pace0.tsv" 1 '$' 2 1)"
pace_non200=$(awk -F'\t' '$2 != 200' "$out/pace.tsv" | wc -l)
read -r cl50 cl99 _ <<< "$(pcts "$out/client.tsv" 1 '$' 7 6)"
non200=$(awk '/Non-2xx/ {print $NF}' "$out/wrk.log"); non200=${non200:-0}
wrk50=$(awk '$1 == "50%" {print $2}' "$out/wrk.log"); wrk99=$(awk '$1 == "99%" {print $2}' "$out/wrk.log")
awk -v t0="$t0" -v t1="$t1" -v t2="$t2" -v t3="$t3" -v c0="$c0" -v c1="$c1" -v c2="$c2" -v c3="$c3" -v hz="$TICK" \
    -v nn="$n_native" -v nh="$((n_all - n_native - 1))" -v nok="$nat_ok" -v hok="$http_ok" \
    -v n50="$nat50" -v n99="$nat99" -v h50="$http50" -v h99="$http99" -v w50="$wrk50" -v w99="$wrk99" \
    -v e50="$cl50" -v e99="$cl99" -v t4="$t4" -v t5="$t5" -v c4="$c4" -v c5="$c5" -v np="$((n_paced - n_all))" \
    -v pok="$pc_ok" -v p50="$pc50" -v p99="$pc99" -v pe50="$pe50" -v pe99="$pe99" -v pbad="$pace_non200" \
    -v bad="$non200" -v rate="$RATE" -v secs="$SECS" -v conns="$CONNS" 'BEGIN {
  nr = nn / (t1 - t0); hr = nh / (t3 - t2)
  ncpu = (c1 - c0) / hz / (t1 - t0); hcpu = (c3 - c2) / hz / (t3 - t2)
  printf "== tiny model, target %d r/s for %d s per phase; controller INFER5 + worker_dummy\n", rate, secs
  printf "native: %7.0f r/s (%d ok)  controller_cpu=%.3f core (%.3f per 1000 r/s)", nr, nok, ncpu, 1000 * ncpu / nr
  printf "  ctl latency p50=%.3fms p99=%.3fms  client end-to-end p50=%.3fms p99=%.3fms\n", n50, n99, e50, e99
  printf "http:   %7.0f r/s (%d ok, %d non-2xx, %d connections)", hr, hok, bad, conns
  printf "  controller_cpu=%.3f core (%.3f per 1000 r/s)", hcpu, 1000 * hcpu / hr
  printf "  ctl latency p50=%.3fms p99=%.3fms  wrk end-to-end p50=%s p99=%s\n", h50, h99, w50, w99
  printf "ratio http/native: cpu per request %.2f, ctl latency p50 %.2f (%+.0f us), p99 %.2f;",
    (hcpu / hr) / (ncpu / nr), h50 / n50, 1000 * (h50 - n50), h99 / n99
  printf " extra controller cpu at %d r/s: %.3f core; end-to-end p50 http - native: %+.0f us\n", rate,
    rate * (hcpu / hr - ncpu / nr), (w50 ~ /ms$/ ? 1000 * w50 : w50 + 0) - 1000 * e50
  pr = np / (t5 - t4); pcpu = (c5 - c4) / hz / (t5 - t4)
  printf "http paced like native (bench/http_pace.c): %7.0f r/s (%d ok, %d non-200, %d connections)", pr, pok, pbad,
    conns
  printf "  controller_cpu=%.3f core (%.3f per 1000 r/s)", pcpu, 1000 * pcpu / pr
  printf "  ctl latency p50=%.3fms p99=%.3fms  end-to-end p50=%.3fms p99=%.3fms\n", p50, p99, pe50, pe99
  printf "like for like, http paced/native: cpu per request %.2f, ctl latency p50 %+.0f us;", (pcpu / pr) / (ncpu / nr),
    1000 * (p50 - n50)
  printf " extra controller cpu at %d r/s: %.3f core; end-to-end p50 %+.0f us (outside the controller %+.0f us)\n",
    rate, rate * (pcpu / pr - ncpu / nr), 1000 * (pe50 - e50), 1000 * ((pe50 - p50) - (e50 - n50))
}'
