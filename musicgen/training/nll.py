"""Scoring whole pieces under the network: padded batches and NLL per genre.

Shared by training (validation after each epoch) and evaluation (test NLL, genre identification),
so neither imports the other.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from ..model.network import GenreRNN
from ..tokens.codec import PAD
from .dataset import Dataset

IGNORE = -100  # target value that cross_entropy skips (padding)


def padded_next_token_batch(sequences) -> tuple[torch.Tensor, torch.Tensor]:
    """Token sequences padded to one length: inputs x = tokens[:-1] (PAD after the end) and targets
    y = tokens[1:] (IGNORE after the end), each (B, T) int64."""
    T = max(len(s) for s in sequences) - 1
    x = torch.full((len(sequences), T), PAD, dtype=torch.long)
    y = torch.full((len(sequences), T), IGNORE, dtype=torch.long)
    for b, s in enumerate(sequences):
        s = torch.as_tensor(s, dtype=torch.long)
        x[b, : len(s) - 1] = s[:-1]
        y[b, : len(s) - 1] = s[1:]
    return x, y


@torch.no_grad()
def scored_nll(model: GenreRNN, sequences, scored, weights: torch.Tensor) -> np.ndarray:
    """Negative log-likelihood (nats) of each sequence's scored tokens, teacher-forced under the
    genre weights (G,): ``scored[k][t]`` True counts token t of sequence k (t >= 1) (K,)."""
    x, y = padded_next_token_batch(sequences)
    for k, keep in enumerate(scored):
        targets = y[k, : len(sequences[k]) - 1]  # target i is token i + 1
        targets[~torch.from_numpy(np.asarray(keep[1:], dtype=bool))] = IGNORE
    logits, _ = model(x, weights.unsqueeze(0).expand(len(sequences), -1))
    return F.cross_entropy(logits.transpose(1, 2), y, ignore_index=IGNORE, reduction="none").sum(1).numpy()


def next_token_batch(dataset: Dataset, pieces: list[int]) -> tuple[torch.Tensor, torch.Tensor]:
    """Whole dataset pieces as a padded batch (``padded_next_token_batch``)."""
    return padded_next_token_batch([dataset.piece_tokens(i) for i in pieces])


@torch.no_grad()
def evaluate_nll(
    model: GenreRNN, dataset: Dataset, pieces: list[int], genre_override=None, batch: int = 32
) -> dict[int, float]:
    """Mean NLL in nats per event (predicting every token after BOS) per genre index."""
    model.eval()
    totals: dict[int, list[float]] = {}
    order = sorted(pieces, key=lambda i: len(dataset.piece_tokens(i)))
    for start in range(0, len(order), batch):
        chunk = order[start : start + batch]
        x, y = next_token_batch(dataset, chunk)
        genre = torch.tensor([int(dataset.genre[i]) if genre_override is None else genre_override for i in chunk])
        logits, _ = model(x, genre)
        nll = F.cross_entropy(logits.transpose(1, 2), y, ignore_index=IGNORE, reduction="none").sum(1)
        counts = (y != IGNORE).sum(1)
        for b, i in enumerate(chunk):
            total = totals.setdefault(int(dataset.genre[i]), [0.0, 0])
            total[0] += float(nll[b])
            total[1] += int(counts[b])
    return {g: s / max(1, n) for g, (s, n) in totals.items()}
