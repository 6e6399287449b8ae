"""Velocities a player gives: accents from the bar lines and the metre, and an arc over each phrase.

A note's MIDI velocity is ``BASE_VELOCITY`` plus

* a metric accent by where it starts in its bar: the downbeat strongest, then the middle of an
  even bar (beat 3 of 4/4, the second dotted quarter of 6/8), then the other beats, and notes
  between beats softer;
* a phrase arc: each part of the form (``meta["parts"]``; else each group of ``PHRASE_BARS`` bars)
  grows from soft to loud and falls back, a half sine peaking in its middle.

Deterministic: the same piece gives the same velocities.
"""

from __future__ import annotations

import bisect
import math

from .piece import STEPS_PER_BEAT, Piece

BASE_VELOCITY = 80  # the old flat velocity, the level of an unaccented beat mid-phrase
DOWNBEAT_ACCENT = 14
MIDDLE_ACCENT = 7  # the half-bar beat of an even bar
BEAT_ACCENT = 2
OFFBEAT_ACCENT = -6  # a note that starts between beats
ARC_DEPTH = 12  # velocity from a phrase's edges to its middle
PHRASE_BARS = 4  # a phrase when the piece has no parts
MIN_VELOCITY, MAX_VELOCITY = 1, 127


def _beat_steps(numerator: int, denominator: int) -> int:
    """One beat in steps: a dotted quarter in compound metres (6/8, 9/8, 12/8), else 1/denominator."""
    unit = 4 * STEPS_PER_BEAT // denominator
    return 3 * unit if denominator == 8 and numerator % 3 == 0 and numerator > 3 else unit


def metric_accent(position: int, bar_length: int, beat: int) -> int:
    """Accent of a note ``position`` steps after its bar line, in a bar of ``bar_length`` steps."""
    if position == 0:
        return DOWNBEAT_ACCENT
    beats = bar_length // beat if beat else 0
    if beats >= 2 and beats % 2 == 0 and position == bar_length // 2:
        return MIDDLE_ACCENT
    return BEAT_ACCENT if beat and position % beat == 0 else OFFBEAT_ACCENT


def _phrases(piece: Piece) -> list[tuple[int, int]]:
    """``(start, end)`` steps of each phrase: the form's parts, else groups of PHRASE_BARS bars."""
    parts = piece.meta.get("parts") or []
    spans = []
    for part in parts:
        try:
            spans.append((int(part["start"]), int(part["end"])))
        except (KeyError, TypeError, ValueError):
            spans = []
            break
    if spans:
        return spans
    lines = list(piece.bars) or [0]
    if lines[-1] < piece.end:
        lines.append(piece.end)
    edges = lines[::PHRASE_BARS]
    if edges[-1] != lines[-1]:
        edges.append(lines[-1])
    return [(a, b) for a, b in zip(edges, edges[1:]) if b > a] or [(0, max(1, piece.end))]


def _arc(step: int, phrases: list[tuple[int, int]]) -> float:
    starts = [a for a, _ in phrases]
    index = max(0, bisect.bisect_right(starts, step) - 1)
    start, end = phrases[index]
    if step < start or step >= end:
        return 0.0  # a pickup before the first phrase, or past the last one
    x = (step - start) / (end - start)
    return ARC_DEPTH * (math.sin(math.pi * x) - 0.5)


def shaped_velocities(piece: Piece) -> list[int]:
    """MIDI velocity (1..127) of each of ``piece.notes``, in order (see the module docstring)."""
    lines = list(piece.bars)
    phrases = _phrases(piece)
    velocities = []
    for note in piece.notes:
        meter = piece.meter_at(note.start)
        index = bisect.bisect_right(lines, note.start) - 1
        if index + 1 < len(lines) and index >= 0:
            bar_start, bar_length = lines[index], lines[index + 1] - lines[index]
        elif lines and index < 0 and len(lines) >= 2:  # a pickup: count back from the first downbeat
            bar_length = lines[1] - lines[0]
            bar_start = lines[0] - bar_length
        else:
            bar_length = meter[0] * 4 * STEPS_PER_BEAT // meter[1] if meter else 4 * STEPS_PER_BEAT
            bar_start = lines[-1] if lines else 0
            bar_start += (note.start - bar_start) // bar_length * bar_length
        if meter is None:
            meter = (bar_length // STEPS_PER_BEAT, 4) if bar_length % STEPS_PER_BEAT == 0 else (bar_length // 6, 8)
        beat = _beat_steps(*meter) if meter[1] > 0 else STEPS_PER_BEAT
        accent = metric_accent(note.start - bar_start, bar_length, beat)
        value = BASE_VELOCITY + accent + _arc(note.start, phrases)
        velocities.append(int(min(MAX_VELOCITY, max(MIN_VELOCITY, round(value)))))
    return velocities
