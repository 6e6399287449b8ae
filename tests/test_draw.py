"""The draw picks what a step-by-step sampler over the fully sorted distribution picks."""

from __future__ import annotations

import bisect
import random

import pytest
import torch

from musicgen.sampling.token_draw import BATCHED_PICK_ROWS, PickSettings, draw, rank_settings
from musicgen.tokens.codec import PITCH, VOCAB_SIZE


def _reference(logits, companion, scale, mask, chord_low, temperature, top_k, top_p, uniform) -> int:
    """Guidance, masks, temperature, then top-k / top-p and an inverse-CDF draw, step by step."""
    logits = logits.clone()
    if companion is not None:
        logits = logits + scale * (logits - companion)
    logits = logits + mask
    if chord_low >= 0:  # chords go downwards: nothing at or above the chord's lowest note so far
        logits[chord_low : PITCH.stop] = float("-inf")
    logits = logits / temperature
    probs = torch.softmax(logits, dim=-1)
    ordered, order = torch.sort(probs, descending=True)
    cdf = ordered.cumsum(dim=-1).tolist()
    size = len(cdf)
    if top_p < 1.0:
        size = min(size, bisect.bisect_left(cdf, top_p) + 1)
    if top_k > 0:
        size = min(size, top_k)
    target = (1.0 - uniform) * cdf[size - 1]
    return int(order[min(bisect.bisect_left(cdf, target, 0, size), size - 1)])


@pytest.mark.parametrize("partial_sort", [32, VOCAB_SIZE])
@pytest.mark.parametrize("batch", [(1, 4), (BATCHED_PICK_ROWS, BATCHED_PICK_ROWS + 24)], ids=["few rows", "batched"])
def test_draw_matches_a_plain_python_sampler(partial_sort, batch):
    rng = random.Random(0)
    generator = torch.Generator().manual_seed(0)
    for trial in range(200 if batch[0] == 1 else 40):
        rows = rng.randint(*batch)
        partners = sorted(rng.sample(range(rows), rng.randint(0, rows)))
        logits = torch.randn(rows + len(partners), VOCAB_SIZE, generator=generator) * rng.choice((1.0, 3.0, 8.0))
        scales = [rng.choice((0.0, 0.5, 2.0)) for _ in partners]
        masks = [torch.zeros(VOCAB_SIZE).masked_fill_(torch.rand(VOCAB_SIZE, generator=generator) < 0.3, float("-inf"))]
        masks = [masks[0].clone() for _ in range(rows)]
        for mask in masks:
            mask[rng.randrange(VOCAB_SIZE)] = 0.0  # at least one token allowed
        lows = [rng.choice((-1, -1, PITCH.stop - 1 - rng.randrange(40))) for _ in range(rows)]
        temperatures = [rng.choice((1.0, 0.8, 1.3)) for _ in range(rows)]
        top_ks = [rng.choice((0, 0, 1, 5, 40)) for _ in range(rows)]
        top_ps = [rng.choice((1.0, 0.95, 0.5)) for _ in range(rows)]
        uniforms = [rng.random() if rng.random() > 0.1 else -1.0 for _ in range(rows)]
        ranking = rank_settings(masks, partners, scales, lows, PITCH.stop, temperatures, partial_sort)
        chosen = draw(logits, ranking, PickSettings(top_ks, top_ps, uniforms))
        for r in range(rows):
            if uniforms[r] < 0:
                assert chosen[r] == -1  # a forced token: nothing drawn
                continue
            companion = scale = None
            if r in partners:
                k = partners.index(r)
                companion, scale = logits[rows + k], scales[k]
            expected = _reference(
                logits[r], companion, scale, masks[r], lows[r], temperatures[r], top_ks[r], top_ps[r], uniforms[r]
            )
            assert chosen[r] == expected, (trial, r)
            assert masks[r][chosen[r]] == 0.0  # never a masked token
