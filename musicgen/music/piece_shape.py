"""The shape of a piece a request leaves open: its metre and its length, drawn per seed from the
genre's training pieces.

Torch-free. A German folk song is in 4/4 in only 30% of the corpus (3/4 21%, 2/4 20%, 6/8 14%...),
and Chinese songs run from 9 to 32 bars: giving every piece of a genre its commonest metre and its
median length made them easy to tell from real ones (docs/style_levers.md). So, unless the request
names them:

* the metre is the genre's own when one metre holds at least ``DEFINING_SHARE`` of its training
  pieces (reels, jigs, hornpipes, chorales, Palestrina); otherwise it is drawn with the corpus's
  odds among the metres of at least ``MIN_SHARE`` of the pieces;
* a through-composed piece's length is drawn from the genre's training pieces' bar counts between
  their 10th and 90th percentiles (the extremes are fragments and whole movements).

The draws use their own seeded stream, so the same seed gives the same metre, length and notes.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

DEFINING_SHARE = 0.85  # jigs: 6/8 in 92% of the training tunes; German songs: 4/4 in 30%
MIN_SHARE = 0.02  # metres rarer than this in a genre are never drawn for it
LENGTH_PERCENTILES = (10, 90)  # bar counts drawn from this range of the training pieces'
METER_STREAM, LENGTH_STREAM, KEY_STREAM = 1, 2, 3  # keys of the draws' streams (after the seed)


def _stream(seed: int, which: int) -> np.random.Generator:
    return np.random.default_rng([int(seed) % 2**63, which])


def meter_odds(counts: dict[str, int]) -> dict[str, float]:
    """Metres a piece of a genre may be given, with their chances (summing to 1), commonest first.

    ``counts``: training pieces per metre text (``{"4/4": 302, "3/4": 212}``). One metre at 1.0 when
    it holds DEFINING_SHARE of the pieces; {} when there are no counts.
    """
    total = sum(counts.values())
    if total <= 0:
        return {}
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    if ranked[0][1] / total >= DEFINING_SHARE:
        return {ranked[0][0]: 1.0}
    kept = [(meter, count) for meter, count in ranked if count / total >= MIN_SHARE]
    kept_total = sum(count for _, count in kept)
    return {meter: count / kept_total for meter, count in kept}


def draw_meter(counts: dict[str, int], seed: int) -> str | None:
    """The metre text of the piece with ``seed`` (see ``meter_odds``); None without counts."""
    odds = meter_odds(counts)
    if not odds:
        return None
    if len(odds) == 1:
        return next(iter(odds))
    names = list(odds)
    return names[int(_stream(seed, METER_STREAM).choice(len(names), p=list(odds.values())))]


def _lengths(bar_counts: dict[str, int]) -> tuple[np.ndarray, np.ndarray]:
    """``bar_counts`` (pieces per whole-bar count, keys as text) as two arrays: the bar counts that
    occur, ascending, and how many pieces have each."""
    items = sorted((int(bars), int(count)) for bars, count in bar_counts.items() if int(count) > 0)
    return np.array([b for b, _ in items], dtype=np.int64), np.array([c for _, c in items], dtype=np.int64)


def _range_of(bars: np.ndarray, counts: np.ndarray) -> tuple[int, int] | None:
    if len(bars) == 0:
        return None
    low, high = np.percentile(np.repeat(bars, counts), LENGTH_PERCENTILES, method="nearest")
    return max(1, int(low)), max(1, int(high))


def length_range(bar_counts: dict[str, int]) -> tuple[int, int] | None:
    """(shortest, longest) bar count drawn: the LENGTH_PERCENTILES of ``bar_counts`` (pieces per
    whole-bar count, keys as text); None without counts."""
    return _range_of(*_lengths(bar_counts))


def draw_bars(bar_counts: dict[str, int], seed: int) -> int | None:
    """The length in whole bars of a through-composed piece with ``seed``: a training piece's bar
    count drawn with the corpus's odds within ``length_range``; None without counts."""
    bars, counts = _lengths(bar_counts)
    bounds = _range_of(bars, counts)
    if bounds is None:
        return None
    inside = (bars >= bounds[0]) & (bars <= bounds[1])
    weights = counts[inside].astype(float)
    choice = _stream(seed, LENGTH_STREAM).choice(len(weights), p=weights / weights.sum())
    return int(bars[inside][int(choice)])


def bar_counts(pieces: list[dict], genre_keys: list[str], split: str = "train") -> dict[str, dict[str, int]]:
    """Per genre, how many ``split`` pieces of a dataset manifest have each whole-bar count
    (``bars`` counts a pickup as a bar; it is left out here)."""
    counts: dict[str, dict[str, int]] = {key: {} for key in genre_keys}
    for piece in pieces:
        if piece.get("split") != split or piece.get("genre") not in counts or not piece.get("bars"):
            continue
        whole = max(1, int(piece["bars"]) - (1 if piece.get("pickup") else 0))
        table = counts[piece["genre"]]
        table[str(whole)] = table.get(str(whole), 0) + 1
    return {key: dict(sorted(table.items(), key=lambda item: int(item[0]))) for key, table in counts.items()}


def draw_key(counts: dict[str, int], mode: str, seed: int, notes_out: Callable[[str], int] | None = None) -> str | None:
    """The key (e.g. ``"G major"``) for a piece in ``mode`` with ``seed``, drawn with the odds of the
    genre's training pieces in that mode (``counts``: pieces per key name); None without any.
    ``notes_out`` (key name -> notes the key would put outside their voices' ranges) keeps the draw
    to the keys that put the fewest notes out."""
    options = sorted((name, count) for name, count in counts.items() if name.endswith(" " + mode) and count > 0)
    if not options:
        return None
    if notes_out is not None:
        outs = [notes_out(name) for name, _ in options]
        fewest = min(outs)
        options = [option for option, out in zip(options, outs) if out == fewest]
    weights = np.array([count for _, count in options], dtype=float)
    choice = _stream(seed, KEY_STREAM).choice(len(options), p=weights / weights.sum())
    return options[int(choice)][0]
