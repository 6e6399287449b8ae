"""Musical features of pieces, and how much two sets of pieces overlap (after MGEval, Yang & Lerch 2018).

Per-piece features (pure numpy on ``Piece``s; times in steps, STEPS_PER_BEAT per quarter note):

* ``pitch_class_histogram`` (12,): share of *sounding time* (note durations) on each pitch class,
  counted from the piece's estimated tonic (index 0 = tonic, 7 = fifth); sums to 1. Relative to the
  tonic because the trainer transposes pieces at random: the absolute key says nothing about style.
* ``pitch_range``: highest minus lowest MIDI pitch, in semitones.
* ``mean_interval``: mean absolute interval in semitones between successive notes of the *top voice*.
  The top voice is the skyline: at each onset, the highest note starting there, kept only when no
  higher note is still sounding (so inner voices under a held melody note are skipped). For a
  one-voice tune it is every note.
* ``note_length_histogram`` (9,): share of notes per length class (counts, not durations); a length
  goes to the nearest class on a log scale (see ``LENGTH_CLASSES``).
* ``onset_interval_histogram`` (9,): the same classes for the gaps between successive distinct onsets.
* ``notes_per_bar``: mean number of notes starting in each *full* bar (bars of the piece's usual
  bar length, see ``bar_lengths``); pickups and split bars are left out. NaN without bar lines.
* ``polyphony``: mean number of notes sounding at each distinct onset (1.0 = one voice).
* ``pitch_class_transitions`` (12, 12): counts of pitch class -> next pitch class along the top
  voice (relative to the tonic, as above), normalised to sum 1.

Per-piece checks:

* ``keeps_metre``: the bars (intervals between the bar lines of ``piece.bars``, the last one up to the
  piece's end) all have one length L, the most common one, except a shorter first bar (pickup), a
  shorter last bar, and runs of short bars in between that add up to exactly L (a bar split at a
  repeat sign, as folk tunes write them). Needs at least two full bars.
* ``in_key_share``: share of note durations inside the scale of the best-fitting key; the key is found
  by correlating the pitch-class histogram with the Krumhansl-Kessler major/minor profiles
  (``keys.estimate_key``). The minor
  scale includes the raised 7th (leading tone), which minor-key music uses routinely. A piece with
  ``in_key_share >= IN_KEY_THRESHOLD`` stays in key.

Overlap of two sets (1.0 = identical distributions, 0.0 = disjoint):

* scalar features: the overlap area of the two Gaussian kernel density estimates,
  ``integral min(p, q)``, each KDE with its own Scott's-rule bandwidth, floored at the feature's
  ``resolution`` (the smallest difference worth hearing), evaluated by binned KDE on a common grid;
* histogram and matrix features (MGEval's approach): per-piece Euclidean distances. The *intra-set*
  distances are all pairs within the real set; the *inter-set* distances are all (generated, real)
  pairs. The overlap of the KDEs of these two distance distributions says whether generated pieces
  lie as close to real pieces as real pieces lie to each other. Identical sets score 1 - O(1/n), not
  exactly 1, because each piece then also meets its own copy at distance 0.

Two halves of the same real data do not overlap perfectly either (small samples), so
``overlap_ceiling`` measures the overlap between random disjoint halves of the real set (mean of
``CEILING_SPLITS`` splits); a report divides by it: ratio = overlap / ceiling.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass

import numpy as np

from ..music import keys
from ..music.keys import MAJOR, estimate_key, key_name
from ..music.piece import STEPS_PER_BEAT, Piece

S = STEPS_PER_BEAT
# (name, steps): nearest class on a log scale; shorter than a 16th counts as a 16th, longer than a
# whole note as "whole or longer".
LENGTH_CLASSES: tuple[tuple[str, int], ...] = (
    ("16th", S // 4),
    ("8th triplet", S // 3),
    ("8th", S // 2),
    ("dotted 8th", 3 * S // 4),
    ("quarter", S),
    ("dotted quarter", 3 * S // 2),
    ("half", 2 * S),
    ("dotted half", 3 * S),
    ("whole+", 4 * S),
)
DEGREE_NAMES = ("1", "b2", "2", "b3", "3", "4", "#4", "5", "b6", "6", "b7", "7")  # semitones above the tonic
IN_KEY_THRESHOLD = 0.9  # share of note durations inside the key's scale
CEILING_SPLITS = 10  # random halvings of the real set averaged for the ceiling
MIN_FULL_BARS = 2  # fewer full bars than this: no metre to keep

MAJOR_SCALE = (0, 2, 4, 5, 7, 9, 11)
MINOR_SCALE = (0, 2, 3, 5, 7, 8, 10, 11)  # natural minor plus the leading tone


@dataclass(frozen=True)
class Feature:
    """How to compare one feature: ``kind`` is "scalar", "histogram" or "matrix";
    ``resolution`` is the smallest difference worth hearing (floor of the KDE bandwidth), in the
    feature's unit for scalars and in distance units for histograms and matrices."""

    name: str
    title: str
    unit: str
    kind: str
    resolution: float
    labels: tuple[str, ...] = ()


FEATURES: tuple[Feature, ...] = (
    Feature(
        "pitch_class_histogram",
        "Pitch classes from the tonic",
        "share of sounding time",
        "histogram",
        0.01,
        DEGREE_NAMES,
    ),
    Feature("pitch_range", "Pitch range", "semitones", "scalar", 1.0),
    Feature("mean_interval", "Mean interval of the top voice", "semitones", "scalar", 0.1),
    Feature(
        "note_length_histogram",
        "Note lengths",
        "share of notes",
        "histogram",
        0.01,
        tuple(name for name, _ in LENGTH_CLASSES),
    ),
    Feature(
        "onset_interval_histogram",
        "Inter-onset intervals",
        "share of onsets",
        "histogram",
        0.01,
        tuple(name for name, _ in LENGTH_CLASSES),
    ),
    Feature("notes_per_bar", "Notes per bar", "notes", "scalar", 0.25),
    Feature("polyphony", "Polyphony", "notes sounding at an onset", "scalar", 0.05),
    Feature(
        "pitch_class_transitions", "Pitch-class transitions", "share of transitions", "matrix", 0.005, DEGREE_NAMES
    ),
)
FEATURES_BY_NAME = {feature.name: feature for feature in FEATURES}


@dataclass
class PieceFeatures:
    """Every feature and check of one piece (see the module docstring for definitions)."""

    pitch_class_histogram: np.ndarray  # (12,), index 0 = the tonic
    pitch_range: float
    mean_interval: float
    note_length_histogram: np.ndarray  # (len(LENGTH_CLASSES),)
    onset_interval_histogram: np.ndarray  # (len(LENGTH_CLASSES),)
    notes_per_bar: float
    polyphony: float
    pitch_class_transitions: np.ndarray  # (12, 12), from (row) and to (column), 0 = the tonic
    keeps_metre: bool
    in_key_share: float
    key: str  # e.g. "G major", "" without notes

    @property
    def in_key(self) -> bool:
        return self.in_key_share >= IN_KEY_THRESHOLD


def _normalised(values: np.ndarray) -> np.ndarray:
    total = values.sum()
    return values / total if total > 0 else values.astype(float)


def length_class(steps: np.ndarray) -> np.ndarray:
    """Index into LENGTH_CLASSES of each length in steps (nearest on a log scale)."""
    centres = np.log2([steps_ for _, steps_ in LENGTH_CLASSES])
    edges = (centres[1:] + centres[:-1]) / 2
    return np.searchsorted(edges, np.log2(np.maximum(np.asarray(steps, dtype=float), 1)))


def length_histogram(steps) -> np.ndarray:
    """Share of lengths (steps) per class of LENGTH_CLASSES, shape (9,)."""
    counts = (
        np.bincount(length_class(np.asarray(steps)), minlength=len(LENGTH_CLASSES))
        if len(steps)
        else np.zeros(len(LENGTH_CLASSES))
    )
    return _normalised(counts.astype(float))


def pitch_class_histogram(piece: Piece) -> np.ndarray:
    """Share of sounding time per pitch class C..B (12,), duration-weighted; zeros without notes."""
    return _normalised(np.asarray(keys.pitch_class_histogram(piece), dtype=float))


def top_voice(piece: Piece) -> list[int]:
    """Pitches of the skyline melody: per onset the highest starting note, unless a higher one still sounds."""
    by_onset: dict[int, int] = {}
    for note in piece.notes:
        by_onset[note.start] = max(note.pitch, by_onset.get(note.start, 0))
    starts = np.array([note.start for note in piece.notes])
    ends = np.array([note.end for note in piece.notes])
    pitches = np.array(piece.pitches())
    melody = []
    for onset, pitch in sorted(by_onset.items()):
        held_above = np.any((starts < onset) & (ends > onset) & (pitches > pitch))
        if not held_above:
            melody.append(pitch)
    return melody


def bar_lengths(piece: Piece) -> list[int]:
    """Lengths in steps of the bars: between successive bar lines, the last one up to the piece's end."""
    bars = list(piece.bars)
    if not bars:
        return []
    lengths = [b - a for a, b in zip(bars, bars[1:])]
    if piece.length > bars[-1]:
        lengths.append(piece.length - bars[-1])
    return lengths


def usual_bar_length(lengths: list[int]) -> int:
    """The most common bar length (the longer one on a tie); 0 without bars."""
    if not lengths:
        return 0
    counts = Counter(lengths)
    return max(counts, key=lambda length: (counts[length], length))


def keeps_metre(piece: Piece) -> bool:
    """True when every bar has the usual length, allowing a pickup, a short last bar and split bars."""
    lengths = bar_lengths(piece)
    metre = usual_bar_length(lengths)
    if sum(1 for length in lengths if length == metre) < MIN_FULL_BARS:
        return False
    if lengths[0] > metre or lengths[-1] > metre:
        return False
    partial = 0  # steps of a bar split into short pieces, so far
    for length in lengths[1:-1]:
        if length == metre and partial == 0:
            continue
        partial += length
        if partial == metre:
            partial = 0
        elif partial > metre:
            return False
    return partial == 0


def notes_per_bar(piece: Piece) -> float:
    """Mean number of notes starting in each full bar (of the usual length); NaN without bars."""
    lengths = bar_lengths(piece)
    metre = usual_bar_length(lengths)
    if metre == 0:
        return math.nan
    starts = np.array([note.start for note in piece.notes])
    counts = [
        int(np.count_nonzero((starts >= begin) & (starts < begin + length)))
        for begin, length in zip(piece.bars, lengths)
        if length == metre
    ]
    return float(np.mean(counts))


def polyphony(piece: Piece) -> float:
    """Mean number of notes sounding at each distinct onset; NaN without notes."""
    if not piece.notes:
        return math.nan
    starts = np.sort([note.start for note in piece.notes])
    ends = np.sort([note.end for note in piece.notes])
    onsets = np.unique(starts)
    sounding = np.searchsorted(starts, onsets, side="right") - np.searchsorted(ends, onsets, side="right")
    return float(sounding.mean())


def in_key_share(piece: Piece, key: tuple[int, str] | None = None) -> tuple[float, str]:
    """Share of note durations inside the scale of ``key`` (default: the best-fitting one), and its name."""
    histogram = pitch_class_histogram(piece)
    if histogram.sum() == 0:
        return math.nan, ""
    tonic, mode = key or estimate_key(piece)
    scale = MAJOR_SCALE if mode == MAJOR else MINOR_SCALE
    share = sum(histogram[(tonic + degree) % 12] for degree in scale)
    return float(share), key_name(tonic, mode)


def piece_features(piece: Piece) -> PieceFeatures:
    """All features and checks of one piece."""
    tonic, mode = estimate_key(piece)
    melody = top_voice(piece)
    intervals = np.abs(np.diff(melody))
    transitions = np.zeros((12, 12))
    for a, b in zip(melody, melody[1:]):
        transitions[(a - tonic) % 12, (b - tonic) % 12] += 1
    onsets = np.unique([note.start for note in piece.notes])
    share, key = in_key_share(piece, (tonic, mode))
    pitches = piece.pitches()
    return PieceFeatures(
        pitch_class_histogram=np.roll(pitch_class_histogram(piece), -tonic),
        pitch_range=float(max(pitches) - min(pitches)) if pitches else math.nan,
        mean_interval=float(intervals.mean()) if len(intervals) else math.nan,
        note_length_histogram=length_histogram([note.duration for note in piece.notes]),
        onset_interval_histogram=length_histogram(np.diff(onsets)),
        notes_per_bar=notes_per_bar(piece),
        polyphony=polyphony(piece),
        pitch_class_transitions=_normalised(transitions),
        keeps_metre=keeps_metre(piece),
        in_key_share=share,
        key=key,
    )


def feature_values(features: list[PieceFeatures], name: str) -> np.ndarray:
    """One feature of many pieces stacked: (N,) for scalars, (N, K) for histograms, (N, 12, 12) for matrices."""
    values = [getattr(f, name) for f in features]
    if not values:
        shape = {"scalar": (0,), "histogram": (0, len(FEATURES_BY_NAME[name].labels)), "matrix": (0, 12, 12)}
        return np.zeros(shape[FEATURES_BY_NAME[name].kind])
    return np.stack([np.asarray(v, dtype=float) for v in values])


# --- overlap ---------------------------------------------------------------------------------------

GRID_POINTS_PER_BANDWIDTH = 8
MAX_GRID_POINTS = 4096
KERNEL_REACH = 4.0  # bandwidths


def scott_bandwidth(values: np.ndarray, floor: float) -> float:
    """Scott's rule 1.06 * std * n^(-1/5), at least ``floor``."""
    if len(values) < 2:
        return floor
    return max(floor, 1.06 * float(np.std(values, ddof=1)) * len(values) ** -0.2)


def _binned_kde(values: np.ndarray, bandwidth: float, grid: np.ndarray) -> np.ndarray:
    """Gaussian KDE density on an even ``grid`` (values binned to the nearest grid point)."""
    step = grid[1] - grid[0]
    counts = np.bincount(
        np.clip(np.round((values - grid[0]) / step).astype(int), 0, len(grid) - 1), minlength=len(grid)
    ).astype(float)
    reach = int(math.ceil(KERNEL_REACH * bandwidth / step))
    offsets = np.arange(-reach, reach + 1) * step
    kernel = np.exp(-0.5 * (offsets / bandwidth) ** 2)
    density = np.convolve(counts, kernel, mode="same")
    return density / (density.sum() * step)


def kde_overlap(a, b, resolution: float) -> float:
    """Overlap area (0..1) of the Gaussian KDEs of two samples; NaN if either has no finite value."""
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    a, b = a[np.isfinite(a)], b[np.isfinite(b)]
    if len(a) == 0 or len(b) == 0:
        return math.nan
    bw_a, bw_b = scott_bandwidth(a, resolution), scott_bandwidth(b, resolution)
    margin = KERNEL_REACH * max(bw_a, bw_b)
    low, high = min(a.min(), b.min()) - margin, max(a.max(), b.max()) + margin
    points = int(min(MAX_GRID_POINTS, math.ceil((high - low) / min(bw_a, bw_b) * GRID_POINTS_PER_BANDWIDTH)))
    grid = np.linspace(low, high, max(points, 64))
    overlap = np.minimum(_binned_kde(a, bw_a, grid), _binned_kde(b, bw_b, grid)).sum() * (grid[1] - grid[0])
    return float(min(1.0, overlap))


def _flat(values: np.ndarray) -> np.ndarray:
    return values.reshape(len(values), -1)


def pairwise_distances(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Euclidean distances between rows of x (N, K) and y (M, K): (N, M)."""
    squared = (x * x).sum(1)[:, None] + (y * y).sum(1)[None, :] - 2 * x @ y.T
    return np.sqrt(np.maximum(squared, 0))


def distance_overlap(generated: np.ndarray, real: np.ndarray, resolution: float) -> float:
    """MGEval overlap: KDE overlap of intra-set (real, real) and inter-set (generated, real) distances."""
    generated, real = _flat(generated), _flat(real)
    if len(real) < 2 or len(generated) == 0:
        return math.nan
    intra = pairwise_distances(real, real)[np.triu_indices(len(real), k=1)]
    inter = pairwise_distances(generated, real).ravel()
    return kde_overlap(intra, inter, resolution)


def feature_overlap(feature: Feature, generated: np.ndarray, real: np.ndarray) -> float:
    """Overlap (0..1) of a feature between generated and real pieces (values from ``feature_values``)."""
    if feature.kind == "scalar":
        return kde_overlap(generated, real, feature.resolution)
    return distance_overlap(generated, real, feature.resolution)


def overlap_ceiling(feature: Feature, real: np.ndarray, seed: int = 0, splits: int = CEILING_SPLITS) -> float:
    """Mean overlap between two random disjoint halves of the real set; NaN with fewer than 4 pieces."""
    if len(real) < 4:
        return math.nan
    rng = np.random.default_rng(seed)
    results = []
    for _ in range(splits):
        order = rng.permutation(len(real))
        half = len(real) // 2
        results.append(feature_overlap(feature, real[order[:half]], real[order[half:]]))
    finite = [r for r in results if math.isfinite(r)]
    return float(np.mean(finite)) if finite else math.nan
