#!/usr/bin/env bash
# The training-recipe levers of issue 11, each against the shipped LSTM recipe (2x384, dropout 0.25,
# codec 3) on the same data, seed and schedule, EPOCHS epochs each, THREADS torch threads:
#   dropout 0, 0.25 (the shipped recipe: the baseline), 0.5;
#   genre balance (--balance-genres: every genre brings about the same tokens to an epoch);
#   a larger network, 2x512.
# Models land in runs/ablation/<name>.* (a dot in a model name stays part of it); a run with a
# <name>.done file is skipped. Then
#   python benchmarks/levers/cell_ablation.py --models runs/ablation/dropout-0.25.json ...
# prints the table (test NLL, genre ID, critic recall, real vs generated, sampling speed).
set -euo pipefail
EPOCHS=${EPOCHS:-4}
THREADS=${THREADS:-2}
cd "$(dirname "$0")/../.."
mkdir -p runs/ablation
run() {  # name, then the flags that differ from the shipped recipe
  local name=$1; shift
  local out=runs/ablation/$name
  if [ -f "$out.done" ]; then echo "$name: done already"; return; fi
  local start; start=$(date +%s)
  python -m musicgen train "$@" --epochs "$EPOCHS" --patience "$EPOCHS" --threads "$THREADS" \
    --out "$out" > "$out.log" 2>&1
  echo "$name: $EPOCHS epochs in $(( ($(date +%s) - start) / 60 )) min" | tee "$out.done"
}
run dropout-0.25 --dropout 0.25
run dropout-0.0 --dropout 0.0
run dropout-0.5 --dropout 0.5
run balanced --balance-genres
run lstm-2x512 --n-hidden 512
