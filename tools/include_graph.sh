#!/usr/bin/env bash
# Prints which component includes which (folder -> folder, with the number of #include lines),
# from the quoted includes of src/ and apps/, and flags every edge that points up or sideways
# in the layering of docs/architecture.md:
#   apps -> sim -> controller/worker/client/backend/select -> workload/backend -> net/model -> proto -> common
# A component is src/X, except src/backend/X (backend/cpu, backend/emu, backend/cuda; backend for
# src/backend/ itself: the interface backend.h and what every backend shares). backend/select,
# the apps' --device choice, is the one place that knows every concrete backend, so it sits above
# them (beside worker, which never sees a concrete backend).
# Exit status 1 when an upward edge exists (sideways edges are reported, not failed).
#   usage: tools/include_graph.sh [REPO_ROOT]
set -euo pipefail
ROOT="${1:-$(cd "$(dirname "$0")/.." && pwd)}"
cd "$ROOT"

find src apps -name '*.[ch]' | sort | while read -r f; do
  dir="$(dirname "$f")"
  sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' "$f" | while read -r inc; do
    if [ -e "$dir/$inc" ] || [[ "$inc" != */* ]]; then
      target="$dir/$inc"  # relative to the including file (or generated next to it: onnx.pb-c.h)
    else
      target="src/$inc"   # relative to src/ (or generated: proto/clockwork.pb-c.h)
    fi
    echo "$f $target"
  done
done | awk '
function comp(p,   a, n) {
  n = split(p, a, "/")
  if (a[1] == "apps") return "apps"
  if (a[2] == "backend") return (n > 3) ? "backend/" a[3] : "backend"
  return a[2]
}
function level(c) {
  if (c == "apps") return 6
  if (c == "sim") return 5
  if (c == "controller" || c == "worker" || c == "client" || c == "backend/select") return 4
  if (c == "workload" || c ~ /^backend/) return 3
  if (c == "net" || c == "model") return 2
  if (c == "proto") return 1
  if (c == "common") return 0
  return -1
}
{ from = comp($1); to = comp($2); if (from != to) n[from " -> " to]++ }
END {
  up = 0
  for (e in n) {
    split(e, p, " -> ")
    lf = level(p[1]); lt = level(p[2])
    flag = ""
    if (lf < 0 || lt < 0) flag = "  UNKNOWN COMPONENT"
    else if (lt > lf) { flag = "  UPWARD"; up++ }
    else if (lt == lf && !(p[1] ~ /^backend\// && p[2] == "backend")) flag = "  sideways"
    printf "%-36s %3d%s\n", e, n[e], flag | "sort"
  }
  close("sort")
  printf "%d upward edge(s)\n", up
  exit up > 0
}'
