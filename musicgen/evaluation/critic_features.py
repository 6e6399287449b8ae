"""Whole-piece style features for the style critic: one fixed-length vector per piece.

The critic listens (``FeatureSpace.listening``, the default): every feature is computed on the
piece as heard (``listening.heard``: its notes, with bar lines of the metre they imply), never on
the time signature, bar lines or strain marks the sampler writes, and the accents' periodicity
joins them. With ``listening`` off the notation is read as written (the critic before).

Pure numpy on ``Piece``s (times in steps, STEPS_PER_BEAT per quarter note). Pitch features are
counted from the piece's estimated tonic (``keys.estimate_key``), so the key a piece is written in
says nothing; rhythm features are counted within the bar (``piece.bars``) and the beat of the metre
(``piece.meters``). Each group writes its columns' names with their values (``Columns``), so the
names and the vector cannot drift apart; the measurements are ``critic_measures``'. The groups (see
``FeatureSpace.names`` for every column):

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

from ..music.keys import MAJOR
from ..music.listening import PERIODICITY_LAGS, listen
from ..music.meter import METERS, meter_text
from ..music.piece import STEPS_PER_BEAT, Piece, make_piece
from .critic_measures import (
    PieceRhythm,
    bar_grid,
    bar_patterns,
    bar_positions,
    bars_per_strain,
    bin_shares,
    highest_starting,
    key_and_clarity,
    log_ratio,
    lowest_sounding,
    one_hot,
    pair_shares,
    top_voice_notes,
    vocabulary_shares,
    weighted_degrees,
)
from .features import LENGTH_CLASSES, length_histogram

SIXTEENTH = STEPS_PER_BEAT // 4  # 3 steps
GRID_BINS = 16  # onset positions 0..15 sixteenths into the bar; later ones share one bin
MAX_BAR_ONSETS = 16  # onsets-per-bar histogram: 0..15, then "16 or more"
MAX_INTERVAL = 12  # signed top-voice intervals -12..+12 semitones, then one bin each way beyond
MAX_VOICES = 5  # polyphony histogram: 1..4 notes sounding, then "5 or more"
BAR_PATTERNS = 64  # most common whole-bar onset patterns kept in the vocabulary
BEAT_PATTERNS = 24  # most common one-beat onset patterns kept
LONG_NOTE = 2.0  # a top-voice note this many times the piece's median length counts as long
DEGREES = ("1", "b2", "2", "b3", "3", "4", "#4", "5", "b6", "6", "b7", "7")
LENGTH_NAMES = [name for name, _ in LENGTH_CLASSES]
EMPTY = make_piece([], bars=[0])  # the piece whose columns name them all


class Columns:
    """A feature vector as it is written: each group adds its columns' names with their values."""

    def __init__(self):
        self.names: list[str] = []
        self._parts: list[np.ndarray] = []

    def add(self, names: list[str], values, finite: bool = True) -> None:
        """Columns ``names`` holding ``values`` (as many); ``finite``: NaN and infinities become 0."""
        values = np.asarray(values, dtype=float).ravel()
        if len(values) != len(names):
            raise ValueError(f"{len(names)} feature names for {len(values)} values, from {names[0]!r} on")
        self.names += names
        self._parts.append(np.nan_to_num(values, nan=0.0, posinf=0.0, neginf=0.0) if finite else values)

    def vector(self) -> np.ndarray:
        return np.concatenate(self._parts)


@dataclass
class _Notes:
    """A piece's notes as arrays (sorted by start, then pitch), its onsets and its top voice."""

    starts: np.ndarray
    pitches: np.ndarray
    durations: np.ndarray
    ends: np.ndarray
    onsets: np.ndarray
    top: np.ndarray  # indices of the top voice's notes (``top_voice_notes``)

    @classmethod
    def of(cls, piece: Piece) -> _Notes:
        starts = np.array([n.start for n in piece.notes], dtype=np.int64)
        pitches = np.array([n.pitch for n in piece.notes], dtype=np.int64)
        durations = np.array([n.duration for n in piece.notes], dtype=np.int64)
        ends = starts + durations
        return cls(starts, pitches, durations, ends, np.unique(starts), top_voice_notes(starts, pitches, ends))


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
        """One name per column of ``vector`` (the columns as an empty piece writes them)."""
        names = self._columns(EMPTY).names
        if self.listening:
            names += _periodicity_names()
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
        if not self.listening:
            return self._columns(piece).vector()
        ear, profile = listen(piece)
        columns = self._columns(ear)
        columns.add(_periodicity_names(), profile, finite=False)
        return columns.vector()

    def _columns(self, piece: Piece) -> Columns:
        """Every group's columns for the piece as given (its bar lines and metre as they are)."""
        rhythm, notes, columns = bar_grid(piece), _Notes.of(piece), Columns()
        _metre(columns, piece, rhythm)
        _bar_rhythm(columns, notes, rhythm)
        self._patterns(columns, piece)
        _durations(columns, notes)
        _melody(columns, notes)
        tonic = _pitch_classes(columns, piece, notes, rhythm)
        _polyphony(columns, notes)
        _cadence(columns, piece, rhythm, tonic, notes)
        _form(columns, piece, rhythm)
        return columns

    def _patterns(self, columns: Columns, piece: Piece) -> None:
        """Shares of the bars and beats whose onset pattern is each of the vocabulary's."""
        bar_keys, beat_keys = bar_patterns(piece)
        bar_names = [f"bar pattern {p}" for p in self.bar_vocabulary] + ["bar pattern other"]
        columns.add(bar_names, vocabulary_shares(bar_keys, self.bar_vocabulary))
        repeat = Counter(bar_keys).most_common(1)[0][1] / len(bar_keys) if bar_keys else 0.0
        columns.add(["bar pattern repeat"], [repeat])
        beat_names = [f"beat pattern {p}" for p in self.beat_vocabulary] + ["beat pattern other"]
        columns.add(beat_names, vocabulary_shares(beat_keys, self.beat_vocabulary))


def _periodicity_names() -> list[str]:
    return [f"accents recur every {lag} steps" for lag in PERIODICITY_LAGS]


def _metre(columns: Columns, piece: Piece, rhythm: PieceRhythm) -> None:
    """One-hot of the time signature, compound or not, metre changes, bar length, pickup."""
    meter = rhythm.meter
    names = [f"metre {meter_text(m)}" for m in METERS] + ["metre none"]
    columns.add(names, one_hot(METERS.index(meter) if meter in METERS else len(METERS), len(METERS) + 1))
    compound = float(meter is not None and meter[1] == 8 and meter[0] % 3 == 0)
    columns.add(
        ["metre compound", "metre changes", "bar quarters", "pickup share"],
        [compound, float(len(piece.meters) > 1), rhythm.bar / STEPS_PER_BEAT / 8, min(1.0, piece.pickup / rhythm.bar)],
    )


def _bar_rhythm(columns: Columns, notes: _Notes, rhythm: PieceRhythm) -> None:
    """Rhythm within the bar: the position of every onset, counted from its bar line; onsets per bar."""
    onsets, bar_len, beat = notes.onsets, rhythm.bar, rhythm.beat
    positions = bar_positions(onsets, rhythm)
    on_grid = positions % SIXTEENTH == 0
    grid = np.where(on_grid, np.minimum(positions // SIXTEENTH, GRID_BINS), GRID_BINS + 1)
    names = [f"onset at 16th {i}" for i in range(GRID_BINS)] + ["onset later in bar", "onset off 16th grid"]
    columns.add(names, bin_shares(grid, GRID_BINS + 2))
    phase = positions % beat
    kinds = np.where(positions == 0, 0, np.where(phase == 0, 1, np.where(2 * phase == beat, 2, 3)))
    columns.add(["onset on downbeat", "onset on beat", "onset on half beat", "onset elsewhere"], bin_shares(kinds, 4))
    per_bar = np.array([np.count_nonzero((onsets >= s) & (onsets < s + bar_len)) for s, _ in rhythm.full_bars])
    names = [f"bar onsets {i}" for i in range(MAX_BAR_ONSETS)] + [f"bar onsets {MAX_BAR_ONSETS}+"]
    columns.add(names, bin_shares(np.minimum(per_bar, MAX_BAR_ONSETS), MAX_BAR_ONSETS + 1))
    beats_per_bar = bar_len / beat
    columns.add(
        ["bar onsets mean per beat", "bar onsets spread"],
        [
            per_bar.mean() / beats_per_bar if len(per_bar) else 0.0,
            per_bar.std() / beats_per_bar if len(per_bar) else 0.0,
        ],
    )


def _durations(columns: Columns, notes: _Notes) -> None:
    """Note lengths, the top voice's inter-onset intervals, and long-short pairs among them."""
    durations = notes.durations
    empty = np.zeros(len(LENGTH_CLASSES))
    columns.add(
        [f"note length {n}" for n in LENGTH_NAMES], length_histogram(durations.tolist()) if len(durations) else empty
    )
    ioi = np.diff(notes.starts[notes.top])
    columns.add([f"melody ioi {n}" for n in LENGTH_NAMES], length_histogram(ioi.tolist()) if len(ioi) else empty)
    pairs = ["pair long-short 3:1", "pair short-long 1:3", "pair 2:1", "pair 1:2", "pair equal"]
    columns.add(pairs, pair_shares(ioi))


def _melody(columns: Columns, notes: _Notes) -> None:
    """Signed intervals of the top voice and its shape."""
    melody, pitches = notes.pitches[notes.top], notes.pitches
    intervals = np.diff(melody)
    bins = np.clip(intervals, -MAX_INTERVAL - 1, MAX_INTERVAL + 1) + MAX_INTERVAL + 1
    shares = bin_shares(bins, 2 * MAX_INTERVAL + 3)[[*range(1, 2 * MAX_INTERVAL + 2), 0, 2 * MAX_INTERVAL + 2]]
    names = [f"interval {i:+d}" for i in range(-MAX_INTERVAL, MAX_INTERVAL + 1)] + [
        "interval down far",
        "interval up far",
    ]
    columns.add(names, shares)
    moving = np.sign(intervals[intervals != 0])
    turns = np.count_nonzero(moving[1:] != moving[:-1]) / (len(moving) - 1) if len(moving) > 1 else 0.0
    columns.add(
        ["melody abs interval", "melody direction changes", "melody range", "piece range"],
        [
            np.abs(intervals).mean() / 12 if len(intervals) else 0.0,
            turns,
            np.ptp(melody) / 24 if len(melody) else 0.0,
            np.ptp(pitches) / 48 if len(pitches) else 0.0,
        ],
    )


def _pitch_classes(columns: Columns, piece: Piece, notes: _Notes, rhythm: PieceRhythm) -> int:
    """Pitch classes counted from the tonic (all notes by length, the top voice, notes on bar lines),
    mode and key clarity; returns the tonic."""
    tonic, mode, clarity = key_and_clarity(piece)
    starts, pitches, melody = notes.starts, notes.pitches, notes.pitches[notes.top]
    columns.add([f"degree {d}" for d in DEGREES], weighted_degrees(pitches, notes.durations, tonic))
    columns.add([f"melody degree {d}" for d in DEGREES], weighted_degrees(melody, np.ones(len(melody)), tonic))
    on_bar = np.isin(starts, rhythm.bars)
    downbeats = weighted_degrees(pitches[on_bar], np.ones(int(on_bar.sum())), tonic)
    columns.add([f"downbeat degree {d}" for d in DEGREES], downbeats)
    columns.add(["mode major", "key clarity"], [float(mode == MAJOR), clarity])
    return tonic


def _polyphony(columns: Columns, notes: _Notes) -> None:
    """Notes sounding at each onset, and how far apart the outer voices are."""
    starts, pitches, ends, onsets = notes.starts, notes.pitches, notes.ends, notes.onsets
    sounding = np.searchsorted(starts, onsets, side="right") - np.searchsorted(np.sort(ends), onsets, side="right")
    names = [f"voices {i}" for i in range(1, MAX_VOICES)] + [f"voices {MAX_VOICES}+"]
    columns.add(names, bin_shares(np.clip(sounding, 1, MAX_VOICES) - 1, MAX_VOICES))
    lowest = lowest_sounding(starts, pitches, ends, onsets)
    highest = highest_starting(starts, pitches, onsets)
    columns.add(
        ["voices mean", "outer voices distance"],
        [
            sounding.mean() / MAX_VOICES if len(sounding) else 0.0,
            (highest - lowest).mean() / 24 if len(onsets) else 0.0,
        ],
    )


CADENCE_NAMES = [
    "final length beats",
    "final on bar line",
    "long at bar end",
    "bar end length ratio",
    "phrase-4 length ratio",
    "phrase-2 length ratio",
]


def _cadence(columns: Columns, piece: Piece, rhythm: PieceRhythm, tonic: int, notes: _Notes) -> None:
    """Phrase and cadence shape (see the module docstring)."""
    degree_names = [f"{kind} degree {d}" for kind in ("final", "final bass", "strain end") for d in DEGREES]
    quarter_names = [f"long note at bar quarter {i}" for i in range(4)]
    starts, pitches, durations, top = notes.starts, notes.pitches, notes.durations, notes.top
    if len(starts) == 0:
        columns.add(degree_names + CADENCE_NAMES + quarter_names, np.zeros(3 * 12 + 10))
        return
    final_start = starts[-1]
    final = starts == final_start
    final_top = one_hot(int(pitches[final].max() - tonic) % 12, 12)
    final_bass = one_hot(int(pitches[final].min() - tonic) % 12, 12)
    bars = rhythm.bars
    strain_ends = [int(bars[i + 1]) for i in np.flatnonzero(np.isin(bars[:-1], piece.last_bars))]
    strain_notes = [top[starts[top] < end][-1] for end in strain_ends if np.any(starts[top] < end)]
    strain_degrees = weighted_degrees(pitches[strain_notes], np.ones(len(strain_notes)), tonic)
    columns.add(degree_names, np.concatenate([final_top, final_bass, strain_degrees]))
    melody_starts, melody_durations = starts[top], durations[top].astype(float)
    typical = float(np.median(melody_durations))
    bar_end_lengths, phrase4, phrase2, other = _bar_end_lengths(melody_starts, melody_durations, rhythm)
    columns.add(
        CADENCE_NAMES,
        [
            math.log2(1 + durations[final].max() / rhythm.beat),
            float(final_start in set(bars.tolist())),
            float(np.mean(bar_end_lengths >= rhythm.beat)) if len(bar_end_lengths) else 0.0,
            log_ratio(bar_end_lengths, [typical]),
            log_ratio(phrase4, phrase2 + other),
            log_ratio(phrase4 + phrase2, other),
        ],
    )
    long = melody_durations >= LONG_NOTE * typical
    positions = bar_positions(melody_starts[long], rhythm)
    columns.add(quarter_names, bin_shares(np.minimum(positions * 4 // rhythm.bar, 3), 4))


def _bar_end_lengths(melody_starts, melody_durations, rhythm: PieceRhythm) -> tuple[np.ndarray, list, list, list]:
    """The length of the top voice's last note in every full bar (that has one), and those lengths
    split by where the bar ends: a 4-bar phrase, a 2-bar phrase, or elsewhere."""
    lengths, phrase4, phrase2, other = [], [], [], []
    for start, index in rhythm.full_bars:
        inside = (melody_starts >= start) & (melody_starts < start + rhythm.bar)
        if not inside.any():
            continue
        last = melody_durations[inside][-1]
        lengths.append(last)
        (phrase4 if index % 4 == 3 else phrase2 if index % 2 == 1 else other).append(last)
    return np.array(lengths), phrase4, phrase2, other


def _form(columns: Columns, piece: Piece, rhythm: PieceRhythm) -> None:
    """Strains, bars and notes (log-scaled)."""
    columns.add(
        ["strains", "bars per strain", "bars", "notes", "notes per bar"],
        [
            len(piece.last_bars) / 4,
            bars_per_strain(piece, rhythm) / 16,
            math.log1p(len(rhythm.full_bars)) / 5,
            math.log1p(len(piece.notes)) / 7,
            math.log1p(len(piece.notes) / max(1, len(rhythm.bars))) / 3,
        ],
    )


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
