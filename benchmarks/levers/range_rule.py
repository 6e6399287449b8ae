"""The sung-range rule (``musicgen/sampling/range_room.py``) measured: four-voice pieces sampled
without it, and with it at several spare semitones (``--slacks``) and ranges, beside the real test
pieces: the voice-leading figures (out of range against the textbook ranges, parallels, crossings,
final chord) and the listening critic's real vs generated.

    python benchmarks/levers/range_rule.py --genres bach,palestrina --pieces 100 --seed 9000 --slacks 0,1,2

``--textbook`` adds a run with the textbook ranges in place of the card's sung ranges (for the rule
and the key drawn). One line of JSON per run.
"""

from __future__ import annotations

import argparse
import json

import torch

from musicgen.evaluation.critic import dataset_pieces, load_critic, real_vs_generated_accuracy
from musicgen.evaluation.voice_leading import TEXTBOOK_RANGES, measure_all
from musicgen.model.model_files import load_model
from musicgen.sampling.generate import Generator
from musicgen.sampling.range_room import RangeRoom
from musicgen.sampling.request import GenerationRequest
from musicgen.training.dataset import load_dataset


def run(generator: Generator, genre: str, pieces: int, seed: int, real, space) -> dict:
    """Figures of ``pieces`` pieces of ``genre`` (seeds ``seed``..) as ``generator`` samples them."""
    results = generator.generate_batch([GenerationRequest(genre=genre, seed=seed + i) for i in range(pieces)])
    generated = [result.piece for result in results]
    figures = measure_all(generated).figures()
    figures["real_vs_generated"] = round(real_vs_generated_accuracy(real, generated, space=space), 3)
    figures["keys"] = len({result.key_result for result in results})
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=None)
    parser.add_argument("--genres", default="bach,palestrina")
    parser.add_argument("--pieces", type=int, default=100)
    parser.add_argument("--seed", type=int, default=9000, help="first seed (the report's are 0..)")
    parser.add_argument("--slacks", default="1", help="spare semitones to measure, e.g. 0,1,2")
    parser.add_argument("--textbook", action="store_true", help="also the textbook ranges, one spare semitone")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    dataset = load_dataset()
    space = load_critic(dataset=dataset).space
    loaded = load_model(args.model)
    for genre in args.genres.split(","):
        real = dataset_pieces(dataset, "test", dataset.genre_keys.index(genre))
        print(json.dumps({"genre": genre, "pieces": "real", **measure_all(real).figures()}), flush=True)
        rooms = {"no rule": lambda ranges: None}
        for slack in args.slacks.split(","):
            rooms[f"sung ranges, {slack} spare"] = lambda ranges, slack=int(slack): RangeRoom.of(ranges, slack)
        if args.textbook:
            rooms["textbook ranges, 1 spare"] = lambda ranges: RangeRoom.of(ranges, 1)
        for name, room in rooms.items():
            generator = Generator(loaded)
            if name.startswith("textbook"):  # for the rule and the key drawn
                generator.sung_ranges[genre] = [list(span) for span in TEXTBOOK_RANGES]
            ranges = generator.sung_ranges[genre]
            generator._range_room = lambda key, room=room, ranges=ranges: room(ranges)
            figures = run(generator, genre, args.pieces, args.seed, real, space)
            print(json.dumps({"genre": genre, "rule": name, **figures}), flush=True)


if __name__ == "__main__":
    main()
