"""One token per row from the network's logits: guidance, masks, temperature, top-k, top-p, a draw.

Two halves, so the sampler's step can run the tensor half inside the network's compiled step
(``step_kernels.network_step_ranked``: one call into TorchScript per token, not a dozen small
ones from Python, each slowed by the weights that stream through the cache between them):

* ``rank`` (TorchScript-compatible): guidance, additive masks, chords downwards, temperature,
  softmax, then the running probability of the likeliest ``partial_sort`` tokens and their ids;
* ``pick`` (plain Python over two short lists, with ``bisect``): top-p, top-k and the
  inverse-CDF draw, from one uniform number per row.

``draw`` is the two in a row.
"""

from __future__ import annotations

import bisect
from typing import List, NamedTuple, Optional, Tuple

import torch
from torch import Tensor


class RankSettings(NamedTuple):
    """What ``rank`` needs besides the logits, for the B rows of one step (a TorchScript named
    tuple: the compiled step takes it whole). Build it with ``rank_settings``.

    ``masks``: B additive (V,) rows of 0 and -inf. ``partners[k]``: the row of style companion k
    (logits row B + k), guided with ``scales[k]``. Row ``chord_rows[k]`` may have no pitch from token
    ``chord_lows[k]`` up to ``pitch_stop`` (chords go downwards, as the codec writes them).
    ``temperatures`` (B, 1), or None when all are 1. ``partial_sort``: the likeliest tokens kept.
    """

    masks: List[Tensor]
    partners: List[int]
    scales: List[float]
    chord_rows: List[int]
    chord_lows: List[int]
    pitch_stop: int
    temperatures: Optional[Tensor]
    partial_sort: int


class PickSettings(NamedTuple):
    """What ``pick`` needs besides ``rank``'s output, per row: top-k (0 = off), top-p (1.0 = off)
    and a uniform number in [0, 1) (negative: the row's next token is forced, nothing is drawn)."""

    top_ks: list[int]
    top_ps: list[float]
    uniforms: list[float]


def rank_settings(
    masks: list[Tensor],
    partners: list[int],
    scales: list[float],
    chord_lows: list[int],
    pitch_stop: int,
    temperatures: list[float],
    partial_sort: int,
) -> RankSettings:
    """``RankSettings`` from per-row chord lows (-1 = none) and temperatures: only the rows with
    a chord are named, and the temperatures become a column (None when all are 1)."""
    rows = [row for row, low in enumerate(chord_lows) if low >= 0]
    scaled = any(t != 1.0 for t in temperatures)
    return RankSettings(
        masks,
        partners,
        scales,
        rows,
        [chord_lows[row] for row in rows],
        pitch_stop,
        torch.tensor(temperatures, dtype=torch.float32).unsqueeze(1) if scaled else None,
        partial_sort,
    )


def rank(logits: Tensor, settings: RankSettings) -> Tuple[Tensor, Tensor, Tensor]:
    """Guided, masked, tempered distributions of the rows and their likeliest tokens.

    logits (B + P, V): the B rows, then one style companion per partner row, guided as
    l + scale (l - l_companion) (see ``RankSettings``; adding the masks before the guidance
    changes no allowed logit). Only the rows named are looped over (a loop in TorchScript costs
    about a microsecond a turn). Returns the running probabilities of the likeliest
    ``partial_sort`` tokens per row (B, k) (float32 sums), their token ids (B, k) and the full
    probabilities (B, V), for a row whose top-k / top-p choice reaches past them.
    """
    masks, partners, scales = settings.masks, settings.partners, settings.scales
    rows = len(masks)
    if rows == 1:
        guided = logits[:1] + masks[0]
    else:
        guided = logits[:rows] + torch.stack(masks)
    for k in range(len(partners)):
        if scales[k] != 0.0:
            row = guided[partners[k]]
            row.add_(scales[k] * (row - logits[rows + k]))
    chord_rows, chord_lows = settings.chord_rows, settings.chord_lows
    for k in range(len(chord_rows)):
        low = chord_lows[k]
        guided[chord_rows[k]].narrow(0, low, settings.pitch_stop - low).fill_(float("-inf"))
    temperatures = settings.temperatures
    if temperatures is not None:
        guided /= temperatures
    probs = torch.softmax(guided, dim=-1)
    ordered, order = probs.topk(min(settings.partial_sort, probs.size(1)), dim=-1)
    return ordered.cumsum_(dim=-1), order, probs


BATCHED_PICK_ROWS = 16  # from this many rows on, ``pick`` draws with a few tensor ops, not a loop per row


def pick(ranked: Tuple[Tensor, Tensor, Tensor], settings: PickSettings) -> list[int]:
    """One token per row from ``rank``'s output (-1 where the uniform is negative: the row's
    next token is forced). Only the likeliest tokens ``rank`` kept are searched when they hold the
    row's top-k / top-p choice (almost always at top-p < 1: music is peaked; the prefix is a full
    sort's, so the draw is too); else that row's tokens are all sorted (unless ``rank`` kept them all).

    A few rows are drawn in Python (``bisect``: microseconds a row), many at once in float64 tensor
    ops with the same arithmetic (``_pick_batched``): a row draws the same token either way."""
    top_ks, top_ps, uniforms = settings
    if len(uniforms) >= BATCHED_PICK_ROWS:
        return _pick_batched(ranked, settings)
    cdfs = ranked[0].tolist()  # float64 lists of float32 sums
    orders = ranked[1].tolist()
    for row, (cdf, row_order) in _sorted_past_kept(ranked, settings, [cdf[-1] for cdf in cdfs]).items():
        cdfs[row], orders[row] = cdf, row_order
    return [
        _draw(cdfs[row], orders[row], top_ks[row], top_ps[row], uniform) if uniform >= 0 else -1
        for row, uniform in enumerate(uniforms)
    ]


def _sorted_past_kept(ranked, settings: PickSettings, lasts: list[float]) -> dict[int, tuple[list, list]]:
    """The rows drawn whose top-k / top-p choice may reach past the tokens ``rank`` kept (``lasts``:
    each row's running probability of them), each with its whole distribution sorted: {row: (running
    probabilities, token ids)} (each row's sort is its own; none when ``rank`` kept every token)."""
    cdf_rows, _, probs = ranked
    kept = cdf_rows.size(1)
    if kept >= probs.size(1):
        return {}
    rows = [
        row
        for row, uniform in enumerate(settings.uniforms)
        if uniform >= 0
        and not (0 < settings.top_ks[row] <= kept or (settings.top_ps[row] < 1.0 and lasts[row] > settings.top_ps[row]))
    ]
    if not rows:
        return {}
    ordered, order = torch.sort(probs if len(rows) == probs.size(0) else probs[rows], dim=-1, descending=True)
    return dict(zip(rows, zip(ordered.cumsum_(dim=-1).tolist(), order.tolist())))


def _draw(cdf: list[float], order: list[int], top_k: int, top_p: float, uniform: float) -> int:
    """The token of one row: its running probabilities ``cdf`` over the tokens ``order``."""
    size = len(cdf)
    if top_p < 1.0:  # the likeliest tokens whose more likely neighbours hold less than top-p
        size = min(size, bisect.bisect_left(cdf, top_p) + 1)
    if top_k > 0:
        size = min(size, top_k)
    # (1 - u) lies in (0, 1], so the draw lands on a token with non-zero probability.
    target = (1.0 - uniform) * cdf[size - 1]
    return order[min(bisect.bisect_left(cdf, target, 0, size), size - 1)]


def _pick_batched(ranked: Tuple[Tensor, Tensor, Tensor], settings: PickSettings) -> list[int]:
    """``pick`` for many rows: ``_draw``'s steps as float64 tensor ops over the kept tokens (a
    float32 sum is exact in float64, as in the lists ``_draw`` reads), the rare row whose choice
    reaches past them drawn by ``_draw`` after its full sort."""
    top_ks, top_ps, uniforms = settings
    cdf_rows, order, _ = ranked
    kept = cdf_rows.size(1)
    cdf = cdf_rows.double()  # (B, k)
    top_k = torch.tensor(top_ks)
    top_p = torch.tensor(top_ps, dtype=torch.float64).unsqueeze(1)
    uniform = torch.tensor(uniforms, dtype=torch.float64).unsqueeze(1)
    size = torch.full_like(top_k, kept)
    size = torch.where(top_p[:, 0] < 1.0, torch.minimum(size, torch.searchsorted(cdf, top_p).squeeze(1) + 1), size)
    size = torch.where(top_k > 0, torch.minimum(size, top_k), size)
    target = (1.0 - uniform) * cdf.gather(1, (size - 1).unsqueeze(1))
    index = torch.minimum(torch.searchsorted(cdf, target).squeeze(1), size - 1)
    chosen = [
        token if u >= 0 else -1 for token, u in zip(order.gather(1, index.unsqueeze(1)).squeeze(1).tolist(), uniforms)
    ]
    for row, (row_cdf, row_order) in _sorted_past_kept(ranked, settings, cdf_rows[:, -1].tolist()).items():
        chosen[row] = _draw(row_cdf, row_order, top_ks[row], top_ps[row], uniforms[row])
    return chosen


def kept_tokens(top_ks: list[int], top_ps: list[float], partial_sort: int, vocab_size: int) -> int:
    """Tokens ``rank`` should keep: ``partial_sort``, or the whole vocabulary when no row's top-k
    / top-p choice can be expected within them (top-p 1.0 without top-k: then ``pick`` needs no
    second, full sort)."""
    for top_k, top_p in zip(top_ks, top_ps):
        if 0 < top_k <= partial_sort or top_p < 1.0:
            return partial_sort
    return vocab_size


def draw(logits: Tensor, ranking: RankSettings, picking: PickSettings) -> list[int]:
    """``rank`` then ``pick``: one token per row (-1 where the row's uniform is negative)."""
    return pick(rank(logits, ranking), picking)
