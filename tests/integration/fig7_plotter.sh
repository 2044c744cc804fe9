#!/usr/bin/env bash
# experiments/sec63_fig7/plotter.py on the committed synthetic fixture
# (experiments/sec63_fig7/tests/fixtures): checks the satisfaction table per SLO step and
# configuration against the known deadline_met counts, the upper bound, the series TSV, the
# printed table and the figure; then two log directories at once (INFER5 and INFER6 runs), each
# run labelled with its scheduler. Skips (77) when matplotlib is missing.
set -euo pipefail
BUILD="${1:?usage: fig7_plotter.sh BUILD_DIR SOURCE_DIR}"
SRC="${2:?usage: fig7_plotter.sh BUILD_DIR SOURCE_DIR}"
EXP="$SRC/experiments/sec63_fig7"
if ! /usr/bin/python3 -c "import matplotlib" 2>/dev/null; then
  echo "SKIP: /usr/bin/python3 has no matplotlib (bash scripts/install-deps.sh installs python3-matplotlib)"
  exit 77
fi
TMP="$(mktemp -d /tmp/cw-fig7p.XXXXXX)"
trap 'rm -rf "$TMP"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

/usr/bin/python3 "$EXP/plotter.py" -h > "$TMP/help.txt" || fail "plotter.py -h failed"
grep -q "usage: plotter.py" "$TMP/help.txt" || fail "no usage line in -h"
grep -q -- "-l LOGDIR, --logdir LOGDIR" "$TMP/help.txt" || fail "-h does not show -l LOGDIR, --logdir LOGDIR"
grep -q "Path to the log files" "$TMP/help.txt" || fail "-h does not describe --logdir"
if /usr/bin/python3 "$EXP/plotter.py" -l "$TMP/nonexistent" > /dev/null 2>&1; then fail "accepted a missing logdir"; fi

(cd "$TMP" && /usr/bin/python3 "$EXP/plotter.py" -l "$EXP/tests/fixtures") > "$TMP/out.txt" 2>&1 \
  || { cat "$TMP/out.txt"; fail "plotter.py failed on the fixture"; }
for f in "fig7_dist=poisson.pdf" "fig7_dist=poisson.png" fig7_series.tsv fig7_by_slo.tsv fig7_table.txt; do
  [ -s "$TMP/graphs/$f" ] || fail "graphs/$f missing or empty"
done
head -c 5 "$TMP/graphs/fig7_dist=poisson.pdf" | grep -q "%PDF-" || fail "the figure is not a PDF"
cmp -s <(grep -v '^Wrote ' "$TMP/out.txt") "$TMP/graphs/fig7_table.txt" || fail "printed table differs from fig7_table.txt"

/usr/bin/python3 - "$TMP/graphs" <<'PY' || fail "table values"
import csv, sys
g = sys.argv[1]
rows = list(csv.DictReader(open(g + "/fig7_by_slo.tsv"), delimiter="\t"))
got = {(r["N"], r["R"], r["slo_factor"]): r for r in rows}
expect = {("12", "600"): (6, 30, 54, 60), ("48", "2400"): (0, 15, 45, 60)}
steps = ("1", "1.5", "2.25", "3.375")
assert len(rows) == 8, rows
for (n, rate), mets in expect.items():
    for k, (s, m) in enumerate(zip(steps, mets)):
        r = got[(n, rate, s)]
        assert int(r["requests"]) == 60 and int(r["met"]) == m, r
        assert abs(float(r["satisfaction"]) - m / 60) < 1e-6, r
        assert abs(float(r["slo_ms"]) - 2.9 * float(s)) < 1e-3, r
        assert abs(float(r["start_s"]) - k) < 1e-6, r
# Upper bound: capacity 6 GPUs x best b/exec(b) with exec(b) <= SLO vs R; Erlang-B loss at SLO = exec(b1).
def erlang_b(c, a):
    b = 1.0
    for k in range(1, c + 1):
        b = a * b / (k + a * b)
    return b
ub = {s: float(got[("48", "2400", s)]["upper_bound"]) for s in steps}
assert abs(ub["1"] - (1 - erlang_b(6, 2400 * 0.0029))) < 1e-4, ub
assert abs(ub["1.5"] - 6 / 0.0029 / 2400) < 1e-4, ub
assert abs(ub["2.25"] - 6 * 2 / 0.0053 / 2400) < 1e-4, ub
assert ub["3.375"] == 1.0, ub
assert all(float(got[("12", "600", s)]["upper_bound"]) > 0.99 for s in steps)
series = list(csv.DictReader(open(g + "/fig7_series.tsv"), delimiter="\t"))
s12 = [r for r in series if r["N"] == "12"]
assert [float(r["satisfaction"]) for r in s12] == [0.1, 0.5, 0.9, 1.0], s12
assert [r["slo_factor"] for r in s12] == list(steps), s12
table = open(g + "/fig7_table.txt").read().splitlines()
assert "N=12 R=600" in table[1] and "N=48 R=2400" in table[1], table[1]
line = {l.split()[0]: l.split() for l in table[2:7]}
assert line["1"][2:] == ["10.0", "0.0"], line
assert line["1.5"][2:] == ["50.0", "25.0"], line
assert line["2.25"][2:] == ["90.0", "75.0"], line
assert line["3.375"][2:] == ["100.0", "100.0"], line
assert line["all"][1:] == ["62.5", "50.0"], line
print("fixture table OK")
PY
# Two log directories: the fixture and a copy whose run.log says it ran INFER6.
mkdir -p "$TMP/six" "$TMP/both"
cp -r "$EXP/tests/fixtures/." "$TMP/six/"
echo "2026-01-01 00:00:00 controller_type=INFER6 configs=[12:600 48:2400] period=1s" > "$TMP/six/run.log"
(cd "$TMP/both" && /usr/bin/python3 "$EXP/plotter.py" -l "$EXP/tests/fixtures" -l "$TMP/six") > "$TMP/both.txt" 2>&1 \
  || { cat "$TMP/both.txt"; fail "plotter.py failed on two log directories"; }
[ -s "$TMP/both/graphs/fig7_dist=poisson.png" ] || fail "no figure for two log directories"
sed -n 2p "$TMP/both/graphs/fig7_table.txt" | grep -q "fixtures N=12 R=600.*INFER6 N=48 R=2400" \
  || fail "the table does not label both directories' runs"
/usr/bin/python3 - "$TMP/both/graphs" <<'PY' || fail "two-directory TSV"
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1] + "/fig7_by_slo.tsv"), delimiter="\t"))
assert len(rows) == 16, len(rows)
assert sorted({r["scheduler"] for r in rows}) == ["INFER6", "fixtures"], {r["scheduler"] for r in rows}
six = {(r["N"], r["slo_factor"]): r["met"] for r in rows if r["scheduler"] == "INFER6"}
assert six[("12", "1.5")] == "30" and six[("48", "2.25")] == "45", six
PY
echo "PASS fig7_plotter"
