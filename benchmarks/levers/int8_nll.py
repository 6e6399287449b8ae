"""Test NLL (nats/event) of 20 test pieces per genre, teacher-forced through the fp32 and int8 sampling engines."""

import torch

from musicgen.model.model_files import load_model
from musicgen.sampling.fast_step import FastStepper
from musicgen.training.dataset import load_dataset

torch.set_num_threads(1)  # one thread: measurements, not speed

loaded = load_model("models/musicgen-default.json")
dataset = load_dataset()
engines = {"fp32": FastStepper(loaded.model), "int8": FastStepper(loaded.model, int8=True)}
for g, key in enumerate(loaded.genre_keys):
    pieces = dataset.indices("test", g)[:20]
    out = {}
    for name, engine in engines.items():
        total, count = 0.0, 0
        with engine.context():
            w = torch.zeros(1, len(loaded.genre_keys))
            w[0, g] = 1.0
            for i in pieces:
                tokens = dataset.piece_tokens(i).tolist()
                state = engine.start(w)
                engine.set_genre(w)
                for a, b in zip(tokens[:-1], tokens[1:]):
                    logits, state = engine.step(torch.tensor([a]), state)
                    total -= float(torch.log_softmax(logits[0], -1)[b])
                    count += 1
        out[name] = total / count
    print(
        f"{key:<10} {count:6d} events  fp32 {out['fp32']:.4f}  int8 {out['int8']:.4f}  difference {out['int8'] - out['fp32']:+.4f} nats/event",
        flush=True,
    )
