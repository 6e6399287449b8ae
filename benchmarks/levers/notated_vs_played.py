"""Real vs generated, pieces as played (repeats written out) and as notated (each repeated strain
once, as the corpus stores tunes with repeat signs): per genre, default settings.

    python benchmarks/levers/notated_vs_played.py [PIECES_PER_GENRE] [MODEL]
"""

import sys

import numpy as np
import torch

from musicgen.evaluation.critic import dataset_pieces, load_critic, real_vs_generated_accuracy
from musicgen.model.model_files import load_model
from musicgen.notation.layout import notated_piece
from musicgen.sampling.generate import Generator
from musicgen.sampling.request import GenerationRequest
from musicgen.training.dataset import load_dataset

torch.set_num_threads(1)
per = int(sys.argv[1]) if len(sys.argv) > 1 else 40
loaded = load_model(sys.argv[2] if len(sys.argv) > 2 else None)
generator = Generator(loaded)
dataset = load_dataset()
critic = load_critic(dataset=dataset)
for g, key in enumerate(loaded.genre_keys):
    real = dataset_pieces(dataset, "test", g)
    played = [
        r.piece for r in generator.generate_batch([GenerationRequest(genre=key, seed=1000 + i) for i in range(per)])
    ]
    notated = [notated_piece(p) for p in played]
    figures = []
    for pieces in (played, notated):
        recall = float(np.mean(np.argmax(critic.predict_proba(pieces), 1) == g))
        figures.append((recall, real_vs_generated_accuracy(real, pieces, space=critic.space)))
    bars = np.mean([len(p.bars) for p in played]), np.mean([len(p.bars) for p in notated])
    print(
        f"{key:<10} as played: recall {figures[0][0]:.2f}, real-vs-generated {figures[0][1]:.2f} ({bars[0]:.0f} bar lines); "
        f"as notated: recall {figures[1][0]:.2f}, real-vs-generated {figures[1][1]:.2f} ({bars[1]:.0f} bar lines)",
        flush=True,
    )
