#!/usr/bin/env bash
# The GPU check, for a machine with an NVIDIA GPU, its driver and cuDNN/cuBLAS (as system
# libraries or Python packages) but none of our Debian libraries and no network. Runs the
# binaries that scripts/package-gpu.sh built elsewhere, in one go, one log:
#   1. environment: GPU, driver, python packages; the bundle's libraries resolve
#   2. profile check (GPU line); GPU unit tests (kernels vs CPU, worker backend ops, plans,
#      small models at batch 1-8 vs the CPU backend)
#   3. ONNX node conformance on the GPU
#   4. ResNet-18/50, MobileNet and small models: generated (python3 onnx) or carried, converted
#      and measured on the GPU; outputs of the GPU vs the CPU backend vs ONNX Runtime on seeded
#      inputs, |a - b| <= 1e-4 + 1e-3 |b| (the ORT comparison's tolerance)
#   5. exec time percentiles (check_model) and bench/gpu_exec.sh (10,000 runs, ResNet-50 b1/b8)
#   6. worker --device cuda + controller INFER5 + client for 20 s: telemetry summary
# and prints a summary. Budget: under 8 minutes.
#   usage: bash tests/gpu/run.sh [BUNDLE_DIR]     (default gpu-bundle/ in the repository)
#   env:   OUT (results directory; default /tmp/cw-gpu-results), BENCH_RUNS (10000), SERVE_SECONDS (20),
#          PY (python3), DEVICE (cuda; cpu rehearses the script's logic where there is no GPU: the GPU-only
#          checks then note the missing GPU instead of failing),
#          MODELS (what to generate: default resnet50 resnet18 mobilenet tiny_cnn mobilenet_tiny resnet18_small)
set -u
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
BUNDLE="${1:-$ROOT/gpu-bundle}"
RESULTS="${OUT:-/tmp/cw-gpu-results}"
W=/tmp/cw-gpu
PY="${PY:-python3}"
DEV="${DEVICE:-cuda}"
START=$(date +%s)
rm -rf "$W"
mkdir -p "$W" "$RESULTS"
exec > >(tee "$RESULTS/gpu-run.log") 2>&1

SUMMARY=()
FAILED=0
note() { SUMMARY+=("$*"); echo ">> $*"; }
bad() { SUMMARY+=("FAIL: $*"); echo ">> FAIL: $*"; FAILED=$((FAILED + 1)); }
step() { echo; echo "######## $* (t=$(( $(date +%s) - START )) s)"; }
elapsed() { echo $(( $(date +%s) - START )); }
# A GPU-only check that found no GPU: a failure, except in a DEVICE=cpu rehearsal (no GPU expected).
no_gpu() { if [ "$DEV" = cpu ]; then note "rehearsal (DEVICE=cpu), no GPU: $*"; else bad "$*"; fi; }
finish() {
  step "summary"
  printf '%s\n' "${SUMMARY[@]}" | tee "$RESULTS/summary.txt"
  echo "failures: $FAILED, total $(elapsed) s"
  exec 1>&- 2>&- # let tee write the last lines before the results are collected
  sleep 1
  exit $(( FAILED > 0 ))
}

step "1. environment"
nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.sm,clocks.max.sm,temperature.gpu,power.draw \
  --format=csv 2>&1 || nvidia-smi 2>&1 | head -20
uname -a
$PY --version 2>&1
HAVE_ONNX=0; HAVE_ORT=0; HAVE_NP=0
$PY -c "import numpy" 2>/dev/null && HAVE_NP=1
$PY -c "import onnx, numpy" 2>/dev/null && HAVE_ONNX=1
$PY -c "import onnxruntime, numpy" 2>/dev/null && HAVE_ORT=1
$PY -c "import numpy, onnx, onnxruntime; print('numpy', numpy.__version__, 'onnx', onnx.__version__, 'onnxruntime',
  onnxruntime.__version__)" 2>&1 | tail -1
[ -f "$BUNDLE/bundle.tgz" ] ||
  { bad "no $BUNDLE/bundle.tgz (run scripts/package-gpu.sh and carry its folder)"; finish; }
tar -C "$W" -xzf "$BUNDLE/bundle.tgz" || { bad "cannot unpack the bundle"; finish; }
cat "$W/MANIFEST"
BIN="$W/bin"

# CUDA libraries: the Python packages' lib folders (nvidia/*/lib), then the driver's folders.
PYLIBS="$($PY - <<'PY' 2>/dev/null
import glob, os, site, sys
dirs = []
for base in list(site.getsitepackages()) + [site.getusersitepackages()] + sys.path:
    for d in sorted(glob.glob(os.path.join(base, "nvidia", "*", "lib"))):
        if os.path.isdir(d) and d not in dirs:
            dirs.append(d)
print(":".join(dirs))
PY
)"
DRIVER_LIBS=/usr/local/nvidia/lib64:/usr/local/nvidia/lib
export LD_LIBRARY_PATH="$W/lib${PYLIBS:+:$PYLIBS}:$DRIVER_LIBS${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
missing() { for b in "$BIN"/*; do ldd "$b" 2>&1 | grep "not found"; done | sort -u; }
if [ -n "$(missing)" ]; then # last resort: look for the missing libraries anywhere on the machine
  for lib in $(missing | awk '{print $1}'); do
    found="$(find / -xdev -name "$lib" -not -path "/proc/*" 2>/dev/null | head -1)"
    [ -n "$found" ] && LD_LIBRARY_PATH="$LD_LIBRARY_PATH:$(dirname "$found")"
  done
  export LD_LIBRARY_PATH
fi
echo "LD_LIBRARY_PATH=$LD_LIBRARY_PATH"
if [ -n "$(missing)" ]; then
  missing
  bad "shared libraries not found (above): nothing can run"
  finish
fi
ldd "$BIN/worker" | grep -E "cudnn|cublas|dnnl|stdc"
note "environment: $(nvidia-smi --query-gpu=name,driver_version --format=csv,noheader 2>/dev/null | head -1);" \
     "python onnx=$HAVE_ONNX onnxruntime=$HAVE_ORT"

step "2. profile check and GPU unit tests"
"$BIN/profile" check 2>&1 | grep -E "CUDA|checks"
"$BIN/profile" check 2>&1 | grep -q "\[ OK \] CUDA devices" || no_gpu "profile check does not see the GPU"
for t in test_cuda_plan test_cuda_gpu_kernels test_cuda_gpu_backend test_cuda_gpu_models; do
  PY=$PY CLOCKWORK_SOURCE_DIR="$ROOT" timeout 180 "$BIN/$t" > "$W/$t.log" 2>&1
  rc=$?
  grep -vE "^\[ +(RUN|OK) +\]" "$W/$t.log" | tail -n 40
  if [ $rc -eq 0 ]; then
    note "unit $t: PASS ($(grep -c '^\[       OK \]' "$W/$t.log") cmocka tests; $(tail -n 1 "$W/$t.log"))"
  elif [ $rc -eq 77 ]; then
    no_gpu "unit $t skipped: no CUDA device"
  else
    bad "unit $t (exit $rc)"
  fi
done

step "3. ONNX node conformance on the GPU"
CW_ONNX_TESTDATA="$W/onnx-testdata" timeout 240 "$BIN/test_cuda_gpu_conformance" > "$RESULTS/conformance.txt" 2>&1
rc=$?
grep -vE "^PASS " "$RESULTS/conformance.txt" | tail -n 40
line="$(tail -1 "$RESULTS/conformance.txt")"
if [ $rc -eq 0 ]; then note "$line"; elif [ $rc -eq 77 ]; then no_gpu "conformance: $line"; else
  bad "conformance (exit $rc): $line"; fi

step "4. models: convert on the GPU, outputs vs the CPU backend and ONNX Runtime"
mkdir -p "$W/onnx-gen" "$W/zoo"
if [ $HAVE_ONNX = 1 ]; then
  MODELS="${MODELS:-resnet50 resnet18 mobilenet tiny_cnn mobilenet_tiny resnet18_small}"
  timeout 180 $PY "$ROOT/tools/gen_onnx_models.py" "$W/onnx-gen" $MODELS > "$W/gen.log" 2>&1 ||
    { cat "$W/gen.log"; bad "model generation failed"; }
else
  MODELS="tiny_cnn mobilenet_tiny resnet18_small"
  cp "$W"/onnx/*.onnx "$W/onnx-gen/"
  note "python3 has no onnx: ResNet-18/50 and MobileNet not checked (carried small models only)"
fi
CONVERTED=""
for m in $MODELS; do
  [ -f "$W/onnx-gen/$m.onnx" ] || continue
  if timeout 120 "$BIN/convert" -d "$DEV" -r 3 -b 1,2,4,8,16 "$W/onnx-gen/$m.onnx" "$W/zoo/$m" \
       > "$W/convert.$m.log" 2>&1; then
    CONVERTED="$CONVERTED $m"
    echo "$m: $(grep -E "^weights load" "$W/convert.$m.log")"
  else
    cat "$W/convert.$m.log"
    bad "convert -d $DEV $m"
  fi
done

# compare NAME BATCH: seeded input; GPU, CPU (8 cores) and ORT outputs; pairwise errors.
compare() {
  local m=$1 b=$2 d="$W/cmp/$1.b$2"
  mkdir -p "$d"
  local in_bytes; in_bytes="$(sed -n 's/^input_size = \([0-9]*\)L;/\1/p' "$W/zoo/$m/model.info")"
  $PY -c 'import numpy as np, sys
np.random.default_rng(7).uniform(-1, 1, int(sys.argv[2]) // 4).astype(np.float32).tofile(sys.argv[1])' \
    "$d/in.f32" $(( in_bytes * b )) || { bad "$m b$b: no input (numpy)"; return; }
  timeout 120 "$BIN/check_model" -d "$DEV" -b "$b" -i "$d/in.f32" -o "$d/gpu.f32" "$W/zoo/$m" > "$d/gpu.log" 2>&1 ||
    { cat "$d/gpu.log"; bad "$m b$b: GPU run failed"; return; }
  timeout 180 "$BIN/check_model" -d cpu -c 8 -b "$b" -i "$d/in.f32" -o "$d/cpu.f32" "$W/zoo/$m" > "$d/cpu.log" 2>&1 ||
    { cat "$d/cpu.log"; bad "$m b$b: CPU run failed"; return; }
  if [ $HAVE_ORT = 1 ]; then
    timeout 120 $PY - "$W/onnx-gen/$m.onnx" "$d/in.f32" "$d/ort.f32" "$b" <<'PY' > "$d/ort.log" 2>&1 || cat "$d/ort.log"
import sys
import numpy as np
import onnxruntime as ort
s = ort.InferenceSession(sys.argv[1], providers=["CPUExecutionProvider"])
i = s.get_inputs()[0]
shape = [int(sys.argv[4])] + [int(x) for x in i.shape[1:]]
x = np.fromfile(sys.argv[2], np.float32).reshape(shape)
s.run(None, {i.name: x})[0].astype(np.float32).tofile(sys.argv[3])
PY
  fi
  $PY - "$d" "$m b$b" <<'PY'
import os, sys
import numpy as np
d, name = sys.argv[1], sys.argv[2]
def load(k):
    path = os.path.join(d, k + ".f32")
    return np.fromfile(path, np.float32) if os.path.exists(path) else None
gpu, cpu, ref = load("gpu"), load("cpu"), load("ort")
ok = gpu is not None and cpu is not None and np.all(np.isfinite(gpu))
parts = []
for label, a, b in (("gpu-cpu", gpu, cpu), ("gpu-ort", gpu, ref), ("cpu-ort", cpu, ref)):
    if a is None or b is None:
        continue
    if a.size != b.size:
        parts.append("%s: sizes %d vs %d" % (label, a.size, b.size)); ok = ok and label == "cpu-ort"; continue
    err = np.abs(a.astype(np.float64) - b)
    out = int(np.sum(err > 1e-4 + 1e-3 * np.abs(b)))
    parts.append("%s max abs err %.3g (%d outside)" % (label, err.max(), out))
    if label.startswith("gpu") and out:
        ok = False
print("%s %s: %d values, max |gpu| %.3g; %s" % ("PASS" if ok else "FAIL", name, 0 if gpu is None else gpu.size,
      0 if gpu is None else float(np.abs(gpu).max()), "; ".join(parts)))
sys.exit(0 if ok else 1)
PY
  local rc=$?
  [ $rc -eq 0 ] && note "compare $m b$b: PASS" || bad "compare $m b$b (above)"
}
if [ $HAVE_NP = 1 ]; then
  for m in $CONVERTED; do
    case $m in resnet50|resnet18|mobilenet) compare "$m" 1; compare "$m" 8 ;; *) compare "$m" 2 ;; esac
  done
else
  bad "python3 has no numpy: outputs not compared"
fi

step "5. exec times (check_model -d cuda, 200 runs) and bench/gpu_exec.sh"
for m in $CONVERTED; do
  timeout 120 "$BIN/check_model" -d "$DEV" -r 200 "$W/zoo/$m" > "$W/check.$m.log" 2>&1 || bad "check_model -d $DEV $m"
  cat "$W/check.$m.log"
done
for b in 1 8; do
  l="$(grep "^  b$b " "$W/check.resnet50.log" 2>/dev/null)"
  [ -n "$l" ] && note "resnet50 b$b (200 runs):$(sed 's/ *outputs.*//; s/  */ /g' <<<"$l")"
done
if [ -n "$CONVERTED" ] && [ "$(elapsed)" -lt 300 ]; then
  BM="resnet50"; [[ " $CONVERTED " == *" resnet50 "* ]] || BM="$(awk '{print $1}' <<<"$CONVERTED")"
  DEVICE="$DEV" MODELS="$BM" BATCHES=1,8 RUNS="${BENCH_RUNS:-10000}" ONNX_DIR="$W/onnx-gen" PY=$PY \
    timeout 240 bash "$ROOT/bench/gpu_exec.sh" "$BIN" > "$RESULTS/bench.txt" 2>&1 || bad "bench/gpu_exec.sh (exit $?)"
  cat "$RESULTS/bench.txt"
  while read -r l; do note "bench $l"; done < <(grep -E "^$BM +[0-9]+ \||ms/MB" "$RESULTS/bench.txt")
else
  note "bench skipped (t=$(elapsed) s, over budget, or nothing converted)"
fi

step "6. serving: worker --device cuda + controller INFER5 + client for ${SERVE_SECONDS:-20} s"
SM="resnet50"; [[ " $CONVERTED " == *" resnet50 "* ]] || SM="$(awk '{print $1}' <<<"$CONVERTED")"
if [ -n "$SM" ]; then
  S="$W/serve"; mkdir -p "$S"
  cat > "$S/gpu.cfg" <<'CFG'
WorkerConfig: { memory_settings: { weights_cache_size = 4294967296L; weights_cache_page_size = 16777216L;
  io_pool_size = 268435456L; workspace_pool_size = 1073741824L; host_io_pool_size = 268435456L; }; };
CFG
  export CLOCKWORK_CONFIG_FILE="$S/gpu.cfg" CLOCKWORK_MODEL_DIR="$W/zoo" CLOCKWORK_LOG_DIR="$S"
  WPORT=$(( 20000 + ($$ % 2000) * 4 ))
  export CLOCKWORK_CONTROLLER_PORT=$(( WPORT + 1 )) CLOCKWORK_STARTUP_QUIET_MS=500
  "$BIN/worker" --device "$DEV" -n 1 -p $WPORT > "$RESULTS/worker.log" 2>&1 &
  WPID=$!
  for _ in $(seq 100); do grep -q "listening on" "$RESULTS/worker.log" && break; sleep 0.2; done
  "$BIN/controller" INFER5 127.0.0.1:$WPORT > "$RESULTS/controller.log" 2>&1 &
  CPID=$!
  sleep 1
  timeout -s INT -k 10 "${SERVE_SECONDS:-20}" "$BIN/client" "127.0.0.1:$CLOCKWORK_CONTROLLER_PORT" \
    slo-exp-1 "$SM" 4 poisson 400 10 1000 2 mul 60 > "$S/client.log" 2>&1
  sleep 1
  kill -INT $CPID 2>/dev/null; kill -INT $WPID 2>/dev/null
  for _ in $(seq 50); do kill -0 $WPID 2>/dev/null || kill -0 $CPID 2>/dev/null || break; sleep 0.2; done
  kill -KILL $WPID $CPID 2>/dev/null
  grep -E "GPU|CUDA|ERROR|LoadModelFromDisk" "$RESULTS/worker.log" | head -n 20
  tail -n 5 "$RESULTS/client.log" "$S/client.log" 2>/dev/null
  cp "$S"/clockwork_*_log.tsv "$RESULTS/" 2>/dev/null
  if [ -f "$S/clockwork_request_log.tsv" ]; then
    tel="$($PY "$ROOT/tools/analyze_telemetry.py" "$S" 2>&1)"
    echo "$tel"
    while read -r l; do note "serve $SM: $l"; done <<<"$tel"
    $PY - "$S/clockwork_request_log.tsv" <<'PY' || bad "serving: too few successful requests"
import sys
rows = [r.split("\t") for r in open(sys.argv[1]).read().splitlines()[1:]]
ok = sum(1 for r in rows if r[2] == "0")
print("requests=%d ok=%d" % (len(rows), ok))
sys.exit(0 if rows and ok / len(rows) > 0.9 else 1)
PY
  else
    bad "serving: no telemetry (see worker.log / controller.log)"
  fi
  errors="$(grep -c "ERROR" "$RESULTS/worker.log")"
  [ "$errors" = 0 ] || bad "serving: $errors ERROR lines in the worker log"
else
  bad "serving skipped: no converted model"
fi
finish
