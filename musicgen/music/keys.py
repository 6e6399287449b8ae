"""Musical keys: find a piece's key, read key names, transpose to a chosen tonic.

Key finding is the Krumhansl-Schmuckler algorithm: the piece's pitch-class histogram
(weighted by note duration) is correlated with the Krumhansl-Kessler major and minor
profiles rotated to all 12 tonics; the best of the 24 wins.
"""

from __future__ import annotations

import bisect
import math
import re
from typing import Callable

from .piece import Piece, make_piece

MAJOR, MINOR = "major", "minor"
# Krumhansl & Kessler (1982) probe-tone ratings, tonic first.
MAJOR_PROFILE = (6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88)
MINOR_PROFILE = (6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17)
RELATIVE_MINOR = 9  # semitones from a major tonic up to its relative minor's tonic (C -> A)

_LETTERS = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}
_ACCIDENTALS = {"": 0, "#": 1, "♯": 1, "b": -1, "♭": -1, "-": -1}
_MODE_WORDS = {"": None, "m": MINOR, "min": MINOR, "minor": MINOR, "maj": MAJOR, "major": MAJOR}
_KEY_PATTERN = re.compile(r"^\s*([A-Ga-g])\s*([#♯b♭-]?)\s*([A-Za-z]*)\s*$")
# Spellings musicians expect: flats for F, Bb, Eb, Ab, Db majors and their relatives.
_MAJOR_NAMES = ("C", "Db", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")
_MINOR_NAMES = ("C", "C#", "D", "Eb", "E", "F", "F#", "G", "G#", "A", "Bb", "B")


def parse_key(name: str) -> tuple[int, str | None]:
    """Read "C", "F#", "Bb", "D minor", "Ebm", "A major" -> (tonic pitch class 0..11, mode or None)."""
    match = _KEY_PATTERN.match(str(name))
    mode_word = match.group(3).lower() if match else ""
    if match and match.group(3) == "M":
        mode_word = "major"
    if not match or mode_word not in _MODE_WORDS:
        raise ValueError(
            f"key '{name}' is not a key name; use a note letter with optional #/b and "
            "'major'/'minor', e.g. C, F#, Bb, 'D minor'"
        )
    tonic = (_LETTERS[match.group(1).upper()] + _ACCIDENTALS[match.group(2)]) % 12
    return tonic, _MODE_WORDS[mode_word]


def key_name(tonic: int, mode: str) -> str:
    """Readable key name, e.g. ``key_name(10, "major") == "Bb major"``."""
    names = _MAJOR_NAMES if mode == MAJOR else _MINOR_NAMES
    return f"{names[tonic % 12]} {mode}"


def pitch_class_histogram(piece: Piece) -> list[float]:
    """Total duration in steps of each pitch class 0..11 (C = 0)."""
    histogram = [0.0] * 12
    for note in piece.notes:
        histogram[note.pitch % 12] += note.duration
    return histogram


def _correlation(a, b) -> float:
    """Pearson correlation of two equal-length sequences (0 when one is constant)."""
    mean_a, mean_b = sum(a) / len(a), sum(b) / len(b)
    da, db = [x - mean_a for x in a], [y - mean_b for y in b]
    norm = math.sqrt(sum(x * x for x in da) * sum(y * y for y in db))
    return sum(x * y for x, y in zip(da, db)) / norm if norm else 0.0


def estimate_key(piece: Piece) -> tuple[int, str]:
    """Krumhansl-Schmuckler key of the piece: (tonic pitch class, "major" or "minor").

    A piece without notes counts as C major.
    """
    histogram = pitch_class_histogram(piece)
    if not any(histogram):
        return 0, MAJOR
    best = (-2.0, 0, MAJOR)
    for mode, profile in ((MAJOR, MAJOR_PROFILE), (MINOR, MINOR_PROFILE)):
        for tonic in range(12):
            rotated = [profile[(pc - tonic) % 12] for pc in range(12)]
            score = _correlation(histogram, rotated)
            if score > best[0] + 1e-12:
                best = (score, tonic, mode)
    return best[1], best[2]


def smallest_shift(from_tonic: int, to_tonic: int) -> int:
    """Semitones in -6..+5 that move pitch class ``from_tonic`` onto ``to_tonic``."""
    shift = (to_tonic - from_tonic) % 12
    return shift - 12 if shift > 5 else shift


def target_tonic(requested: tuple[int, str | None], mode: str) -> int:
    """Tonic to move a piece in ``mode`` to, for a requested (tonic, mode or None).

    The piece keeps its mode. When the request names the other mode, the piece goes to the
    relative key, which has the requested key's signature (a major piece asked for "D minor"
    goes to F major; a minor piece asked for "C major" goes to A minor).
    """
    tonic, wanted_mode = requested
    if wanted_mode is None or wanted_mode == mode:
        return tonic
    if mode == MAJOR:  # wanted minor: its relative major
        return (tonic - RELATIVE_MINOR) % 12
    return (tonic + RELATIVE_MINOR) % 12  # wanted major: its relative minor


def transpose_piece(piece: Piece, semitones: int) -> Piece:
    """The piece with every pitch moved by ``semitones`` (folded by octaves into the piano range)."""
    if semitones == 0:
        return piece
    raw = [(n.start, n.pitch + semitones, n.duration, n.voice) for n in piece.notes]
    return make_piece(raw, piece.bars, piece.primer_end, piece.meta, piece.meters, piece.last_bars)


class NotesOutOfRange:
    """How many notes of one piece, moved by any shift, leave their voice's (low, high) range:
    counted from each voice's sorted pitches (a key is chosen among a style's twenty by counting
    its notes at three shifts each)."""

    def __init__(self, piece: Piece, voice_ranges):
        pitches: dict[int, list[int]] = {}
        for note in piece.notes:
            pitches.setdefault(note.voice, []).append(note.pitch)
        self.voices = [(sorted(p), voice_ranges[voice]) for voice, p in pitches.items()]

    def __call__(self, shift: int) -> int:
        """Notes outside their voice's range once moved by ``shift`` semitones."""
        out = 0
        for pitches, (low, high) in self.voices:
            out += bisect.bisect_left(pitches, low - shift) + len(pitches) - bisect.bisect_right(pitches, high - shift)
        return out


def shift_to_key(
    piece: Piece, key: str, detected: tuple[int, str], notes_out: Callable[[int], int] | None = None
) -> tuple[int, int]:
    """(semitones, tonic): the smallest shift that moves ``piece`` (in ``detected`` (tonic, mode)) to
    the tonic named by ``key``, keeping its mode. With ``notes_out`` (shift -> notes outside their
    voices' ranges: ``NotesOutOfRange``) a voiced piece goes up or down to that tonic, whichever
    keeps more notes in their voices' ranges (a chorale in B minor is not lifted a tritone above the
    soprano's range when a fifth down keeps every voice where it sings)."""
    tonic = target_tonic(parse_key(key), detected[1])
    shift = smallest_shift(detected[0], tonic)
    if notes_out is not None and piece.voiced:
        shift = min((shift, shift - 12, shift + 12), key=lambda s: (notes_out(s), abs(s)))
    return shift, tonic


def transpose_to_key(
    piece: Piece, key: str, detected: tuple[int, str] | None = None, voice_ranges=None
) -> tuple[Piece, int, tuple[int, str], tuple[int, str]]:
    """Move ``piece`` to the tonic named by ``key`` (``shift_to_key``; ``detected``: the piece's
    (tonic, mode) when already estimated).

    Returns (new piece, semitones applied, detected (tonic, mode), resulting (tonic, mode)).
    """
    detected = detected or estimate_key(piece)
    notes_out = None if voice_ranges is None else NotesOutOfRange(piece, voice_ranges)
    shift, tonic = shift_to_key(piece, key, detected, notes_out)
    return transpose_piece(piece, shift), shift, detected, (tonic, detected[1])


def ends_on_tonic(piece: Piece) -> bool:
    """True when the lowest note sounding at the piece's last onset (a chorale's bass, held or
    struck there; a tune's last note) is the tonic of its estimated key (a piece without notes
    counts as ending well)."""
    if not piece.notes:
        return True
    tonic, _ = estimate_key(piece)
    last = max(note.start for note in piece.notes)
    return min(note.pitch for note in piece.notes if note.start <= last < note.end) % 12 == tonic
