"""Real vs generated as notated, and the critic's recall, for sampling settings x genres.

    python benchmarks/levers/notated_sweep.py PIECES_PER_GENRE 'SETTINGS_JSON_LIST' GENRE[,GENRE...]

e.g. ``python benchmarks/levers/notated_sweep.py 100 '[{"style_strength": 0}, {"top_p": 1.0}]' german,scottish``.
Each setting is GenerationRequest fields; seeds 1000.. ; the shipped model, int8, one thread.
"""

import json
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
per, settings, genres = int(sys.argv[1]), json.loads(sys.argv[2]), sys.argv[3].split(",")
loaded = load_model(None)
generator = Generator(loaded)
dataset = load_dataset()
critic = load_critic(dataset=dataset)
for key in genres:
    g = loaded.genre_keys.index(key)
    real = dataset_pieces(dataset, "test", g)
    for setting in settings:
        requests = [GenerationRequest(genre=key, seed=1000 + i, **setting) for i in range(per)]
        notated = [notated_piece(r.piece) for r in generator.generate_batch(requests)]
        accuracy = real_vs_generated_accuracy(real, notated, space=critic.space)
        recall = float(np.mean(np.argmax(critic.predict_proba(notated), 1) == g))
        print(f"{key:<10} {json.dumps(setting):<60} real-vs-generated {accuracy:.2f} recall {recall:.2f}", flush=True)
