"""The bars a score writes: bar lines and metres from the piece, the pickup as bar 0, and each
pair of equal consecutive parts (``meta["parts"]`` labels "AA") written once between repeat signs.

A pair is written with repeats only when it really repeats: both copies are whole bars of the
same length, hold the same notes (relative to their start), and no note sounds across either
copy's edges. Otherwise the parts are written out in full, so the score always plays the piece's
exact notes. A run of three equal parts repeats its first two (``|: A :| A``).
"""

from __future__ import annotations

from dataclasses import dataclass

from ..music.meter import Meter
from ..music.piece import STEPS_PER_BEAT, Note, Piece, make_piece

DEFAULT_METER: Meter = (4, 4)  # for a piece without any metre or bar lines


@dataclass(frozen=True)
class Bar:
    """One written bar: ``[start, end)`` in steps; ``number`` 0 for a pickup."""

    number: int
    start: int
    end: int
    meter: Meter
    new_meter: bool = False  # a time signature is written at this bar
    repeat_start: bool = False  # |: before the bar
    repeat_end: bool = False  # :| after the bar
    final: bool = False  # the closing double bar line

    @property
    def steps(self) -> int:
        return self.end - self.start


def meter_of_length(steps: int) -> Meter:
    """A time signature exactly ``steps`` long: quarters, else eighths, else sixteenths."""
    for denominator in (4, 8, 16):
        unit = 4 * STEPS_PER_BEAT // denominator
        if steps % unit == 0 and steps > 0:
            return steps // unit, denominator
    return max(1, round(steps / 3)), 16


def bar_lines(piece: Piece) -> list[int]:
    """Bar lines from the first downbeat to a closing one at or after the last note's end."""
    lines = list(piece.bars)
    if not lines:
        meter = piece.meter_at(0) or DEFAULT_METER
        lines = [0]
    else:
        gaps = [b - a for a, b in zip(lines, lines[1:])]
        meter = piece.meter_at(lines[-1]) or (meter_of_length(gaps[-1]) if gaps else DEFAULT_METER)
    length = meter[0] * 4 * STEPS_PER_BEAT // meter[1]
    while lines[-1] < piece.length or len(lines) < 2:
        lines.append(lines[-1] + length)
    return lines


def _meter_of_bar(piece: Piece, start: int, steps: int) -> Meter:
    meter = piece.meter_at(start)
    return meter if meter is not None else meter_of_length(steps)


def _notes_between(piece: Piece, start: int, end: int) -> list[Note] | None:
    """Notes of ``[start, end)`` relative to ``start``; None if a note crosses either edge."""
    inside = []
    for note in piece.notes:
        if note.start < start < note.end or note.start < end < note.end:
            return None
        if start <= note.start < end:
            inside.append(Note(note.start - start, note.pitch, note.duration, note.voice))
    return inside


def repeated_spans(piece: Piece, lines: list[int]) -> list[tuple[int, int, int]]:
    """``(start, end, copy_end)`` of each part written once with repeat signs: ``[start, end)`` is
    played twice, its copy ``[end, copy_end)`` is not written."""
    parts = piece.meta.get("parts") or []
    on_lines = set(lines)
    spans = []
    index = 0
    while index + 1 < len(parts):
        first, second = parts[index], parts[index + 1]
        try:
            a, b, c = int(first["start"]), int(first["end"]), int(second["end"])
            same_label = first["label"] == second["label"] and int(second["start"]) == b
        except (KeyError, TypeError, ValueError):
            return []  # parts of an unknown shape: write everything out
        if (
            same_label
            and a < b
            and c - b == b - a
            and {a, b, c} <= on_lines
            and (notes := _notes_between(piece, a, b)) is not None
            and notes == _notes_between(piece, b, c)
        ):
            spans.append((a, b, c))
            index += 2
        else:
            index += 1
    return spans


def score_bars(piece: Piece) -> list[Bar]:
    """The bars to write, in order, with repeated parts written once (see the module docstring)."""
    lines = bar_lines(piece)
    spans = repeated_spans(piece, lines)
    starts = {a: (b, c) for a, b, c in spans}
    bars: list[Bar] = []
    previous_meter = None
    if lines[0] > 0:  # the pickup, a partial bar in the first bar's metre
        meter = _meter_of_bar(piece, lines[0], lines[1] - lines[0])
        bars.append(Bar(0, 0, lines[0], meter, new_meter=True))
        previous_meter = meter
    skipped = (0, 0)  # [start, end) of the copy not written
    repeat_end_at = None
    number = 1
    for start, end in zip(lines, lines[1:]):
        if skipped[0] <= start < skipped[1]:
            continue  # the copy of a repeated part
        meter = _meter_of_bar(piece, start, end - start)
        repeat_start = start in starts
        if repeat_start:
            repeat_end_at, copy_end = starts[start]
            skipped = (repeat_end_at, copy_end)
        repeat_end = end == repeat_end_at
        bars.append(Bar(number, start, end, meter, meter != previous_meter, repeat_start, repeat_end))
        previous_meter = meter
        number += 1
    last = bars[-1]
    bars[-1] = Bar(
        last.number,
        last.start,
        last.end,
        last.meter,
        last.new_meter,
        last.repeat_start,
        last.repeat_end,
        final=not last.repeat_end,
    )
    return bars


def notated_piece(piece: Piece) -> Piece:
    """The piece as its score writes it: the copy of each repeated part left out (later notes, bar
    lines, strain ends and metre changes moved earlier by its length), as the corpus stores a tune
    whose strains carry repeat signs. A piece without repeated parts comes back unchanged."""
    spans = repeated_spans(piece, bar_lines(piece))
    if not spans:
        return piece

    def moved(step: int) -> int | None:
        """Where ``step`` lands once the copies are gone; None inside a copy."""
        shift = 0
        for _, end, copy_end in spans:
            if end <= step < copy_end:
                return None
            if step >= copy_end:
                shift += copy_end - end
        return step - shift

    def kept(steps) -> list[int]:
        return sorted({m for s in steps if (m := moved(s)) is not None})

    notes = [(m, n.pitch, n.duration) for n in piece.notes if (m := moved(n.start)) is not None]
    meters = [(m, num, den) for step, num, den in piece.meters if (m := moved(step)) is not None]
    # The copy's closing bar line is the next part's first: keep it (it lands on the copy's start).
    bars = kept(list(piece.bars) + [copy_end for _, _, copy_end in spans])
    meta = dict(piece.meta)
    parts = []
    for part in meta.get("parts") or []:
        start = moved(int(part["start"]))
        if start is not None:  # the copies are left out
            parts.append({**part, "start": start, "end": start + int(part["end"]) - int(part["start"])})
    meta["parts"] = parts
    return make_piece(notes, bars, piece.primer_end, meta, meters, kept(piece.last_bars))
