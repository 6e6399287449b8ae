"""Voices of a score: how many a piece is written in, which note goes to which, and the events
(notes, chords, rests, ties) a voice writes inside one bar.

Torch-free and music21-free, so MIDI writing (one track per voice) can use it too.

Voice separation (``separate_voices``), onset by onset:

* a voice whose note is still sounding keeps it;
* the notes that start at the onset go, highest first, to the free voices in voice order
  (soprano first), choosing the order-keeping pairing whose pitches lie nearest each voice's
  previous pitch (or its home register, before its first note): voices stay continuous lines;
* fewer new notes than free voices: the voices left without one rest until their next note;
  but a rest of at most ``MAX_UNISON_STEPS`` that another voice fills end to end, with notes within
  ``MAX_UNISON_LEAP`` of the resting voice's notes on either side, is a unison the codec merged
  (two voices on one pitch are one note in the tokens): the resting voice sings those notes too;
* more new notes than free voices: the order-keeping choice of notes nearest the free voices is
  placed, and each note left over joins the voice nearest in pitch as a chord note.

Every note of the piece lands in one voice, or in two for a unison (MIDI tracks then both play
it; reading the file back merges them into the one note again).
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations, groupby

from .piece import STEPS_PER_BEAT, Note, Piece

# Genres written in several real voices, with their voice count; the others are one line.
POLYPHONIC_GENRES: dict[str, int] = {"bach": 4, "palestrina": 4}
MAX_SCORE_VOICES = 4  # voices a score or MIDI file is split into at most
VOICE_NAMES: dict[int, tuple[str, ...]] = {
    1: ("Melody",),
    2: ("Soprano", "Bass"),
    3: ("Soprano", "Alto", "Bass"),
    4: ("Soprano", "Alto", "Tenor", "Bass"),
}
# Home registers (MIDI pitches) a voice is measured from before its first note, top voice first:
# C5, F4, A3, C3 for four voices (the middle of each SATB range).
HOME_PITCHES: dict[int, tuple[int, ...]] = {1: (67,), 2: (72, 48), 3: (72, 62, 48), 4: (72, 65, 57, 48)}
MAX_PAIRINGS = 5000  # order-keeping pairings tried at one onset before taking evenly spread ones
MAX_UNISON_STEPS = 2 * STEPS_PER_BEAT  # longest rest that may be a merged unison (a half note)
MAX_UNISON_LEAP = 7  # semitones (a fifth) from the voice's notes around it to the unison


def voice_names(count: int) -> tuple[str, ...]:
    """Names of ``count`` voices, top first ("Soprano", "Alto", "Tenor", "Bass" for four)."""
    return VOICE_NAMES.get(count, tuple(f"Voice {k + 1}" for k in range(count)))


def genre_of(spec: str | None) -> str:
    """Main genre of a genre text: ``"bach"``, or the heaviest part of ``"bach=0.7,reel=0.3"``."""
    best, best_weight = "", -1.0
    for part in str(spec or "").split(","):
        name, _, weight = part.partition("=")
        try:
            value = float(weight) if weight.strip() else 1.0
        except ValueError:
            value = 0.0
        if name.strip() and value > best_weight:
            best, best_weight = name.strip().lower(), value
    return best


def voices_for_genre(genre: str | None) -> int:
    """Voices a piece of ``genre`` (a genre key or blend text) is written in: 4 for chorales and
    Palestrina, else 1."""
    return POLYPHONIC_GENRES.get(genre_of(genre), 1)


def max_polyphony(piece: Piece) -> int:
    """Most notes sounding at once anywhere in the piece (0 for an empty piece)."""
    changes = sorted([(n.start, 1) for n in piece.notes] + [(n.end, -1) for n in piece.notes])
    most = sounding = 0
    for _, delta in changes:  # ends sort before starts at the same step
        sounding += delta
        most = max(most, sounding)
    return most


def _home(count: int) -> list[int]:
    if count in HOME_PITCHES:
        return list(HOME_PITCHES[count])
    return [round(76 - k * 36 / max(1, count - 1)) for k in range(count)]  # E5 down to E2


def _pairings(small: int, large: int):
    """Order-keeping choices of ``small`` of ``large`` indices (a bounded number of them)."""
    options = combinations(range(large), small)
    chosen = []
    for option in options:
        chosen.append(option)
        if len(chosen) > MAX_PAIRINGS:  # a huge cluster: evenly spread choices only
            spread = tuple(round(k * (large - 1) / max(1, small - 1)) for k in range(small))
            return [spread if small > 1 else (0,)]
    return chosen


def _pair(pitches: list[int], voices: list[int], reference: list[int]) -> list[tuple[int, int]]:
    """Best order-keeping (pitch index, voice) pairs: ``pitches`` high to low, ``voices`` top down."""

    def cost(pairs):
        return sum(abs(pitches[p] - reference[v]) for p, v in pairs)

    if len(pitches) <= len(voices):
        options = [
            list(zip(range(len(pitches)), (voices[i] for i in chosen)))
            for chosen in _pairings(len(pitches), len(voices))
        ]
    else:
        options = [list(zip(chosen, voices)) for chosen in _pairings(len(voices), len(pitches))]
    return min(options, key=cost) if options else []


def separate_voices(piece: Piece, count: int) -> list[list[Note]]:
    """Split the piece's notes into ``count`` voices, top voice (soprano) first; each voice's notes
    in time order. A voiced piece (codec 4) asked for four keeps its notes' own voices; else see
    the module docstring for the rule."""
    if count < 1:
        raise ValueError(f"a score needs at least one voice, got {count}")
    voices: list[list[Note]] = [[] for _ in range(count)]
    if piece.voiced and count == MAX_SCORE_VOICES:  # codec 4: each note knows its voice
        for note in piece.notes:
            voices[note.voice].append(note)
        return voices
    if count == 1:
        voices[0] = list(piece.notes)
        return voices
    reference = _home(count)  # last pitch of each voice
    busy_until = [0] * count  # step at which each voice's last note ends
    for onset, group in groupby(piece.notes, key=lambda n: n.start):
        new = sorted(group, key=lambda n: -n.pitch)
        free = [v for v in range(count) if busy_until[v] <= onset]
        pairs = _pair([n.pitch for n in new], free, reference)
        placed = set()
        for index, voice in pairs:
            voices[voice].append(new[index])
            placed.add(index)
        for index, voice in pairs:
            reference[voice] = new[index].pitch
        for index, note in enumerate(new):
            if index in placed:
                continue
            voice = min(range(count), key=lambda v: (abs(reference[v] - note.pitch), v))
            voices[voice].append(note)
        for voice in range(count):
            if voices[voice] and voices[voice][-1].start == onset:
                busy_until[voice] = max(n.end for n in voices[voice] if n.start == onset)
    return _sing_unisons([sorted(v) for v in voices])


def _tiling(notes: list[Note], start: int, end: int) -> list[Note] | None:
    """The notes of one voice that fill ``[start, end)`` end to end, one at a time (the last one cut
    at ``end``), or None when they do not."""
    run, position = [], start
    for note in notes:
        if not start <= note.start < end:
            continue
        if note.start != position:
            return None  # a gap, or a chord: not one line filling the rest
        run.append(Note(note.start, note.pitch, min(note.end, end) - note.start))
        position = run[-1].end
    return run if run and position == end else None


def _sing_unisons(voices: list[list[Note]]) -> list[list[Note]]:
    """Fill each short rest between two notes of a voice with the notes of another voice that fill
    it exactly and lie near the resting voice's line (see the module docstring)."""
    filled = [list(v) for v in voices]
    for index, notes in enumerate(voices):
        for before, after in zip(notes, notes[1:]):
            if not 0 < after.start - before.end <= MAX_UNISON_STEPS:
                continue
            options = []
            for other, others in enumerate(voices):
                run = _tiling(others, before.end, after.start) if other != index else None
                if (
                    run
                    and abs(run[0].pitch - before.pitch) <= MAX_UNISON_LEAP
                    and abs(run[-1].pitch - after.pitch) <= MAX_UNISON_LEAP
                ):
                    options.append((abs(run[0].pitch - before.pitch), other, run))
            if options:
                filled[index].extend(min(options)[2])
    return [sorted(v) for v in filled]


@dataclass(frozen=True)
class Event:
    """What one voice writes from ``start`` for ``duration`` steps: a rest (no pitches), a note or
    a chord; ``tied_in`` pitches continue a note from before, ``tied_out`` ones go on after."""

    start: int
    duration: int
    pitches: tuple[int, ...]  # low to high; () = rest
    tied_in: frozenset = frozenset()
    tied_out: frozenset = frozenset()


def bar_events(notes: list[Note], start: int, end: int) -> list[Event]:
    """The events of one voice in the bar ``[start, end)`` (steps), filling it: notes cut at the
    bar lines and at every other note's start or end, tied across the cuts; gaps are rests."""
    inside = [n for n in notes if n.start < end and n.end > start]
    cuts = {start, end}
    for note in inside:
        cuts.update(step for step in (note.start, note.end) if start < step < end)
    points = sorted(cuts)
    events = []
    for left, right in zip(points, points[1:]):
        sounding = [n for n in inside if n.start <= left and n.end >= right]
        events.append(
            Event(
                left,
                right - left,
                tuple(sorted(n.pitch for n in sounding)),
                frozenset(n.pitch for n in sounding if n.start < left),
                frozenset(n.pitch for n in sounding if n.end > right),
            )
        )
    merged: list[Event] = []
    for event in events:  # one rest for a silent stretch
        if merged and not event.pitches and not merged[-1].pitches:
            last = merged.pop()
            event = Event(last.start, last.duration + event.duration, ())
        merged.append(event)
    return merged
