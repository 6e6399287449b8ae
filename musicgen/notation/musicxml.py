"""MusicXML scores through music21: one part per voice, the piece's metre, key, pickup, repeats,
tempo and instrument.

Each voice's bar is filled with its ``voices.bar_events``; an event whose length is no single
note value (5 steps) is written as tied notes of values that are (a 16th and a 16th triplet), so
the score plays exactly the piece's notes.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache
from pathlib import Path

from ..music.meter import Meter
from ..music.piece import STEPS_PER_BEAT, Note, Piece
from ..music.voices import bar_events, separate_voices, voice_names
from .layout import Bar, score_bars
from .spelling import Key, key_of_piece, spell

# Note values in steps a score can show as one note: breve down to 16th, dotted ones, and the
# triplet values (16 = half-note triplet ... 1 = 32nd triplet).
PLAIN_VALUES = (96, 72, 48, 36, 24, 18, 12, 9, 6, 3)
TRIPLET_VALUES = (16, 8, 4, 2, 1)
TREBLE_LOWEST = 60  # a voice whose median pitch is at least middle C is written in the treble clef


@dataclass(frozen=True)
class ScoreInfo:
    """What a score shows besides the notes: title, tempo (quarter notes per minute), General MIDI
    program, voice count, and the names written on the parts (one per voice)."""

    title: str
    tempo: float
    program: int
    voices: int
    composer: str = "musicgen"


@lru_cache(maxsize=None)
def note_values(steps: int) -> tuple[int, ...]:
    """Fewest single note values (longest first, plain before triplet) adding up to ``steps``."""
    if steps <= 0:
        return ()
    best = None
    for value in PLAIN_VALUES + TRIPLET_VALUES:
        if value > steps:
            continue
        rest = note_values(steps - value)
        option = tuple(sorted((value, *rest), key=lambda v: (v in TRIPLET_VALUES, -v)))
        score = (len(option), sum(v in TRIPLET_VALUES for v in option))
        if best is None or score < best[0]:
            best = (score, option)
    return best[1]


def _quarters(steps: int) -> Fraction:
    return Fraction(steps, STEPS_PER_BEAT)


def _m21_pitch(midi: int, key: Key):
    from music21 import pitch

    letter, alter, octave = spell(midi, key)
    written = pitch.Pitch(letter + {-2: "--", -1: "-", 0: "", 1: "#", 2: "##"}[alter] + str(octave))
    assert written.midi == midi, (midi, written)
    return written


def _tie(pitch_midi: int, first: bool, last: bool, event) -> str | None:
    """music21 tie type of one pitch in one piece of an event split into tied values."""
    before = pitch_midi in event.tied_in or not first
    after = pitch_midi in event.tied_out or not last
    if before and after:
        return "continue"
    return "stop" if before else ("start" if after else None)


def _event_elements(event, key: Key) -> list:
    """music21 notes, chords or rests for one event, in order."""
    from music21 import chord, note, tie

    values = note_values(event.duration)
    elements = []
    for index, value in enumerate(values):
        first, last = index == 0, index == len(values) - 1
        length = _quarters(value)
        if not event.pitches:
            elements.append(note.Rest(quarterLength=length))
            continue
        written = [note.Note(_m21_pitch(p, key), quarterLength=length) for p in event.pitches]
        for single, midi in zip(written, event.pitches):
            kind = _tie(midi, first, last, event)
            if kind:
                single.tie = tie.Tie(kind)
        if len(written) == 1:
            elements.append(written[0])
        else:
            element = chord.Chord(written, quarterLength=length)
            for single, midi in zip(element.notes, event.pitches):  # per-note ties of the chord
                kind = _tie(midi, first, last, event)
                single.tie = tie.Tie(kind) if kind else None
            elements.append(element)
    return elements


def _clef_for(notes: list[Note], name: str):
    from music21 import clef

    if not notes:
        return clef.TrebleClef()
    median = sorted(n.pitch for n in notes)[len(notes) // 2]
    if name == "Tenor":
        return clef.Treble8vbClef()
    return clef.TrebleClef() if median >= TREBLE_LOWEST else clef.BassClef()


def _metronome(tempo: float, meter: Meter):
    """Tempo mark: dotted quarters in compound metres (6/8, 9/8, 12/8), else quarters."""
    from music21 import note
    from music21 import tempo as m21tempo

    if meter[1] == 8 and meter[0] % 3 == 0 and meter[0] > 3:
        return m21tempo.MetronomeMark(number=round(tempo * 2 / 3), referent=note.Note(type="quarter", dots=1))
    return m21tempo.MetronomeMark(number=round(tempo), referent=note.Note(type="quarter"))


def _measure(bar: Bar, notes: list[Note], key: Key, first: bool):
    from music21 import bar as m21bar
    from music21 import meter, stream

    measure = stream.Measure(number=bar.number)
    if bar.number == 0:
        measure.showNumber = stream.enums.ShowNumber.NEVER  # written as implicit="yes": a pickup
        full = bar.meter[0] * 4 * STEPS_PER_BEAT // bar.meter[1]
        measure.paddingLeft = _quarters(full - bar.steps)
    if bar.new_meter or first:
        measure.timeSignature = meter.TimeSignature(f"{bar.meter[0]}/{bar.meter[1]}")
    for event in bar_events(notes, bar.start, bar.end):
        for element in _event_elements(event, key):
            measure.append(element)
    if bar.repeat_start:
        measure.leftBarline = m21bar.Repeat(direction="start")
    if bar.repeat_end:
        measure.rightBarline = m21bar.Repeat(direction="end")
    elif bar.final:
        measure.rightBarline = m21bar.Barline("final")
    return measure


def build_score(piece: Piece, info: ScoreInfo):
    """A music21 Score of the piece: ``info.voices`` parts, top voice first."""
    from music21 import instrument, metadata, stream
    from music21 import key as m21key

    key = key_of_piece(piece)
    bars = score_bars(piece)
    voices = separate_voices(piece, info.voices)
    names = voice_names(info.voices)
    score = stream.Score()
    score.metadata = metadata.Metadata(title=info.title, composer=info.composer)
    for index, (notes, name) in enumerate(zip(voices, names)):
        part = stream.Part(id=f"P{index + 1}")
        player = instrument.instrumentFromMidiProgram(info.program)
        player.midiProgram = info.program
        if info.voices > 1:
            player.partName, player.partAbbreviation = name, name[0] + "."
        else:
            player.partName = player.instrumentName or name
        part.partName = player.partName
        part.insert(0, player)
        for position, bar in enumerate(bars):
            measure = _measure(bar, notes, key, first=position == 0)
            if position == 0:
                measure.insert(0, _clef_for(notes, name))
                measure.insert(0, m21key.KeySignature(key.fifths).asKey(key.mode))
                if index == 0:
                    measure.insert(0, _metronome(info.tempo, bar.meter))
            part.append(measure)
        score.insert(0, part)
    return score


def write_musicxml(piece: Piece, path, info: ScoreInfo) -> Path:
    """Write the piece as a MusicXML file atomically."""
    from music21.musicxml.m21ToXml import GeneralObjectExporter

    from ..files.writing import atomic_write_bytes

    data = GeneralObjectExporter(build_score(piece, info)).parse()  # bytes of the whole document

    def write(temp):
        with open(temp, "wb") as handle:
            handle.write(data)

    return atomic_write_bytes(path, write)
