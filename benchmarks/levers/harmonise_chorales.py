"""Harmonise the soprano lines of the test split's chorales and set the results beside Bach's own
harmonisations of the same melodies: soprano kept, voice leading, final chord, time per melody, and a
real-vs-generated classifier (the critic's features, 5-fold), with and without seeing ahead
(``--candidates 1`` = the plain left-to-right choice; N = N harmonisations, the one under which the
network finds the melody likeliest wins).

    python benchmarks/levers/harmonise_chorales.py --model models/musicgen-default.json --candidates 1,8
"""

from __future__ import annotations

import argparse
import json
import time

import torch

from musicgen.evaluation.critic import dataset_pieces, real_vs_generated_accuracy
from musicgen.evaluation.voice_leading import measure_all
from musicgen.model.model_files import load_model
from musicgen.music.piece import make_piece
from musicgen.sampling.generate import Generator
from musicgen.sampling.harmonise import harmonise, prepare_melody
from musicgen.training.dataset import load_dataset


def soprano_of(piece):
    """The chorale's soprano as a melody piece (its bars and metre kept)."""
    notes = [(n.start, n.pitch, n.duration) for n in piece.notes if n.voice == 0]
    return make_piece(notes, piece.bars, meters=piece.meters)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="models/musicgen-default.json")
    parser.add_argument("--candidates", default="1,8", help="comma-separated candidate counts to compare")
    parser.add_argument("--limit", type=int, default=0, help="first N test chorales (0 = all)")
    parser.add_argument("--genre", default="bach")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", help="write the figures as JSON here")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    dataset = load_dataset()
    real = dataset_pieces(dataset, "test", dataset.genre_keys.index(args.genre))
    real = [p for p in real if p.voiced][: args.limit or None]
    generator = Generator(load_model(args.model))
    report = {"chorales": len(real), "real": measure_all(real).figures(), "runs": {}}
    for count in (int(c) for c in args.candidates.split(",")):
        made, kept, seconds, bars = [], 0, [], []
        for index, chorale in enumerate(real):
            melody = prepare_melody(soprano_of(chorale))
            began = time.perf_counter()
            *_, last = harmonise(generator, melody, genre=args.genre, seed=index, candidates=count)
            seconds.append(time.perf_counter() - began)
            bars.append(melody.bars)
            piece = last.result.piece
            soprano = [(n.start, n.pitch, n.duration) for n in piece.notes if n.voice == 0]
            kept += soprano == [(n.start, n.pitch, n.duration) for n in melody.notes]
            made.append(piece)
        per_16_bars = sum(seconds) / max(1, sum(bars)) * 16
        report["runs"][count] = {
            "soprano_kept": kept / len(real),
            "generated": measure_all(made).figures(),
            "real_vs_generated": round(real_vs_generated_accuracy(real, made), 3),
            "seconds_per_16_bars": round(per_16_bars, 3),
            "seconds_total": round(sum(seconds), 1),
        }
        print(count, json.dumps(report["runs"][count]), flush=True)
    print(json.dumps(report, indent=1))
    if args.out:
        with open(args.out, "w") as handle:
            json.dump(report, handle, indent=1)


if __name__ == "__main__":
    main()
