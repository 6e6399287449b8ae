"""An independent ear: which style does a piece sound like, judged by a model that shares nothing
with musicgen's critic or network.

Per genre, a smoothed trigram model over the *sounding top line* only: each note becomes the symbol
(time to the next onset in 16ths, interval from the previous note in semitones), read from the notes
as heard (``music.listening.heard``: no time signature, bar line, pickup, voice or strain mark).
Trained on the real train split; a piece goes to the genre whose model finds it likeliest per note.
It reports the recall on real test pieces (the ceiling) and on generated pieces (default settings of
the model's card, fresh seeds), with the confusion of the generated ones. Pure Python + numpy.

    python benchmarks/levers/independent_genre_check.py --model models/musicgen-default.json --pieces 40
"""

from __future__ import annotations

import argparse
import json
import math
from collections import Counter

from musicgen.evaluation.critic import dataset_pieces
from musicgen.music.listening import heard
from musicgen.music.piece import STEPS_PER_BEAT, Piece
from musicgen.training.dataset import load_dataset

SIXTEENTH = STEPS_PER_BEAT // 4
MAX_GAP = 16  # 16ths: a whole note; longer gaps are one symbol
ORDER = 3
ADD_K = 0.1


def top_line_symbols(piece: Piece) -> list[tuple[int, int]]:
    """(gap to the next onset in 16ths, interval from the previous note) of the heard top line."""
    notes = heard(piece).notes
    onsets: dict[int, int] = {}
    for note in notes:
        onsets[note.start] = max(onsets.get(note.start, 0), note.pitch)
    times = sorted(onsets)
    symbols, previous = [], None
    for i, time in enumerate(times):
        gap = times[i + 1] - time if i + 1 < len(times) else STEPS_PER_BEAT
        gap = min(MAX_GAP, max(1, round(gap / SIXTEENTH)))
        pitch = onsets[time]
        interval = 0 if previous is None else max(-12, min(12, pitch - previous))
        symbols.append((gap, interval))
        previous = pitch
    return symbols


class TrigramModel:
    """Add-k smoothed trigram model over symbols, backed off to nothing (a flat vocabulary)."""

    def __init__(self, sequences: list[list], vocabulary: int):
        self.context_counts, self.counts, self.vocabulary = Counter(), Counter(), vocabulary
        for seq in sequences:
            padded = [None] * (ORDER - 1) + seq
            for i in range(ORDER - 1, len(padded)):
                context = tuple(padded[i - ORDER + 1 : i])
                self.counts[context + (padded[i],)] += 1
                self.context_counts[context] += 1

    def log_prob_per_symbol(self, seq: list) -> float:
        padded = [None] * (ORDER - 1) + seq
        total = 0.0
        for i in range(ORDER - 1, len(padded)):
            context = tuple(padded[i - ORDER + 1 : i])
            numerator = self.counts[context + (padded[i],)] + ADD_K
            total += math.log(numerator / (self.context_counts[context] + ADD_K * self.vocabulary))
        return total / max(1, len(seq))


def classify(models: dict[str, TrigramModel], seq: list) -> str:
    return max(models, key=lambda genre: models[genre].log_prob_per_symbol(seq))


def recall_table(models, pieces_by_genre: dict[str, list[Piece]]) -> tuple[dict, dict]:
    recall, confusion = {}, {}
    for genre, pieces in pieces_by_genre.items():
        heard_as = Counter(classify(models, top_line_symbols(p)) for p in pieces)
        recall[genre] = round(heard_as[genre] / max(1, len(pieces)), 3)
        confusion[genre] = dict(heard_as.most_common())
    return recall, confusion


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="models/musicgen-default.json")
    parser.add_argument("--pieces", type=int, default=40, help="generated pieces per genre")
    parser.add_argument("--seed", type=int, default=5000, help="first seed")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    import torch

    from musicgen.model.model_files import load_model
    from musicgen.sampling.generate import Generator
    from musicgen.sampling.request import GenerationRequest

    torch.set_num_threads(args.threads)
    genres, models, real_recall = real_ceiling(load_dataset())
    generator = Generator(load_model(args.model))
    generated = {}
    for genre in genres:
        requests = [GenerationRequest(genre=genre, seed=args.seed + i) for i in range(args.pieces)]
        generated[genre] = [result.piece for result in generator.generate_batch(requests)]
    report(args, genres, real_recall, *recall_table(models, generated))


def real_ceiling(dataset) -> tuple[list[str], dict, dict]:
    """The genres, their ears trained on the train split, and the ears' recall of the real test pieces."""
    genres = dataset.genre_keys
    train = {g: dataset_pieces(dataset, "train", i) for i, g in enumerate(genres)}
    vocabulary = (MAX_GAP + 1) * 25
    models = {g: TrigramModel([top_line_symbols(p) for p in pieces], vocabulary) for g, pieces in train.items()}
    real = {g: dataset_pieces(dataset, "test", i) for i, g in enumerate(genres)}
    return genres, models, recall_table(models, real)[0]


def report(args, genres, real_recall, gen_recall, confusion) -> None:
    """Print the table: per genre, real and generated recall and what the generated pieces were heard as."""
    print(json.dumps({"model": args.model, "pieces": args.pieces, "seed": args.seed}))
    print(f"{'genre':<11} {'real':>6} {'generated':>9}  heard as (generated)")
    for genre in genres:
        heard_as = ", ".join(f"{g} {n}" for g, n in confusion[genre].items())
        print(f"{genre:<11} {real_recall[genre]:>6.2f} {gen_recall[genre]:>9.2f}  {heard_as}")
    mean = lambda values: sum(values) / len(values)  # noqa: E731
    print(f"{'mean':<11} {mean(list(real_recall.values())):>6.2f} {mean(list(gen_recall.values())):>9.2f}")


if __name__ == "__main__":
    main()
