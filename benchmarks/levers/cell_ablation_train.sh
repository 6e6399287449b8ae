#!/usr/bin/env bash
# Trains the cell ablation of issue 11: tanh RNN, GRU and LSTM at equal parameter count
# (2.25 M: rnn 2x778, gru 2x449, lstm 2x384), the same data, seed and schedule, EPOCHS epochs
# each, one torch thread. Models land in runs/ablation/cell-<cell>.*; then run
#   python benchmarks/levers/cell_ablation.py
# for the table (test NLL, genre ID, critic recall, sampling speed).
set -euo pipefail
EPOCHS=${EPOCHS:-4}
cd "$(dirname "$0")/../.."
mkdir -p runs/ablation
for spec in rnn:778 gru:449 lstm:384; do
  cell=${spec%%:*}; hidden=${spec##*:}
  out=runs/ablation/cell-$cell
  if [ -f "$out.done" ]; then echo "$cell: done already"; continue; fi
  start=$(date +%s)
  python -m musicgen train --cell "$cell" --n-hidden "$hidden" --epochs "$EPOCHS" --patience "$EPOCHS" \
    --threads 1 --out "$out" > "$out.log" 2>&1
  echo "$cell 2x$hidden: $EPOCHS epochs in $(( ($(date +%s) - start) / 60 )) min" | tee "$out.done"
done
