"""Voices for a piece that has none: a user's MIDI tracks, a primer, a melody to harmonise.

Codec 4 writes every note of a four-voice piece in its voice (0 soprano .. 3 bass) and a one-line
tune as voice 0, one note at a time. A MIDI file says nothing of voices, so:

* a piece with never two notes at once is one line (voice 0);
* two to four tracks (or channels) that each play one note at a time are voices, ordered by their
  mean pitch (the highest is the soprano, the lowest the bass; 3 tracks leave the alto empty);
* anything else is split by ``music.voices.separate_voices`` into four voices, each then made
  one line (its top note at each onset, each note cut where the voice's next begins).
"""

from __future__ import annotations

from .piece import MAX_VOICES, Note, Piece, make_piece
from .voices import max_polyphony, separate_voices

VOICES_BY_COUNT = {1: (0,), 2: (0, 3), 3: (0, 2, 3), 4: (0, 1, 2, 3)}  # lines top down -> voices


def line_notes(notes) -> list[tuple[int, int, int]]:
    """``(start, pitch, duration)`` of one line: the top note of each onset, cut where the next begins."""
    tops: dict[int, tuple[int, int]] = {}
    for note in notes:
        start, pitch, duration = (note.start, note.pitch, note.duration) if isinstance(note, Note) else note[:3]
        if start not in tops or pitch > tops[start][0]:
            tops[start] = (pitch, duration)
    starts = sorted(tops)
    line = []
    for start, after in zip(starts, starts[1:] + [None]):
        pitch, duration = tops[start]
        line.append((start, pitch, duration if after is None else min(duration, after - start)))
    return line


def _rebuild(piece: Piece, raw) -> Piece:
    return make_piece(raw, piece.bars, piece.primer_end, piece.meta, piece.meters, piece.last_bars)


def as_one_line(piece: Piece) -> Piece:
    """The piece as one voice (voice 0), one note at a time."""
    return _rebuild(piece, [(*note, 0) for note in line_notes(piece.notes)])


def voices_from_lines(piece: Piece, lines: list[list[tuple[int, int, int]]]) -> Piece | None:
    """The piece in the voices given by ``lines`` (each a track's notes ``(start, pitch,
    duration)``) when there are 2..4 of them and each plays one note at a time; else None."""
    lines = [line for line in lines if line]
    if not 2 <= len(lines) <= MAX_VOICES:
        return None
    for line in lines:
        ordered = sorted(line)
        if any(b[0] < a[0] + a[2] for a, b in zip(ordered, ordered[1:])):
            return None  # a chord or an overlap: not one line
    lines.sort(key=lambda line: -sum(note[1] for note in line) / len(line))
    raw = [(*note, voice) for line, voice in zip(lines, VOICES_BY_COUNT[len(lines)]) for note in line]
    return _rebuild(piece, raw)


def assign_voices(piece: Piece, lines: list[list[tuple[int, int, int]]] | None = None) -> Piece:
    """The piece with voices (see the module docstring); a piece that has them is returned as it is."""
    if piece.voiced or not piece.notes:
        return piece
    if max_polyphony(piece) <= 1:
        return piece  # one line already: every note is voice 0
    if lines is not None:
        voiced = voices_from_lines(piece, lines)
        if voiced is not None:
            return voiced
    raw = []
    for voice, notes in enumerate(separate_voices(piece, MAX_VOICES)):
        raw.extend((*note, voice) for note in line_notes(notes))
    return _rebuild(piece, raw)
