"""What gives generated pieces away: per genre, real vs generated as notated and the critic features
whose means differ most (Cohen's d, generated minus real, in pooled standard deviations).

    python benchmarks/levers/real_vs_generated_cues.py [PIECES_PER_GENRE] ['SETTINGS_JSON'] [GENRES]

MUSICGEN_MODEL=path/to/card.json picks another model than the shipped default.
"""

import json
import os
import sys

import numpy as np
import torch

from musicgen.evaluation.critic import dataset_pieces, load_critic, real_vs_generated_accuracy
from musicgen.model.model_files import load_model
from musicgen.notation.layout import notated_piece
from musicgen.sampling.generate import Generator
from musicgen.sampling.request import GenerationRequest
from musicgen.training.dataset import load_dataset

TOP = 8  # features listed per genre
torch.set_num_threads(1)
per = int(sys.argv[1]) if len(sys.argv) > 1 else 40
setting = json.loads(sys.argv[2]) if len(sys.argv) > 2 else {}
loaded = load_model(os.environ.get("MUSICGEN_MODEL"))
genres = sys.argv[3].split(",") if len(sys.argv) > 3 else loaded.genre_keys
generator = Generator(loaded)
dataset = load_dataset()
critic = load_critic(dataset=dataset)
names = critic.space.names
for key in genres:
    g = loaded.genre_keys.index(key)
    real = dataset_pieces(dataset, "test", g)
    requests = [GenerationRequest(genre=key, seed=1000 + i, **setting) for i in range(per)]
    notated = [notated_piece(r.piece) for r in generator.generate_batch(requests)]
    accuracy = real_vs_generated_accuracy(real, notated, space=critic.space)
    real_features, generated_features = critic.space.matrix(real), critic.space.matrix(notated)
    pooled = np.sqrt((real_features.var(0) + generated_features.var(0)) / 2) + 1e-9
    d = (generated_features.mean(0) - real_features.mean(0)) / pooled
    print(f"{key:<10} real-vs-generated as notated {accuracy:.2f} ({len(real)} real, {len(notated)} generated)")
    for j in np.argsort(-np.abs(d))[:TOP]:
        print(
            f"    {names[j]:<40} d {d[j]:+.2f}  real {real_features[:, j].mean():.3f}  "
            f"generated {generated_features[:, j].mean():.3f}",
            flush=True,
        )
