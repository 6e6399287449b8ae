"""Metre: the time signatures the codec knows, their bar lengths, and regular bar grids.

Torch-free (the CLI and the GUI use it to check a ``--meter`` flag). A time signature is a pair
``(numerator, denominator)``; its bar length in steps is ``numerator * 4 / denominator`` quarter
notes times ``STEPS_PER_BEAT``.

The corpus writes the same dance in several notations (reels in 2/4 and 4/4 bars, pickups as
short first bars, short bars on both sides of a repeat). ``regular_bars`` turns a score's own
measures into the bar lines a player expects: a pickup as a partial bar 0, then whole bars of the
genre's metre (``DANCE_METERS``) on a regular grid, and a closing bar line after the last note.
"""

from __future__ import annotations

import math

from .piece import STEPS_PER_BEAT

Meter = tuple[int, int]  # (numerator, denominator), e.g. (6, 8)

# Every metre of the music21 corpus's tunes (Essen, Aird, O'Neill, Ryan, Bach, Palestrina).
METERS: tuple[Meter, ...] = (
    (2, 4),
    (3, 4),
    (4, 4),
    (5, 4),
    (6, 4),
    (2, 2),
    (3, 2),
    (4, 2),
    (6, 2),
    (2, 1),
    (3, 1),
    (4, 1),
    (3, 8),
    (6, 8),
    (9, 8),
    (12, 8),
    (5, 8),
    (7, 8),
)
# The metre a player expects for each dance genre, whatever bars its source used.
DANCE_METERS: dict[str, Meter] = {"reel": (4, 4), "hornpipe": (4, 4), "jig": (6, 8)}


def meter_text(meter: Meter) -> str:
    """``(6, 8)`` -> ``"6/8"``."""
    return f"{meter[0]}/{meter[1]}"


def parse_meter(text: str) -> Meter:
    """``"6/8"`` -> ``(6, 8)``; ValueError naming the known metres for anything else."""
    known = ", ".join(meter_text(m) for m in METERS)
    numerator, slash, denominator = str(text).strip().partition("/")
    try:
        meter = (int(numerator), int(denominator))
    except ValueError:
        raise ValueError(f"metre '{text}' is not of the form 6/8; known metres: {known}") from None
    if not slash or meter not in METERS:
        raise ValueError(f"metre '{text}' is not one the codec knows; known metres: {known}")
    return meter


def bar_steps(meter: Meter) -> int:
    """Length of one bar of ``meter`` in steps (6/8 -> 36)."""
    numerator, denominator = meter
    return numerator * 4 * STEPS_PER_BEAT // denominator


def known_meter(meter: Meter) -> Meter:
    """``meter`` if the codec knows it, else a known metre of the same bar length (8/8 -> 4/4),
    else the known metre nearest in bar length."""
    if meter in METERS:
        return meter
    length = meter[0] * 4 * STEPS_PER_BEAT / max(1, meter[1])
    same = [m for m in METERS if bar_steps(m) == length]
    if same:
        return same[0]
    return min(METERS, key=lambda m: abs(bar_steps(m) - length))


def normalised_meter(genre: str, meter: Meter) -> Meter:
    """The metre a piece of ``genre`` is written in: the dance's own (``DANCE_METERS``) when its
    bars are a whole multiple or fraction of the source's (2/4 reels -> 4/4), else the source's."""
    meter = known_meter(meter)
    target = DANCE_METERS.get(genre)
    if target is None:
        return meter
    source, wanted = bar_steps(meter), bar_steps(target)
    if source % wanted == 0 or wanted % source == 0:
        return target
    return meter


def dance_time_scale(genre: str, durations: list[int]) -> int:
    """2 when a dance tune is written in halved note values (reels and hornpipes in 2/4 with
    running sixteenths, as in Ryan's Mammoth), so that doubling every time gives the eighths a
    player reads in 4/4; else 1."""
    if genre not in DANCE_METERS or not durations:
        return 1
    common = max(set(durations), key=durations.count)
    return 2 if common <= STEPS_PER_BEAT // 4 else 1


def regular_bars(
    measures: list[tuple[int, Meter]], end: int, genre: str = ""
) -> tuple[list[int], list[tuple[int, int, int]], float]:
    """Bar lines, metre changes and grid fit of a piece from its source measures.

    ``measures`` are ``(start step, time signature)`` of the source's measures in order; ``end`` is
    the step where the last note stops. Returns ``(bars, meters, fit)``: ``bars`` the steps of
    every bar line (the first one after a pickup, the last one closing the final bar at or after
    ``end``); ``meters`` ``(step, numerator, denominator)`` at each change (the first at 0); ``fit``
    the share of the source's bar lines that fall on the new grid (1.0 = the source was regular).
    """
    if not measures:
        measures = [(0, (4, 4))]
    measures = _absorb_pickup_signatures(measures)
    # Segments of one (normalised) metre: (start step, metre).
    segments: list[tuple[int, Meter]] = []
    for start, meter in measures:
        meter = normalised_meter(genre, meter)
        if not segments or segments[-1][1] != meter:
            segments.append((start, meter))
    bars: list[int] = []
    meters: list[tuple[int, int, int]] = []
    for index, (start, meter) in enumerate(segments):
        length = bar_steps(meter)
        stop = segments[index + 1][0] if index + 1 < len(segments) else None
        first = start
        if index == 0:
            # A first measure shorter than a bar is a pickup: the grid starts at its end.
            second = next((s for s, _ in measures if s > start), None)
            if second is not None and 0 < second - start < length:
                first = second
        if bars and first < bars[-1]:
            first = bars[-1]
        meters.append((0 if index == 0 else first, *meter))
        limit = stop if stop is not None else max(end, first + 1)
        position = first
        while position < limit:
            bars.append(position)
            position += length
        if stop is None:
            bars.append(position)  # the closing bar line, at or after the last note's end
        # (before a change of metre, a bar cut short by the change keeps its own length)
    bars = sorted(set(bars))
    # Fit: the share of bar lines the grid and the source agree on, counted on the side with fewer
    # lines (merging 2/4 bars into 4/4 keeps every grid line on a source line).
    source_lines, grid_lines = {s for s, _ in measures[1:]}, set(bars[:-1])
    shared = len(source_lines & grid_lines)
    fit = shared / min(len(source_lines), len(grid_lines)) if source_lines and grid_lines else 1.0
    return bars, meters, round(fit, 3)


def _absorb_pickup_signatures(measures: list[tuple[int, Meter]]) -> list[tuple[int, Meter]]:
    """Give a lone short measure written with its own time signature (a pickup notated as 1/4 or
    1/8, at the start or before a strain) the metre of its neighbours: it is not a change of metre.
    Mid-piece, only signatures outside ``METERS`` count as such (a lone 2/4 bar in a 3/4 song of
    the Essen collection is a real change of metre)."""
    runs: list[list] = []  # [meter, first index, count]
    for index, (_, meter) in enumerate(measures):
        if runs and runs[-1][0] == meter:
            runs[-1][2] += 1
        else:
            runs.append([meter, index, 1])
    out = list(measures)
    for r, (meter, first, count) in enumerate(runs):
        if count != 1 or (first > 0 and meter in METERS):
            continue
        neighbours = [runs[k][0] for k in (r - 1, r + 1) if 0 <= k < len(runs)]
        longer = [m for m in neighbours if m[0] * 4 / m[1] > meter[0] * 4 / meter[1]]
        if longer:
            out[first] = (measures[first][0], longer[0])
    return out


def bars_for_seconds(seconds: float, tempo: float, meter: Meter) -> int:
    """Whole bars of ``meter`` closest to ``seconds`` at ``tempo`` quarter notes per minute (>= 1)."""
    steps = seconds * tempo / 60.0 * STEPS_PER_BEAT
    return max(1, int(math.floor(steps / bar_steps(meter) + 0.5)))
