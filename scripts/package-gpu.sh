#!/usr/bin/env bash
# Builds what tests/gpu/run.sh runs on a GPU machine that has the NVIDIA driver and cuDNN/
# cuBLAS (e.g. as Python packages) but none of our Debian libraries and no network: a Release
# build with CUDA, the programs and GPU tests stripped, the non-system shared libraries they
# need (libuv, protobuf-c, libconfig, lz4, oneDNN, libgomp, cmocka; not glibc, libstdc++ or
# any CUDA library), the ONNX conformance cases and small ONNX models, packed into
# OUT_DIR/bundle.tgz (default gpu-bundle/, git-ignored; hand it to the device tool as a carry path).
#   usage: bash scripts/package-gpu.sh [OUT_DIR]
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
OUT="${1:-$ROOT/gpu-bundle}"
BUILD="$ROOT/build-gpu"
TARGETS=(worker controller client convert check_model profile
         test_cuda_gpu_kernels test_cuda_gpu_backend test_cuda_gpu_conformance test_cuda_gpu_models test_cuda_plan)
TESTDATA=/usr/share/libonnx-testdata/data/node

LOG="$BUILD/package.log"
mkdir -p "$BUILD"
CMAKE_BUILD_TYPE=Release bash "$ROOT/scripts/build.sh" "$BUILD" -DCLOCKWORK_CUDA=ON > "$LOG" 2>&1 ||
  { tail -n 30 "$LOG"; echo "package-gpu: build failed (log: $LOG)"; exit 1; }
STAGE="$(mktemp -d /tmp/cw-gpu-stage.XXXXXX)"
trap 'rm -rf "$STAGE"' EXIT
mkdir -p "$STAGE/bin" "$STAGE/lib" "$STAGE/onnx" "$STAGE/onnx-testdata" "$OUT"

for t in "${TARGETS[@]}"; do
  f="$BUILD/$t"
  [ -x "$f" ] || f="$BUILD/tests/$t"
  [ -x "$f" ] || { echo "package-gpu: $t was not built"; exit 1; }
  cp "$f" "$STAGE/bin/" && strip "$STAGE/bin/$t"
done

# Shared libraries to carry: everything ldd resolves except the C/C++ runtime (present on any
# Linux) and CUDA's own (the GPU machine provides those matching its driver).
skip='^(linux-vdso|ld-linux|libc\.|libm\.|libdl\.|libpthread\.|librt\.|libstdc\+\+|libgcc_s|libcud|libcublas|libnvidia)'
for b in "$STAGE"/bin/*; do
  ldd "$b" | awk '$2 == "=>" && $3 ~ /^\// { print $1, $3 }'
done | sort -u | while read -r name path; do
  [[ "$name" =~ $skip ]] || cp -L "$path" "$STAGE/lib/$name"
done

# The ONNX node cases the conformance tests cover, and small models for when the GPU machine's
# python3 cannot generate ONNX (ResNet-18/50 are generated there: their weights are too big to carry).
for p in conv_ maxpool_ averagepool_ batchnorm_ gemm_ relu add mul concat_ softmax_ flatten_ globalaveragepool \
         globalmaxpool sigmoid clip reshape_ matmul_ dropout_; do # tests/unit/onnx_cases.h's list
  for d in "$TESTDATA/test_$p"*; do
    [ -d "$d" ] && [[ "$d" != *_expanded* ]] && cp -r "$d" "$STAGE/onnx-testdata/"
  done
done
/usr/bin/python3 "$ROOT/tools/gen_onnx_models.py" "$STAGE/onnx" tiny_cnn mobilenet_tiny resnet18_small > /dev/null

{
  echo "clockwork GPU bundle: $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)" \
       "built $(date -u +%Y-%m-%dT%H:%MZ) on $(uname -m), glibc $(ldd --version | head -1 | awk '{print $NF}')"
  /usr/local/cuda/bin/nvcc --version | tail -1
  echo "GPU code: $(grep -o "code=\[[a-z_0-9]*\]" "$BUILD/CMakeFiles/cw_backend_cuda.dir/flags.make" | tr '\n' ' ')"
  echo "needs at run time: libcudnn.so.9, libcublas.so.13 + libcublasLt.so.13 (LD_LIBRARY_PATH), NVIDIA driver >= 580"
  echo "carried libraries:"; ls "$STAGE/lib"
} > "$STAGE/MANIFEST"
tar -C "$STAGE" -czf "$OUT/bundle.tgz" .
cp "$STAGE/MANIFEST" "$OUT/MANIFEST"
echo "package-gpu: $OUT/bundle.tgz, $(du -h "$OUT/bundle.tgz" | cut -f1) ($(du -sh "$STAGE" | cut -f1) unpacked)"
