#!/usr/bin/env bash
# Formats every tracked C source and header with clang-format 14 and the repository's .clang-format.
#   scripts/format.sh           rewrites the files in place
#   scripts/format.sh --check   changes nothing; lists the files that differ and exits 1 if any
# Another clang-format version may format differently: --check then skips with a note (exit 0),
# formatting refuses (exit 2).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
check=0
case "${1:-}" in
  --check) check=1 ;;
  "") ;;
  *) echo "usage: scripts/format.sh [--check]" >&2; exit 2 ;;
esac
fmt=""
for c in clang-format-14 clang-format; do
  if command -v "$c" >/dev/null && "$c" --version | grep -q "version 14\."; then fmt="$c"; break; fi
done
if [ -z "$fmt" ]; then
  echo "scripts/format.sh: clang-format 14 not found (apt-get install clang-format)" >&2
  [ "$check" = 1 ] && { echo "format check skipped"; exit 0; }
  exit 2
fi
mapfile -t files < <(git ls-files '*.c' '*.h')
if [ "$check" = 0 ]; then
  "$fmt" -i "${files[@]}"
  exit 0
fi
out="$("$fmt" --dry-run --Werror "${files[@]}" 2>&1)" && { echo "format check: ${#files[@]} files formatted"; exit 0; }
grep -oE '^[^: ]+\.[ch]:' <<< "$out" | sort -u | sed 's/:$//; s/^/not formatted: /'
echo "run scripts/format.sh to format them"
exit 1
