"""Words and numbers a musician reads in the app: note names, note values, durations, bar numbers.

Pure functions without Qt, so the roll, the history and the tests share one spelling of each.
"""

from __future__ import annotations

from fractions import Fraction

from musicgen.music.piece import STEPS_PER_BEAT

NOTE_NAMES = ("C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")
STEPS_PER_WHOLE = 4 * STEPS_PER_BEAT  # a whole note: four quarter notes
LABEL_INTERVALS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512)  # bars between numbers, as DAWs thin them


def note_name(pitch: int) -> str:
    """Scientific pitch name: MIDI 66 -> "F#4", 60 -> "C4"."""
    return f"{NOTE_NAMES[pitch % 12]}{pitch // 12 - 1}"


def note_value(steps: int) -> str:
    """A duration in steps as a note value: 6 -> "1/8", 18 -> "dotted 1/4", 4 -> "1/8 triplet"."""
    value = Fraction(steps, STEPS_PER_WHOLE)
    if value.numerator == 1:
        if value.denominator & (value.denominator - 1) == 0:  # a power of two: a plain note value
            return f"1/{value.denominator}"
        if value.denominator % 3 == 0 and (value.denominator // 3) & (value.denominator // 3 - 1) == 0:
            return f"1/{value.denominator * 2 // 3} triplet"  # three of them fill two plain ones
    dotted = value / Fraction(3, 2)
    if dotted.numerator == 1 and dotted.denominator & (dotted.denominator - 1) == 0:
        return f"dotted 1/{dotted.denominator}"
    return f"{value.numerator}/{value.denominator}"


def format_duration(seconds: float) -> str:
    """0:34, 12:05."""
    seconds = max(0, round(seconds))
    return f"{seconds // 60}:{seconds % 60:02d}"


def label_interval(narrowest_bar_px: float, min_gap_px: float) -> int:
    """Bars between two numbered bars so numbers stay ``min_gap_px`` apart: 1, 2, 4, 8 ..."""
    for interval in LABEL_INTERVALS:
        if interval * narrowest_bar_px >= min_gap_px:
            return interval
    return LABEL_INTERVALS[-1]


def bar_numbers(bar_lines: list[int]) -> list[tuple[int, int]]:
    """(step, bar number) of each bar that starts at a bar line, as a musician counts them.

    ``bar_lines`` are a Piece's ``bars``: the first is bar 1 (any notes before it are the
    pickup, bar 0, which starts at step 0); the last is the closing bar line and starts no bar.
    """
    lines = list(bar_lines)
    numbered = [(step, number) for number, step in enumerate(lines[:-1] if len(lines) > 1 else lines, start=1)]
    if lines and lines[0] > 0:
        numbered.insert(0, (0, 0))
    return numbered


def ruler_labels(bar_lines: list[int], px_per_step: float, min_gap_px: float) -> list[tuple[int, int]]:
    """The (step, bar number) pairs to print on the ruler at this zoom: bar 1 and every
    ``label_interval`` bars after it (1, 5, 9 ... when every fourth fits); the pickup's 0 when it
    is wide enough not to touch bar 1's number."""
    numbered = bar_numbers(bar_lines)
    whole = [(step, number) for step, number in numbered if number > 0]
    widths = [b - a for a, b in zip(bar_lines, bar_lines[1:]) if b > a]
    interval = label_interval(min(widths) * px_per_step, min_gap_px) if widths else 1
    labels = [(step, number) for step, number in whole if (number - 1) % interval == 0]
    if numbered and numbered[0][1] == 0 and bar_lines[0] * px_per_step >= min_gap_px:
        labels.insert(0, numbered[0])
    return labels


def bar_span(bar_lines: list[int], first: int, last: int | None) -> tuple[int, int]:
    """Steps (start, end) of bars ``first..last`` (1-based, inclusive; None = to the end)."""
    whole = max(0, len(bar_lines) - 1)
    last = whole if last is None else last
    if not 1 <= first <= last <= whole:
        raise ValueError(f"bars {first}-{last} are not in the piece (bars 1-{whole})")
    return bar_lines[first - 1], bar_lines[last]
