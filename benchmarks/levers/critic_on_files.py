"""Critic recall and real-vs-generated accuracy for a folder of MIDI files named <genre>-....mid."""

import glob
import os
import sys

import numpy as np

from musicgen.evaluation.critic import dataset_pieces, load_critic, real_vs_generated_accuracy
from musicgen.files.midi import midi_to_piece
from musicgen.training.dataset import load_dataset

dataset = load_dataset()
critic = load_critic(dataset=dataset)
keys = critic.genre_keys
folder = sys.argv[1]
rows = []
for g, k in enumerate(keys):
    files = sorted(glob.glob(os.path.join(folder, f"{k}-*.mid")))
    pieces = [midi_to_piece(f) for f in files]
    real = dataset_pieces(dataset, "test", g)
    recall = float(np.mean(np.argmax(critic.predict_proba(pieces), 1) == g))
    real_recall = float(np.mean(np.argmax(critic.predict_proba(real), 1) == g))
    rvg = real_vs_generated_accuracy(real, pieces)
    rows.append((k, len(pieces), real_recall, recall, rvg))
    print(
        f"{k:<10} n={len(pieces):3d} real recall {real_recall:.2f}  generated recall {recall:.2f} ({recall / real_recall:.2f}x)  real-vs-gen {rvg:.2f}",
        flush=True,
    )
print(
    "mean generated recall",
    round(np.mean([r[3] for r in rows]), 3),
    "mean ratio",
    round(np.mean([r[3] / r[2] for r in rows]), 3),
)
