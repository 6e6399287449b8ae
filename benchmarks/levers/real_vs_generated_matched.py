"""Real vs generated with generated pieces shaped like the real test pieces (same bar counts, AB for dances)."""

import json
import sys

import numpy as np
import torch

from musicgen.evaluation.critic import dataset_pieces, load_critic, real_vs_generated_accuracy
from musicgen.model.model_files import load_model
from musicgen.sampling.generate import Generator
from musicgen.sampling.request import GenerationRequest
from musicgen.training.dataset import load_dataset

torch.set_num_threads(1)  # one thread: measurements, not speed

loaded = load_model(sys.argv[1])
gen = Generator(loaded)
extra = json.loads(sys.argv[2]) if len(sys.argv) > 2 else {}
dataset = load_dataset()
critic = load_critic(dataset=dataset)
for g, k in enumerate(loaded.genre_keys):
    real = dataset_pieces(dataset, "test", g)
    reqs = []
    for n, p in enumerate(real):
        bars = max(2, len(p.bars) - 1)
        form = "AB" if k in ("reel", "jig", "hornpipe") and bars % 2 == 0 else "free"
        meter = p.meter_at(p.pickup)
        reqs.append(
            GenerationRequest(
                genre=k, bars=bars, form=form, meter=f"{meter[0]}/{meter[1]}" if meter else None, seed=5000 + n, **extra
            )
        )
    try:
        res = gen.generate_batch(reqs)
    except ValueError:  # a metre this model never saw: keep the genre default
        reqs = [GenerationRequest(**{**r.__dict__, "meter": None}) for r in reqs]
        res = gen.generate_batch(reqs)
    pieces = [r.piece for r in res]
    recall = float(np.mean(np.argmax(critic.predict_proba(pieces), 1) == g))
    print(
        f"{k:<10} n={len(pieces)} recall {recall:.2f} real-vs-gen {real_vs_generated_accuracy(real, pieces):.2f}",
        flush=True,
    )
