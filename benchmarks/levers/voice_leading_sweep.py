"""Voice leading of generated chorales and Palestrina movements at several sampling settings
(temperature, top-p), beside the real test pieces: parallels, final chord, all voices sounding,
and the real-vs-generated accuracy of the listening critic's features.

    python benchmarks/levers/voice_leading_sweep.py --pieces 60 --settings 1.0:1.0,1.0:0.9,0.9:0.9
"""

from __future__ import annotations

import argparse
import json

import torch

from musicgen.evaluation.critic import dataset_pieces, load_critic, real_vs_generated_accuracy
from musicgen.evaluation.voice_leading import measure_all
from musicgen.model.model_files import load_model
from musicgen.sampling.generate import Generator
from musicgen.sampling.request import GenerationRequest
from musicgen.training.dataset import load_dataset

KEEP = ("parallels_per_100_moves", "final_bass_on_tonic", "all_voices_sounding", "crossings_per_100_beats")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="models/musicgen-default.json")
    parser.add_argument("--pieces", type=int, default=60)
    parser.add_argument("--genres", default="bach,palestrina")
    parser.add_argument("--settings", default="1.0:1.0,1.0:0.9,1.0:0.8,0.9:1.0", help="temperature:top-p, ...")
    parser.add_argument("--seed", type=int, default=9000, help="first seed (other seeds than the report's)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--style-strength", type=float, default=None, help="None: each genre's default from the card")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    dataset = load_dataset()
    space = load_critic(dataset=dataset).space
    generator = Generator(load_model(args.model))
    for genre in args.genres.split(","):
        real = dataset_pieces(dataset, "test", dataset.genre_keys.index(genre))
        print(genre, "real", json.dumps({k: measure_all(real).figures()[k] for k in KEEP}), flush=True)
        for setting in args.settings.split(","):
            temperature, top_p = (float(v) for v in setting.split(":"))
            requests = [
                GenerationRequest(
                    genre=genre,
                    seed=args.seed + i,
                    temperature=temperature,
                    top_p=top_p,
                    style_strength=args.style_strength,
                )
                for i in range(args.pieces)
            ]
            pieces = [result.piece for result in generator.generate_batch(requests)]
            figures = measure_all(pieces).figures()
            row = {k: figures[k] for k in KEEP}
            row["real_vs_generated"] = round(real_vs_generated_accuracy(real, pieces, space=space), 3)
            print(genre, f"T={temperature} top-p={top_p}", json.dumps(row), flush=True)


if __name__ == "__main__":
    main()
