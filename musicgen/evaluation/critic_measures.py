"""The measurements the style critic's features are made of: a piece's bar and beat grid, its top
voice, onset positions within the bar, onset patterns, and small histograms and ratios.

Pure numpy on ``Piece``s (times in steps, STEPS_PER_BEAT per quarter note); ``critic_features``
turns them into the named feature columns.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass

import numpy as np

from ..music.keys import MAJOR, MAJOR_PROFILE, MINOR_PROFILE, estimate_key, pitch_class_histogram
from ..music.listening import heard
from ..music.meter import bar_steps
from ..music.piece import STEPS_PER_BEAT, Piece

DEFAULT_BAR = 4 * STEPS_PER_BEAT  # bar length assumed for a piece without bar lines


def beat_steps(meter: tuple[int, int]) -> int:
    """Length of the metre's beat in steps: a dotted quarter in 6/8, 9/8, 12/8; else one denominator note."""
    numerator, denominator = meter
    unit = 4 * STEPS_PER_BEAT // denominator
    return 3 * unit if denominator == 8 and numerator % 3 == 0 else unit


def bar_pattern_key(length: int, positions) -> str:
    """A bar's (or beat's) onset pattern as text: ``"48|0,6,12"`` (length, onset steps)."""
    return f"{length}|" + ",".join(str(int(p)) for p in positions)


@dataclass
class PieceRhythm:
    """The bar and beat structure of one piece, as the features need it."""

    meter: tuple[int, int] | None
    bar: int  # usual bar length in steps
    beat: int  # beat length in steps
    bars: np.ndarray  # bar-line steps (may be empty)
    full_bars: list[tuple[int, int]]  # (start, index) of bars of the usual length


def bar_grid(piece: Piece) -> PieceRhythm:
    """The bar and beat grid of ``piece`` (its first metre, else its commonest bar length)."""
    meter = piece.meter_at(piece.pickup)
    bars = np.asarray(piece.bars, dtype=np.int64)
    lengths = np.diff(bars)
    if meter is not None:
        bar = bar_steps(meter)
    elif len(lengths):
        counts = Counter(lengths.tolist())
        bar = max(counts, key=lambda length: (counts[length], length))
    else:
        bar = DEFAULT_BAR
    beat = beat_steps(meter) if meter is not None else STEPS_PER_BEAT
    if bar % beat:
        beat = math.gcd(bar, beat)
    full = [(int(start), index) for index, (start, length) in enumerate(zip(bars[:-1], lengths)) if length == bar]
    return PieceRhythm(meter, bar, beat, bars, full)


def top_voice_notes(starts: np.ndarray, pitches: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """Indices of the skyline notes: per onset the highest note starting there, unless a higher one
    still sounds (the same melody as ``features.top_voice``); notes sorted by (start, pitch)."""
    if len(starts) == 0:
        return np.zeros(0, dtype=np.int64)
    last_of_onset = np.flatnonzero(np.r_[starts[1:] != starts[:-1], True])  # highest pitch of each onset
    onsets = starts[last_of_onset]
    keep = np.ones(len(onsets), dtype=bool)
    chunk = max(1, 2_000_000 // max(1, len(starts)))  # bounds the (notes, onsets) matrix to ~2 M cells
    for first in range(0, len(onsets), chunk):
        block = slice(first, first + chunk)
        held = (starts[:, None] < onsets[None, block]) & (ends[:, None] > onsets[None, block])
        above = held & (pitches[:, None] > pitches[last_of_onset[block]][None, :])
        keep[block] = ~above.any(0)
    return last_of_onset[keep]


def bin_shares(values, bins: int) -> np.ndarray:
    """Shares of the whole numbers ``values`` in 0..bins-1 (larger ones dropped); zeros when empty."""
    counts = np.bincount(np.asarray(values, dtype=np.int64), minlength=bins)[:bins].astype(float)
    total = counts.sum()
    return counts / total if total else counts


def weighted_degrees(pitches, weights, tonic: int) -> np.ndarray:
    """Weighted shares of the 12 scale degrees of ``pitches`` counted from ``tonic``."""
    histogram = np.zeros(12)
    np.add.at(histogram, (np.asarray(pitches, dtype=np.int64) - tonic) % 12, weights)
    total = histogram.sum()
    return histogram / total if total else histogram


def one_hot(index: int, size: int) -> np.ndarray:
    """A vector of ``size`` zeros with a 1 at ``index`` (none when it is out of range)."""
    vector = np.zeros(size)
    if 0 <= index < size:
        vector[index] = 1.0
    return vector


def key_and_clarity(piece: Piece) -> tuple[int, str, float]:
    """(tonic, mode, correlation of the piece's pitch classes with the winning key profile)."""
    tonic, mode = estimate_key(piece)
    profile = np.roll(MAJOR_PROFILE if mode == MAJOR else MINOR_PROFILE, tonic)
    histogram = np.asarray(pitch_class_histogram(piece))
    clarity = float(np.corrcoef(histogram, profile)[0, 1]) if histogram.std() > 0 else 0.0
    return tonic, mode, clarity


def bar_patterns(piece: Piece, listening: bool = True) -> tuple[list[str], list[str]]:
    """Onset-pattern keys of every full bar and every beat inside a full bar of ``piece`` (with
    ``listening``, of the bars heard in its notes, ``listening.heard``)."""
    if listening:
        piece = heard(piece)
    rhythm = bar_grid(piece)
    onsets = np.unique([note.start for note in piece.notes])
    bar_keys, beat_keys = [], []
    for start, _ in rhythm.full_bars:
        inside = onsets[(onsets >= start) & (onsets < start + rhythm.bar)] - start
        bar_keys.append(bar_pattern_key(rhythm.bar, inside))
        for beat_start in range(0, rhythm.bar, rhythm.beat):
            in_beat = inside[(inside >= beat_start) & (inside < beat_start + rhythm.beat)] - beat_start
            beat_keys.append(bar_pattern_key(rhythm.beat, in_beat))
    return bar_keys, beat_keys


def bar_positions(onsets: np.ndarray, rhythm: PieceRhythm) -> np.ndarray:
    """Steps from the bar line of each onset's bar; a pickup counts back from the first bar line."""
    bars = rhythm.bars
    if len(bars) == 0:
        return onsets % rhythm.bar
    index = np.searchsorted(bars, onsets, side="right") - 1
    from_bar = onsets - bars[np.maximum(index, 0)]
    pickup = (onsets - (bars[0] - rhythm.bar)) % rhythm.bar
    return np.where(index < 0, pickup, from_bar % rhythm.bar)


def vocabulary_shares(keys: list[str], vocabulary: list[str]) -> np.ndarray:
    """Share of ``keys`` equal to each vocabulary entry, then the share of all others."""
    shares = np.zeros(len(vocabulary) + 1)
    if not keys:
        return shares
    where = {key: i for i, key in enumerate(vocabulary)}
    for key in keys:
        shares[where.get(key, len(vocabulary))] += 1
    return shares / len(keys)


def pair_shares(ioi: np.ndarray) -> np.ndarray:
    """Shares of successive inter-onset pairs (a, b) with a:b = 3:1, 1:3, 2:1, 1:2 and 1:1."""
    if len(ioi) < 2:
        return np.zeros(5)
    a, b = ioi[:-1], ioi[1:]
    return np.array(
        [np.mean(a == 3 * b), np.mean(3 * a == b), np.mean(a == 2 * b), np.mean(2 * a == b), np.mean(a == b)]
    )


def lowest_sounding(starts, pitches, ends, onsets) -> np.ndarray:
    """Lowest pitch sounding at each onset (a note starting there or still held): (len(onsets),)."""
    lowest = np.full(len(onsets), 200, dtype=np.int64)
    chunk = max(1, 2_000_000 // max(1, len(starts)))
    for first in range(0, len(onsets), chunk):
        block = onsets[first : first + chunk]
        sounding = (starts[:, None] <= block[None, :]) & (ends[:, None] > block[None, :])
        lowest[first : first + chunk] = np.where(sounding, pitches[:, None], 200).min(0)
    return lowest


def highest_starting(starts, pitches, onsets) -> np.ndarray:
    """Highest pitch starting at each onset (notes sorted by start, then pitch)."""
    last = np.searchsorted(starts, onsets, side="right") - 1
    return pitches[last]


def log_ratio(numerator, denominator) -> float:
    """log2 of mean(numerator) / mean(denominator), 0 when either is empty."""
    if len(numerator) == 0 or len(denominator) == 0 or np.mean(denominator) <= 0:
        return 0.0
    return float(np.log2(np.mean(numerator) / np.mean(denominator)))


def bars_per_strain(piece: Piece, rhythm: PieceRhythm) -> float:
    """Mean number of bars from one strain end to the next (from the first bar line); 0 without strains."""
    bars = rhythm.bars.tolist()
    ends = [bars.index(b) + 1 for b in piece.last_bars if b in bars]
    if not ends:
        return 0.0
    return float(np.mean(np.diff([0] + sorted(ends))))
