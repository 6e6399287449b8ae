"""Note lengths as the network predicts and samples them: is a style's rhythm lost in the network
(teacher-forced on real pieces), in the sampler's masks, or in free sampling (exposure bias)?

For the first DUR token after each PITCH, the shares of four length classes (CLASSES: shorter
than a quarter, quarter, half or dotted half, whole or longer): the real held-out pieces; the network's mean
prediction teacher-forced on them; the lengths it samples (one setting); and its mean prediction
replayed on its own sampled tokens (equal to the sampled shares unless a mask moved them).

    python benchmarks/levers/note_lengths.py --genre palestrina --pieces 60 --seed 700 \
        [--style-strength 0 --top-p 1.0 --temperature 1.0] [--model path/to/card.json]
"""

from __future__ import annotations

import argparse

import numpy as np
import torch

from musicgen.model.model_files import load_model
from musicgen.sampling.generate import Generator
from musicgen.sampling.request import GenerationRequest
from musicgen.tokens.codec import DUR, PITCH
from musicgen.training.dataset import load_dataset
from musicgen.training.nll import padded_next_token_batch

CLASSES = ("under a quarter", "quarter", "half or dotted half", "whole or longer")
EDGES = np.array([12, 24, 48])  # steps (12 per quarter note) where the classes meet
BATCH = 8  # sequences teacher-forced at a time


def length_class(steps: np.ndarray) -> np.ndarray:
    """Class index 0..3 of note lengths in steps."""
    return np.searchsorted(EDGES, steps, side="right")


@torch.no_grad()
def shares(model, sequences: list[list[int]], genre: int) -> tuple[np.ndarray, np.ndarray]:
    """(written, predicted): class shares (4,) of the first DUR after each PITCH in ``sequences``,
    and of the network's mean prediction there (teacher-forced, genre one-hot)."""
    one_hot = np.eye(4)[length_class(np.arange(DUR.min, DUR.max + 1))]  # (DUR tokens, 4)
    written, predicted = np.zeros(4), np.zeros(4)
    for start in range(0, len(sequences), BATCH):
        x, y = padded_next_token_batch(sequences[start : start + BATCH])
        logits, _ = model(x, torch.full((x.shape[0],), genre))
        inputs, targets = x.numpy(), y.numpy()
        at = (inputs >= PITCH.offset) & (inputs < PITCH.stop) & (targets >= DUR.offset) & (targets < DUR.stop)
        probabilities = torch.softmax(logits.float(), -1)[..., DUR.offset : DUR.stop].numpy()[at]  # (M, DUR tokens)
        predicted += ((probabilities / probabilities.sum(1, keepdims=True)) @ one_hot).sum(0)
        written += one_hot[targets[at] - DUR.offset].sum(0)
    return written / max(written.sum(), 1), predicted / max(predicted.sum(), 1e-9)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=None, help="card path (default: the shipped model)")
    parser.add_argument("--genre", default="palestrina")
    parser.add_argument("--pieces", type=int, default=60)
    parser.add_argument("--seed", type=int, default=700)
    parser.add_argument("--style-strength", type=float, default=None)
    parser.add_argument("--top-p", type=float, default=None)
    parser.add_argument("--temperature", type=float, default=1.0)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    loaded = load_model(args.model)
    model = loaded.model.eval()
    dataset = load_dataset()
    genre = dataset.genre_keys.index(args.genre)
    real = [dataset.piece_tokens(i) for split in ("valid", "test") for i in dataset.indices(split, genre)]
    real_written, real_predicted = shares(model, real, genre)
    requests = [
        GenerationRequest(
            genre=args.genre,
            seed=args.seed + i,
            style_strength=args.style_strength,
            top_p=args.top_p,
            temperature=args.temperature,
        )
        for i in range(args.pieces)
    ]
    sampled = [piece.tokens for piece in Generator(loaded).generate_batch(requests)]
    sampled_written, sampled_predicted = shares(model, sampled, genre)
    print(f"{args.genre}: shares of {', '.join(CLASSES)}")
    for name, values in (
        (f"real valid+test ({len(real)})", real_written),
        ("network on them (teacher-forced)", real_predicted),
        (f"sampled ({args.pieces})", sampled_written),
        ("network on its own tokens", sampled_predicted),
    ):
        print(f"  {name:<34} " + " / ".join(f"{v:.3f}" for v in values))


if __name__ == "__main__":
    main()
