#!/usr/bin/env bash
# Language-Aware Tuning at CPU scale, end to end (make reproduce-lat-cpu):
#   1. SmolLM2-135M-Instruct + MLE on en<->de, en<->zh    (trainers/configs/smollm2-cpu-mle.yaml)
#   2. that model + LAT stage 2 (MLE + 0.05 unlikelihood)  (trainers/configs/smollm2-cpu-lat.yaml)
#   3. mtbench run: base, MLE and LAT models with LAT's prompt on the suite smollm2-lat-cpu
#      (4 supervised + 3 zero-shot WMT22 directions; BLEU, chrF, off-target ratio)
#   4. mtbench report with the training curves of both steps -> reports/lat-cpu
# Run from the repository root; MTBENCH_DATA must point at the test data (make sets it).
set -euo pipefail
MTBENCH=${MTBENCH:-.venv/bin/mtbench}
RUN=${RUN:-runs/lat-cpu}
REPORT=${REPORT:-reports/lat-cpu}
start=$(date +%s)
stamp() { echo "[$(( $(date +%s) - start )) s] $*"; }

stamp "training MLE"
"$MTBENCH" train mle trainers/configs/smollm2-cpu-mle.yaml
stamp "training LAT stage 2"
"$MTBENCH" train lat trainers/configs/smollm2-cpu-lat.yaml
stamp "evaluating base, MLE and LAT"
"$MTBENCH" run --tasks smollm2-lat-cpu --out "$RUN/eval" \
  --model smollm2-135m --model "hf:$RUN/smollm2-mle" --model "hf:$RUN/smollm2-mle-lat"
stamp "writing the report"
rm -rf "$REPORT"  # a report adds files, it never deletes any: start clean
"$MTBENCH" report "$RUN/eval" --out "$REPORT" \
  --train-log "$RUN/smollm2-mle" --train-log "$RUN/smollm2-mle-lat" \
  --title "Language-Aware Tuning at CPU scale: SmolLM2-135M-Instruct, base vs MLE vs LAT"
stamp "done: $REPORT/summary.md"
