"""Whole-piece style features for the style critic: one fixed-length vector per piece.

The critic listens (``FeatureSpace.listening``, the default): every feature is computed on the
piece as heard (``listening.heard``: its notes, with bar lines of the metre they imply), never on
the time signature, bar lines or strain marks the sampler writes, and the accents' periodicity
joins them. With ``listening`` off the notation is read as written (the critic before).

Pure numpy on ``Piece``s (times in steps, STEPS_PER_BEAT per quarter note). Pitch features are
counted from the piece's estimated tonic (``keys.estimate_key``), so the key a piece is written in
says nothing; rhythm features are counted within the bar (``piece.bars``) and the beat of the metre
(``piece.meters``). The groups (see ``FeatureSpace.names`` for every column):

* metre: one-hot of the time signature, compound or not, bar length, pickup;
* rhythm within the bar: onset positions on the 16th grid, onsets on the beat, onsets per bar, and
  the share of bars (and beats) whose onset pattern is each of the corpus's most common ones (a
  vocabulary learnt from the training pieces, stored with the critic);
* durations: note lengths, top-voice inter-onset intervals, long-short pairs (dotted, Scotch snap);
* melody (the top voice): signed intervals, contour, range;
* pitch classes from the tonic: all notes, the top voice, notes on bar lines; mode and key clarity;
* polyphony: notes sounding at each onset, distance of top and bottom voices;
* phrase and cadence: last note's scale degree (top and bass), its length, long notes at bar ends,
  strain ends (``piece.last_bars``) and their notes, longer notes at 2- and 4-bar phrase ends.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass

import numpy as np

from ..music.keys import MAJOR, MAJOR_PROFILE, MINOR_PROFILE, estimate_key, pitch_class_histogram
from ..music.listening import PERIODICITY_LAGS, heard, listen
from ..music.meter import METERS, bar_steps, meter_text
from ..music.piece import STEPS_PER_BEAT, Piece
from .features import LENGTH_CLASSES, length_histogram

SIXTEENTH = STEPS_PER_BEAT // 4  # 3 steps
GRID_BINS = 16  # onset positions 0..15 sixteenths into the bar; later ones share one bin
MAX_BAR_ONSETS = 16  # onsets-per-bar histogram: 0..15, then "16 or more"
MAX_INTERVAL = 12  # signed top-voice intervals -12..+12 semitones, then one bin each way beyond
MAX_VOICES = 5  # polyphony histogram: 1..4 notes sounding, then "5 or more"
BAR_PATTERNS = 64  # most common whole-bar onset patterns kept in the vocabulary
BEAT_PATTERNS = 24  # most common one-beat onset patterns kept
DEFAULT_BAR = 4 * STEPS_PER_BEAT  # bar length assumed for a piece without bar lines
LONG_NOTE = 2.0  # a top-voice note this many times the piece's median length counts as long
DEGREES = ("1", "b2", "2", "b3", "3", "4", "#4", "5", "b6", "6", "b7", "7")


def beat_steps(meter: tuple[int, int]) -> int:
    """Length of the metre's beat in steps: a dotted quarter in 6/8, 9/8, 12/8; else one denominator note."""
    numerator, denominator = meter
    unit = 4 * STEPS_PER_BEAT // denominator
    return 3 * unit if denominator == 8 and numerator % 3 == 0 else unit


def _bar_pattern_key(length: int, positions) -> str:
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


def _rhythm(piece: Piece) -> PieceRhythm:
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


def _histogram(values, bins: int) -> np.ndarray:
    counts = np.bincount(np.asarray(values, dtype=np.int64), minlength=bins)[:bins].astype(float)
    total = counts.sum()
    return counts / total if total else counts


def _weighted_degrees(pitches, weights, tonic: int) -> np.ndarray:
    histogram = np.zeros(12)
    np.add.at(histogram, (np.asarray(pitches, dtype=np.int64) - tonic) % 12, weights)
    total = histogram.sum()
    return histogram / total if total else histogram


def _one_hot(index: int, size: int) -> np.ndarray:
    vector = np.zeros(size)
    if 0 <= index < size:
        vector[index] = 1.0
    return vector


def _key(piece: Piece) -> tuple[int, str, float]:
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
    rhythm = _rhythm(piece)
    onsets = np.unique([note.start for note in piece.notes])
    bar_keys, beat_keys = [], []
    for start, _ in rhythm.full_bars:
        inside = onsets[(onsets >= start) & (onsets < start + rhythm.bar)] - start
        bar_keys.append(_bar_pattern_key(rhythm.bar, inside))
        for beat_start in range(0, rhythm.bar, rhythm.beat):
            in_beat = inside[(inside >= beat_start) & (inside < beat_start + rhythm.beat)] - beat_start
            beat_keys.append(_bar_pattern_key(rhythm.beat, in_beat))
    return bar_keys, beat_keys


@dataclass
class FeatureSpace:
    """The feature vector's definition: fixed groups plus the learnt rhythm-pattern vocabularies."""

    bar_vocabulary: list[str]
    beat_vocabulary: list[str]
    # True: the critic listens (``listening.heard``): the metre, bar lines and rhythm in the bar come
    # from the notes, no notated time signature or strain mark is read, and the accents' periodicity
    # joins the features. False: the notation as written (the critic before the listening one).
    listening: bool = True

    @property
    def names(self) -> list[str]:
        """One name per column of ``vector``."""
        lengths = [name for name, _ in LENGTH_CLASSES]
        names = [f"metre {meter_text(m)}" for m in METERS] + [
            "metre none",
            "metre compound",
            "metre changes",
            "bar quarters",
            "pickup share",
        ]
        names += [f"onset at 16th {i}" for i in range(GRID_BINS)] + ["onset later in bar", "onset off 16th grid"]
        names += ["onset on downbeat", "onset on beat", "onset on half beat", "onset elsewhere"]
        names += [f"bar onsets {i}" for i in range(MAX_BAR_ONSETS)] + [
            f"bar onsets {MAX_BAR_ONSETS}+",
            "bar onsets mean per beat",
            "bar onsets spread",
        ]
        names += [f"bar pattern {p}" for p in self.bar_vocabulary] + ["bar pattern other", "bar pattern repeat"]
        names += [f"beat pattern {p}" for p in self.beat_vocabulary] + ["beat pattern other"]
        names += [f"note length {n}" for n in lengths] + [f"melody ioi {n}" for n in lengths]
        names += ["pair long-short 3:1", "pair short-long 1:3", "pair 2:1", "pair 1:2", "pair equal"]
        names += [f"interval {i:+d}" for i in range(-MAX_INTERVAL, MAX_INTERVAL + 1)] + [
            "interval down far",
            "interval up far",
        ]
        names += ["melody abs interval", "melody direction changes", "melody range", "piece range"]
        names += [f"degree {d}" for d in DEGREES] + [f"melody degree {d}" for d in DEGREES]
        names += [f"downbeat degree {d}" for d in DEGREES] + ["mode major", "key clarity"]
        names += [f"voices {i}" for i in range(1, MAX_VOICES)] + [
            f"voices {MAX_VOICES}+",
            "voices mean",
            "outer voices distance",
        ]
        names += [f"final degree {d}" for d in DEGREES] + [f"final bass degree {d}" for d in DEGREES]
        names += [f"strain end degree {d}" for d in DEGREES]
        names += [
            "final length beats",
            "final on bar line",
            "long at bar end",
            "bar end length ratio",
            "phrase-4 length ratio",
            "phrase-2 length ratio",
        ]
        names += [f"long note at bar quarter {i}" for i in range(4)]
        names += ["strains", "bars per strain", "bars", "notes", "notes per bar"]
        if self.listening:
            names += [f"accents recur every {lag} steps" for lag in PERIODICITY_LAGS]
        return names

    @property
    def size(self) -> int:
        return len(self.names)

    def matrix(self, pieces) -> np.ndarray:
        """Feature vectors of many pieces: (N, size)."""
        rows = [self.vector(piece) for piece in pieces]
        return np.stack(rows) if rows else np.zeros((0, self.size))

    def vector(self, piece: Piece) -> np.ndarray:
        """The feature vector of one piece: (size,), finite; all zeros but the metre for an empty piece."""
        if self.listening:
            ear, profile = listen(piece)
            return np.concatenate([self._vector(ear), profile])
        return self._vector(piece)

    def _vector(self, piece: Piece) -> np.ndarray:
        """``vector`` of the piece as given (its bar lines and metre as they are)."""
        rhythm = _rhythm(piece)
        starts = np.array([n.start for n in piece.notes], dtype=np.int64)
        pitches = np.array([n.pitch for n in piece.notes], dtype=np.int64)
        durations = np.array([n.duration for n in piece.notes], dtype=np.int64)
        ends = starts + durations
        onsets = np.unique(starts)
        bar_len, beat = rhythm.bar, rhythm.beat
        parts = [self._metre(piece, rhythm)]

        # Rhythm within the bar: the position of every onset, counted from its bar line.
        positions = _positions(onsets, rhythm)
        on_grid = positions % SIXTEENTH == 0
        grid = np.where(on_grid, np.minimum(positions // SIXTEENTH, GRID_BINS), GRID_BINS + 1)
        parts.append(_histogram(grid, GRID_BINS + 2))
        phase = positions % beat
        kinds = np.where(positions == 0, 0, np.where(phase == 0, 1, np.where(2 * phase == beat, 2, 3)))
        parts.append(_histogram(kinds, 4))
        per_bar = np.array([np.count_nonzero((onsets >= s) & (onsets < s + bar_len)) for s, _ in rhythm.full_bars])
        parts.append(_histogram(np.minimum(per_bar, MAX_BAR_ONSETS), MAX_BAR_ONSETS + 1))
        beats_per_bar = bar_len / beat
        parts.append(
            np.array(
                [
                    per_bar.mean() / beats_per_bar if len(per_bar) else 0.0,
                    per_bar.std() / beats_per_bar if len(per_bar) else 0.0,
                ]
            )
        )
        bar_keys, beat_keys = bar_patterns(piece)
        parts.append(_vocabulary_shares(bar_keys, self.bar_vocabulary))
        repeat = Counter(bar_keys).most_common(1)[0][1] / len(bar_keys) if bar_keys else 0.0
        parts.append(np.array([repeat]))
        parts.append(_vocabulary_shares(beat_keys, self.beat_vocabulary))

        # Durations, and the melody's rhythm.
        parts.append(length_histogram(durations.tolist()) if len(durations) else np.zeros(len(LENGTH_CLASSES)))
        top = top_voice_notes(starts, pitches, ends)
        melody, melody_starts = pitches[top], starts[top]
        ioi = np.diff(melody_starts)
        parts.append(length_histogram(ioi.tolist()) if len(ioi) else np.zeros(len(LENGTH_CLASSES)))
        parts.append(_pair_shares(ioi))

        # Melody: signed intervals of the top voice and its shape.
        intervals = np.diff(melody)
        parts.append(
            _histogram(
                np.clip(intervals, -MAX_INTERVAL - 1, MAX_INTERVAL + 1) + MAX_INTERVAL + 1, 2 * MAX_INTERVAL + 3
            )[[*range(1, 2 * MAX_INTERVAL + 2), 0, 2 * MAX_INTERVAL + 2]]
        )
        moving = np.sign(intervals[intervals != 0])
        turns = np.count_nonzero(moving[1:] != moving[:-1]) / (len(moving) - 1) if len(moving) > 1 else 0.0
        parts.append(
            np.array(
                [
                    np.abs(intervals).mean() / 12 if len(intervals) else 0.0,
                    turns,
                    np.ptp(melody) / 24 if len(melody) else 0.0,
                    np.ptp(pitches) / 48 if len(pitches) else 0.0,
                ]
            )
        )

        # Pitch classes counted from the tonic.
        tonic, mode, clarity = _key(piece)
        parts.append(_weighted_degrees(pitches, durations, tonic))
        parts.append(_weighted_degrees(melody, np.ones(len(melody)), tonic))
        on_bar = np.isin(starts, rhythm.bars)
        parts.append(_weighted_degrees(pitches[on_bar], np.ones(int(on_bar.sum())), tonic))
        parts.append(np.array([float(mode == MAJOR), clarity]))

        # Polyphony: notes sounding at each onset, and how far apart the outer voices are.
        sorted_ends = np.sort(ends)
        sounding = np.searchsorted(starts, onsets, side="right") - np.searchsorted(sorted_ends, onsets, side="right")
        parts.append(_histogram(np.clip(sounding, 1, MAX_VOICES) - 1, MAX_VOICES))
        lowest = _lowest_sounding(starts, pitches, ends, onsets)
        highest = _highest_starting(starts, pitches, onsets)
        parts.append(
            np.array(
                [
                    sounding.mean() / MAX_VOICES if len(sounding) else 0.0,
                    (highest - lowest).mean() / 24 if len(onsets) else 0.0,
                ]
            )
        )

        parts.append(self._cadence(piece, rhythm, tonic, starts, pitches, durations, top))
        parts.append(
            np.array(
                [
                    len(piece.last_bars) / 4,
                    _bars_per_strain(piece, rhythm) / 16,
                    math.log1p(len(rhythm.full_bars)) / 5,
                    math.log1p(len(piece.notes)) / 7,
                    math.log1p(len(piece.notes) / max(1, len(rhythm.bars))) / 3,
                ]
            )
        )
        vector = np.concatenate(parts)
        assert len(vector) == self.size - (len(PERIODICITY_LAGS) if self.listening else 0), (len(vector), self.size)
        return np.nan_to_num(vector, nan=0.0, posinf=0.0, neginf=0.0)

    @staticmethod
    def _metre(piece: Piece, rhythm: PieceRhythm) -> np.ndarray:
        meter = rhythm.meter
        one_hot = _one_hot(METERS.index(meter) if meter in METERS else len(METERS), len(METERS) + 1)
        compound = float(meter is not None and meter[1] == 8 and meter[0] % 3 == 0)
        return np.concatenate(
            [
                one_hot,
                [
                    compound,
                    float(len(piece.meters) > 1),
                    rhythm.bar / STEPS_PER_BEAT / 8,
                    min(1.0, piece.pickup / rhythm.bar),
                ],
            ]
        )

    @staticmethod
    def _cadence(piece: Piece, rhythm: PieceRhythm, tonic: int, starts, pitches, durations, top) -> np.ndarray:
        """Phrase and cadence shape (see the module docstring)."""
        if len(starts) == 0:
            return np.zeros(3 * 12 + 10)
        final_start = starts[-1]
        final = starts == final_start
        final_top = _one_hot(int(pitches[final].max() - tonic) % 12, 12)
        final_bass = _one_hot(int(pitches[final].min() - tonic) % 12, 12)
        bars = rhythm.bars
        strain_ends = [int(bars[i + 1]) for i in np.flatnonzero(np.isin(bars[:-1], piece.last_bars))]
        strain_notes = [top[starts[top] < end][-1] for end in strain_ends if np.any(starts[top] < end)]
        strain_degrees = _weighted_degrees(pitches[strain_notes], np.ones(len(strain_notes)), tonic)
        melody_starts, melody_durations = starts[top], durations[top].astype(float)
        typical = float(np.median(melody_durations))
        bar_end_lengths, phrase4, phrase2, other = [], [], [], []
        for start, index in rhythm.full_bars:
            inside = (melody_starts >= start) & (melody_starts < start + rhythm.bar)
            if not inside.any():
                continue
            last = melody_durations[inside][-1]
            bar_end_lengths.append(last)
            (phrase4 if index % 4 == 3 else phrase2 if index % 2 == 1 else other).append(last)
        bar_end_lengths = np.array(bar_end_lengths)
        long = melody_durations >= LONG_NOTE * typical
        positions = _positions(melody_starts[long], rhythm)
        long_quarters = _histogram(np.minimum(positions * 4 // rhythm.bar, 3), 4)
        odd = phrase4 + phrase2
        return np.concatenate(
            [
                final_top,
                final_bass,
                strain_degrees,
                [
                    math.log2(1 + durations[final].max() / rhythm.beat),
                    float(final_start in set(bars.tolist())),
                    float(np.mean(bar_end_lengths >= rhythm.beat)) if len(bar_end_lengths) else 0.0,
                    _log_ratio(bar_end_lengths, [typical]),
                    _log_ratio(phrase4, phrase2 + other),
                    _log_ratio(odd, other),
                ],
                long_quarters,
            ]
        )


def _positions(onsets: np.ndarray, rhythm: PieceRhythm) -> np.ndarray:
    """Steps from the bar line of each onset's bar; a pickup counts back from the first bar line."""
    bars = rhythm.bars
    if len(bars) == 0:
        return onsets % rhythm.bar
    index = np.searchsorted(bars, onsets, side="right") - 1
    from_bar = onsets - bars[np.maximum(index, 0)]
    pickup = (onsets - (bars[0] - rhythm.bar)) % rhythm.bar
    return np.where(index < 0, pickup, from_bar % rhythm.bar)


def _vocabulary_shares(keys: list[str], vocabulary: list[str]) -> np.ndarray:
    """Share of ``keys`` equal to each vocabulary entry, then the share of all others."""
    shares = np.zeros(len(vocabulary) + 1)
    if not keys:
        return shares
    where = {key: i for i, key in enumerate(vocabulary)}
    for key in keys:
        shares[where.get(key, len(vocabulary))] += 1
    return shares / len(keys)


def _pair_shares(ioi: np.ndarray) -> np.ndarray:
    """Shares of successive inter-onset pairs (a, b) with a:b = 3:1, 1:3, 2:1, 1:2 and 1:1."""
    if len(ioi) < 2:
        return np.zeros(5)
    a, b = ioi[:-1], ioi[1:]
    return np.array(
        [np.mean(a == 3 * b), np.mean(3 * a == b), np.mean(a == 2 * b), np.mean(2 * a == b), np.mean(a == b)]
    )


def _lowest_sounding(starts, pitches, ends, onsets) -> np.ndarray:
    """Lowest pitch sounding at each onset (a note starting there or still held): (len(onsets),)."""
    lowest = np.full(len(onsets), 200, dtype=np.int64)
    chunk = max(1, 2_000_000 // max(1, len(starts)))
    for first in range(0, len(onsets), chunk):
        block = onsets[first : first + chunk]
        sounding = (starts[:, None] <= block[None, :]) & (ends[:, None] > block[None, :])
        lowest[first : first + chunk] = np.where(sounding, pitches[:, None], 200).min(0)
    return lowest


def _highest_starting(starts, pitches, onsets) -> np.ndarray:
    """Highest pitch starting at each onset (notes sorted by start, then pitch)."""
    last = np.searchsorted(starts, onsets, side="right") - 1
    return pitches[last]


def _log_ratio(numerator, denominator) -> float:
    """log2 of mean(numerator) / mean(denominator), 0 when either is empty."""
    if len(numerator) == 0 or len(denominator) == 0 or np.mean(denominator) <= 0:
        return 0.0
    return float(np.log2(np.mean(numerator) / np.mean(denominator)))


def _bars_per_strain(piece: Piece, rhythm: PieceRhythm) -> float:
    """Mean number of bars from one strain end to the next (from the first bar line); 0 without strains."""
    bars = rhythm.bars.tolist()
    ends = [bars.index(b) + 1 for b in piece.last_bars if b in bars]
    if not ends:
        return 0.0
    return float(np.mean(np.diff([0] + sorted(ends))))


def fit_feature_space(pieces, listening: bool = True) -> FeatureSpace:
    """A FeatureSpace whose rhythm vocabularies are the patterns found in the most pieces of ``pieces``."""
    bar_counts, beat_counts = Counter(), Counter()
    for piece in pieces:
        bar_keys, beat_keys = bar_patterns(piece, listening)
        bar_counts.update(set(bar_keys))
        beat_counts.update(set(beat_keys))

    def top(counts: Counter, size: int) -> list[str]:  # by pieces containing the pattern, ties by name
        return [key for key, _ in sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:size]]

    return FeatureSpace(top(bar_counts, BAR_PATTERNS), top(beat_counts, BEAT_PATTERNS), listening)
