#!/usr/bin/env bash
# End-to-end agreement check: cspi's DfE validation rules vs the D2I community validators.
#
#   scripts/agreement/run.sh <cspi-binary> <d2i-903-checkout> <d2i-cin-checkout> [work-dir]
#
# Needs python3 (3.9+) with the D2I dependencies (see README.md: pandas<2, numpy<1.25, ...);
# set PY=/path/to/venv/bin/python to choose the interpreter for the D2I runs.
# Everything is written under the work dir (default /tmp/cspi-agreement); nothing in the repo.
set -euo pipefail
CSPI=${1:?cspi binary}; D903=${2:?csc-validator-be-903 checkout}; DCIN=${3:?csc-validator-be-cin checkout}
W=${4:-/tmp/cspi-agreement}
PY=${PY:-python3}
LA=${LA:-925}; LA_LONG=${LA_LONG:-E10000019}     # Lincolnshire
YEARS=${YEARS:-2024-2025}; SEED=${SEED:-7}; DSEED=${DSEED:-42}; RATE=${RATE:-0.03}
HERE=$(cd "$(dirname "$0")" && pwd)
Y0=${YEARS%-*}; Y1=${YEARS#*-}
mkdir -p "$W"; cd "$W"

echo "== synth ($LA, $YEARS, seed $SEED) and damaged copy (seed $DSEED, rate $RATE)"
rm -rf clean damaged
"$CSPI" synth --out clean --la "$LA" --years "$YEARS" --seed "$SEED" --format csv
"$PY" "$HERE/damage.py" clean damaged --seed "$DSEED" --rate "$RATE"

for y in $(seq "$Y0" "$Y1"); do "$CSPI" rules list --year "$y" > "rules$y.txt"; done

for ds in clean damaged; do
  echo "== cspi ingest ($ds)"
  rm -rf "store-$ds"
  "$CSPI" ingest "$ds/$LA" --store "store-$ds" | tail -4
  d903=(); dcin=()
  for y in $(seq "$Y0" "$Y1"); do
    p=$((y - 1)); prev=()
    if [ -d "$ds/$LA/$p/ssda903" ]; then
      prev=(--prev "$ds/$LA/$p/ssda903" --rel-prev "$p/ssda903")
    fi
    echo "== D2I 903 ($ds $y)"
    "$PY" "$HERE/d2i_903.py" --d2i "$D903" --year "$y" --la-long "$LA_LONG" \
      --cur "$ds/$LA/$y/ssda903" --rel-cur "$y/ssda903" "${prev[@]}" --out "d2i903-$ds-$y.csv" 2>&1 | tail -1
    echo "== D2I CIN ($ds $y) (slow: a few minutes per year)"
    "$PY" "$HERE/d2i_cin.py" --d2i "$DCIN" --year "$y" --xml "$ds/$LA/$y/cin_census.xml" \
      --rel "$y/cin_census.xml" --out "d2icin-$ds-$y.csv" 2>&1 | tail -1
    d903+=("d2i903-$ds-$y.csv"); dcin+=("d2icin-$ds-$y.csv")
  done
  rl=(); for y in $(seq "$Y0" "$Y1"); do rl+=("$y=rules$y.txt"); done
  "$PY" "$HERE/compare.py" --label "$ds" --data "$ds/$LA" --cspi "store-$ds/validation/report.csv" \
    --d2i903 "${d903[@]}" --d2icin "${dcin[@]}" --cspi-rules "${rl[@]}" --out results --top 25 --also-without 169 179 392a 420
done
echo "== results: $W/results/results-{clean,damaged}.md and per_rule-*.csv"
