"""Style-strength and temperature sweep: critic recall, real-vs-generated accuracy, rare durations."""

import json
import sys
import time

import numpy as np
import torch

from musicgen.evaluation.critic import dataset_pieces, load_critic, real_vs_generated_accuracy
from musicgen.model.model_files import load_model
from musicgen.sampling.generate import Generator
from musicgen.sampling.request import GenerationRequest
from musicgen.training.dataset import load_dataset

torch.set_num_threads(1)  # one thread: measurements, not speed

model = sys.argv[1]
per = int(sys.argv[2])
settings = json.loads(sys.argv[3])
loaded = load_model(model)
gen = Generator(loaded, int8=("int8" in sys.argv))
dataset = load_dataset()
critic = load_critic(dataset=dataset)
keys = loaded.genre_keys
real = {k: dataset_pieces(dataset, "test", g) for g, k in enumerate(keys)}
for s in settings:
    t = time.time()
    reqs = [GenerationRequest(genre=k, seed=1000 + i, **s) for k in keys for i in range(per)]
    res = []
    for a in range(0, len(reqs), 64):
        res += gen.generate_batch(reqs[a : a + 64])
    by = {k: [r for r in res if r.request.genre == k] for k in keys}
    row = {}
    for g, k in enumerate(keys):
        pieces = [r.piece for r in by[k]]
        probs = critic.predict_proba(pieces)
        recall = float(np.mean(np.argmax(probs, 1) == g))
        rvg = real_vs_generated_accuracy(real[k], pieces)
        durs = [n.duration for p in pieces for n in p.notes]
        trip16 = float(np.mean([d == 2 for d in durs])) if durs else 0
        nat = float(np.mean([r.ended_naturally for r in by[k]]))
        row[k] = (round(recall, 2), round(rvg, 2), round(trip16, 3), round(nat, 2))
    print(
        json.dumps(s),
        f"{time.time() - t:.0f}s",
        "mean recall",
        round(np.mean([v[0] for v in row.values()]), 3),
        flush=True,
    )
    for k, v in row.items():
        print(
            f"  {k:<10} recall {v[0]:.2f}  real-vs-gen {v[1]:.2f}  16th-triplets {v[2]:.3f}  ends itself {v[3]:.2f}",
            flush=True,
        )
