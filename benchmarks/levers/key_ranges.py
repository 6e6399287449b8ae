"""Four-voice pieces against the textbook voice ranges: as the network wrote them, and after the move
to the key drawn for them (the shipped sampler), beside the real training pieces.

    python benchmarks/levers/key_ranges.py --genre bach --pieces 100

Prints the percent of each voice's notes (S, A, T, B) outside ``voice_leading.TEXTBOOK_RANGES``,
each voice's 0.5th / 1st / 99th / 99.5th percentile in the real pieces, and how far the drawn keys
moved the pieces (semitones). Seeds 9000.. (not the report's).
"""

from __future__ import annotations

import argparse
from collections import Counter

import numpy as np
import torch

from musicgen.evaluation.critic import dataset_pieces
from musicgen.evaluation.voice_leading import TEXTBOOK_RANGES
from musicgen.model.model_files import load_model
from musicgen.music.keys import transpose_piece
from musicgen.sampling.generate import Generator
from musicgen.sampling.request import GenerationRequest
from musicgen.training.dataset import load_dataset


def out_of_range(pieces) -> list[float]:
    """Percent of each voice's notes outside its textbook range."""
    out, notes = np.zeros(4), np.zeros(4)
    for piece in pieces:
        for note in piece.notes:
            if note.voice < 4:
                low, high = TEXTBOOK_RANGES[note.voice]
                notes[note.voice] += 1
                out[note.voice] += not low <= note.pitch <= high
    return [round(float(v), 2) for v in 100 * out / np.maximum(notes, 1)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=None)
    parser.add_argument("--genre", default="bach")
    parser.add_argument("--pieces", type=int, default=100)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    dataset = load_dataset()
    real = dataset_pieces(dataset, "train", dataset.genre_keys.index(args.genre))
    print("real training pieces, S/A/T/B % out of range:", out_of_range(real))
    for voice in range(4):
        pitches = [n.pitch for p in real for n in p.notes if n.voice == voice]
        print(f"  voice {voice} percentiles 0.5/1/99/99.5:", np.percentile(pitches, [0.5, 1, 99, 99.5]).tolist())
    generator = Generator(load_model(args.model))
    requests = [GenerationRequest(genre=args.genre, seed=9000 + i) for i in range(args.pieces)]
    results = generator.generate_batch(requests)
    print("generated, in the drawn key:", out_of_range([r.piece for r in results]))
    print(
        "generated, as the network wrote it:", out_of_range([transpose_piece(r.piece, -r.transpose) for r in results])
    )
    shifts = Counter(abs(r.transpose) for r in results)
    print("moves (semitones: pieces):", dict(sorted(shifts.items())), f"within 3: {sum(shifts[s] for s in range(4))}")


if __name__ == "__main__":
    main()
