"""Raw sampling against the best of N candidates chosen by the listening style critic, per genre:
the critic's recall of the generated pieces, the real-vs-generated accuracy (a separate classifier,
cross-validated on the real test pieces and these), and seconds per default piece (N rows sampled in
one batch, then judged). The critic that chooses is the critic that judges recall, so the best-of
recall is an upper bound; real-vs-generated is the fairer figure.

    python benchmarks/levers/best_of_listening.py --model models/musicgen-default.json --pieces 40 --best-of 1,4
"""

from __future__ import annotations

import argparse
import json
import time

import torch

from musicgen.evaluation.critic import best_of, confusion, dataset_pieces, load_critic, real_vs_generated_accuracy
from musicgen.model.model_files import load_model
from musicgen.sampling.generate import Generator
from musicgen.sampling.request import GenerationRequest
from musicgen.training.dataset import load_dataset


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="models/musicgen-default.json")
    parser.add_argument("--pieces", type=int, default=40, help="pieces per genre")
    parser.add_argument("--best-of", default="1,4", help="comma-separated N to compare (1 = raw)")
    parser.add_argument("--seed", type=int, default=5000, help="first seed (other seeds than the report's)")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    dataset = load_dataset()
    keys = dataset.genre_keys
    critic = load_critic(dataset=dataset)
    real = {key: dataset_pieces(dataset, "test", g) for g, key in enumerate(keys)}
    generator = Generator(load_model(args.model))
    for count in (int(n) for n in args.best_of.split(",")):
        sample = best_of(generator.generate_batch, critic, count) if count > 1 else generator.generate_batch
        made, seconds = {}, {}
        for g, key in enumerate(keys):
            requests = [GenerationRequest(genre=key, seed=args.seed + g * args.pieces + i) for i in range(args.pieces)]
            began = time.perf_counter()
            made[key] = [result.piece for result in sample(requests)]
            seconds[key] = (time.perf_counter() - began) / args.pieces
        single = {}
        for key in keys:  # one default piece alone, as `generate` makes it (5 seeds)
            began = time.perf_counter()
            for seed in range(5):
                sample([GenerationRequest(genre=key, seed=seed)])
            single[key] = round((time.perf_counter() - began) / 5, 3)
        pieces = [p for key in keys for p in made[key]]
        true = [g for g, key in enumerate(keys) for _ in made[key]]
        verdict = confusion(critic.predict_proba(pieces), true, keys)
        row = {
            key: {
                "recall": round(verdict["recall"][key], 3),
                "real_vs_generated": round(real_vs_generated_accuracy(real[key], made[key], space=critic.space), 3),
                "seconds_per_piece_in_batch": round(seconds[key], 3),
                "seconds_one_piece": single[key],
            }
            for key in keys
        }
        print(json.dumps({"best_of": count, "genres": row, "confusion": verdict["matrix"]}), flush=True)


if __name__ == "__main__":
    main()
