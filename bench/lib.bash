# Shared helpers for benches that compare builds run alternately on a shared machine (sourced,
# not run): CPU accounting of a process, extra worker options for the builds that know them,
# and one median line per build over the rounds.

TICK=$(getconf CLK_TCK)

# cpu_ticks PID: user + system clock ticks the process has used so far.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

# cores TICKS_BEFORE TICKS_AFTER SECONDS: CPU cores used on average.
cores() { awk -v a="$1" -v b="$2" -v t="$3" -v hz="$TICK" 'BEGIN{printf "%.3f", (b-a)/hz/t}'; }

# worker_args PROGRAM: $WORKER_ARGS when PROGRAM's -h mentions its first option, else nothing, so
# a build from before the option existed runs with its defaults.
worker_args() {
  local first="${WORKER_ARGS:-}"
  first="${first%% *}"
  if [ -n "$first" ] && "$1" -h 2>&1 | grep -q -- "$first"; then echo "$WORKER_ARGS"; fi
}

# machine_line: the load and the busiest processes, to say what else was running.
machine_line() {
  echo "load average $(cut -d' ' -f1-3 /proc/loadavg), $(nproc) CPUs; busiest processes:" \
    "$(ps -eo pcpu,comm --sort=-pcpu | awk 'NR>1 && NR<=6 {printf "%s(%s%%) ", $2, $1}')"
}

# print_medians RESULTS FORMAT LABEL...: RESULTS holds lines "LABEL v1 v2 ..."; prints, per LABEL,
# printf FORMAT with the LABEL and the median of each column over its lines.
print_medians() {
  local results="$1" format="$2"
  shift 2
  for label in "$@"; do
    awk -v b="$label" -v fmt="$format" '
      $1 == b { n++; if (NF - 1 > cols) cols = NF - 1; for (i = 2; i <= NF; i++) v[i, n] = $i }
      function med(c,   a, i, j, t) { for (i = 1; i <= n; i++) a[i] = v[c, i]
        for (i = 1; i <= n; i++)
          for (j = i + 1; j <= n; j++) if (a[j] + 0 < a[i] + 0) { t = a[i]; a[i] = a[j]; a[j] = t }
        return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2 }
      END { if (!n) exit; s = b; for (c = 2; c <= cols + 1; c++) m[c] = med(c)
            printf fmt, s, m[2], m[3], m[4], m[5], m[6], m[7], m[8], m[9] }' "$results"
  done
}
