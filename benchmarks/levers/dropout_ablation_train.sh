#!/usr/bin/env bash
# The dropout lever of issue 11: the shipped LSTM recipe (2x384, codec 3) at dropout 0, 0.25 (the
# default) and 0.5, the same data, seed and schedule, EPOCHS epochs each, THREADS torch threads.
# Models land in runs/ablation/dropout-<p>.* (a dot in a model name stays part of it); then
#   python benchmarks/levers/cell_ablation.py --models runs/ablation/dropout-*.json
# prints the table (test NLL, genre ID, critic recall, real vs generated, sampling speed).
set -euo pipefail
EPOCHS=${EPOCHS:-4}
THREADS=${THREADS:-2}
cd "$(dirname "$0")/../.."
mkdir -p runs/ablation
for p in 0.0 0.25 0.5; do
  out=runs/ablation/dropout-$p
  if [ -f "$out.done" ]; then echo "dropout $p: done already"; continue; fi
  start=$(date +%s)
  python -m musicgen train --dropout "$p" --epochs "$EPOCHS" --patience "$EPOCHS" --threads "$THREADS" \
    --out "$out" > "$out.log" 2>&1
  echo "dropout $p: $EPOCHS epochs in $(( ($(date +%s) - start) / 60 )) min" | tee "$out.done"
done
