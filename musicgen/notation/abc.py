"""ABC notation (abcnotation.com, standard 2.1) for one-voice pieces, written by hand: music21
reads ABC but does not write it.

Headers X: T: C: R: M: L: Q: K: (plus ``%%MIDI`` lines for abc2midi: the instrument, and chords
not strummed), then the bars of
``layout.score_bars``: ``|:`` and ``:|`` around each repeated part, ``[M:3/4]`` at a change of
metre, ``|]`` at the end, four bars a line. Lengths are in L:1/8 units (``c2`` a quarter, ``c/2``
a sixteenth, ``(3cde`` three triplet eighths, ``c5/6`` where no plain value fits). Notes held
across a bar line are tied (``c2-|c``). Accidentals are written against the key signature and
hold to the end of the bar, per letter and octave; one is repeated on a tied note after a bar
line and whenever another octave of the letter was altered in the bar, so every reader agrees.

A piece of several voices (a chorale) raises ValueError: ABC's one-voice tune is no place for
four parts; write MusicXML. A chord in a one-voice piece is written as an ABC chord ``[ce]``.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

from ..music.meter import Meter
from ..music.piece import STEPS_PER_BEAT, Piece
from ..music.voices import Event, bar_events
from .layout import Bar, score_bars
from .musicxml import ScoreInfo
from .spelling import Key, key_of_piece, spell

UNIT_STEPS = STEPS_PER_BEAT // 2  # L:1/8, the unit of every note length
BARS_PER_LINE = 4
TRIPLET_NOTES = (2, 4, 8)  # steps of a triplet 16th, eighth and quarter
ACCIDENTALS = {-2: "__", -1: "_", 0: "=", 1: "^", 2: "^^"}
DANCE_RHYTHMS = ("reel", "jig", "hornpipe")  # genres whose name is the ABC R: field


def _is_compound(meter: Meter) -> bool:
    return meter[1] == 8 and meter[0] % 3 == 0 and meter[0] > 3


def _beam_group(meter: Meter) -> int:
    """Steps between the spaces that break beams: a dotted quarter in 6/8, a half in 4/4 and 2/2,
    else one beat."""
    if _is_compound(meter):
        return 3 * UNIT_STEPS
    if meter in ((4, 4), (2, 2)) or meter[1] == 2:
        return 2 * STEPS_PER_BEAT
    return 4 * STEPS_PER_BEAT // meter[1] if meter[1] <= 4 else 3 * UNIT_STEPS


def length_text(steps: int | Fraction) -> str:
    """An ABC length in L:1/8 units: 6 steps -> "", 12 -> "2", 3 -> "/2", 9 -> "3/2"."""
    units = Fraction(steps) / UNIT_STEPS
    if units == 1:
        return ""
    if units.denominator == 1:
        return str(units.numerator)
    return (str(units.numerator) if units.numerator != 1 else "") + f"/{units.denominator}"


def _letter_text(letter: str, octave: int) -> str:
    """ABC note name: C = middle C (octave 4), c the octave above, c' and C, further out."""
    if octave >= 5:
        return letter.lower() + "'" * (octave - 5)
    return letter + "," * (4 - octave)


class _BarSpeller:
    """Accidentals of one bar against the key signature (state per letter and octave)."""

    def __init__(self, key: Key):
        self.key, self.signature = key, key.signature
        self.state: dict[tuple[str, int], int] = {}

    def text(self, midi: int) -> str:
        letter, alter, octave = spell(midi, self.key)
        in_force = self.state.get((letter, octave), self.signature[letter])
        other_octaves = any(name == letter and o != octave for (name, o) in self.state)
        marked = alter != in_force or other_octaves
        if marked:
            self.state[(letter, octave)] = alter
        return (ACCIDENTALS[alter] if marked else "") + _letter_text(letter, octave)


def _event_text(event: Event, length: str, speller: _BarSpeller) -> str:
    if not event.pitches:
        return "z" + length
    names = []
    for midi in event.pitches:
        names.append(speller.text(midi) + ("-" if midi in event.tied_out else ""))
    if len(names) == 1:
        name = names[0]
        return name[:-1] + length + "-" if name.endswith("-") else name + length
    return "[" + "".join(names) + "]" + length


def _bar_text(bar: Bar, notes, key: Key) -> str:
    """The notes of one bar, with spaces between beam groups and triplets marked."""
    events = bar_events(notes, bar.start, bar.end)
    origin = bar.end if bar.number == 0 else bar.start  # a pickup counts back from its downbeat
    group = _beam_group(bar.meter)
    speller = _BarSpeller(key)
    words: list[str] = []
    index = 0
    while index < len(events):
        event = events[index]
        position = (event.start - origin) % group if group else 1
        triple = events[index : index + 3]
        is_triplet = (
            len(triple) == 3
            and event.duration in TRIPLET_NOTES
            and all(e.duration == event.duration for e in triple)
            and (event.start - origin) % (3 * event.duration) == 0
        )
        chunk = triple if is_triplet else [event]
        shown = Fraction(event.duration * 3, 2) if is_triplet else event.duration  # written value
        text = "".join(_event_text(e, length_text(shown), speller) for e in chunk)
        if is_triplet:
            text = "(3" + text
        if position == 0 or event.duration >= STEPS_PER_BEAT or not words:
            words.append(text)
        else:
            words[-1] += text
        index += len(chunk)
    return " ".join(words)


def _bar_line(before: Bar | None, after: Bar | None) -> str:
    """The bar line between two written bars (None at the start or end of the tune)."""
    ends = before is not None and before.repeat_end
    starts = after is not None and after.repeat_start
    if after is None:
        return ":|" if ends else "|]"
    if ends and starts:
        return ":||:"
    if ends:
        return ":|"
    if starts:
        return "|:"
    return "|" if before is not None else ""


def _abc_tempo(tempo: float, meter: Meter) -> str:
    if _is_compound(meter):
        return f"3/8={round(tempo * 2 / 3)}"
    return f"1/4={round(tempo)}"


def piece_to_abc(piece: Piece, info: ScoreInfo, genre: str = "") -> str:
    """ABC text of a one-voice piece; ValueError for a piece of several voices."""
    if info.voices > 1:
        raise ValueError(
            f"ABC holds one-voice tunes; this piece is written in {info.voices} voices: export it as .musicxml instead"
        )
    key = key_of_piece(piece)
    bars = score_bars(piece)
    first_meter = bars[0].meter
    title = " ".join(str(info.title).split()) or "Untitled"
    lines = ["X:1", f"T:{title}", f"C:{info.composer}"]
    if genre in DANCE_RHYTHMS:
        lines.append(f"R:{genre}")
    lines += [
        f"M:{first_meter[0]}/{first_meter[1]}",
        "L:1/8",
        f"Q:{_abc_tempo(info.tempo, first_meter)}",
        f"%%MIDI program {int(info.program)}",
        "%%MIDI chordattack 0",  # chord notes together
        f"K:{key.tonic}{'m' if key.mode == 'minor' else ''}",
    ]
    notes = list(piece.notes)
    body, line = [], ""
    whole_bars = 0  # bars written so far, the pickup not counted
    for index, bar in enumerate(bars):
        previous = bars[index - 1] if index else None
        line += _bar_line(previous, bar)
        if whole_bars and whole_bars % BARS_PER_LINE == 0 and previous.number > 0:
            body.append(line.strip())  # the line ends with the bar line, the next starts on a bar
            line = ""
        if bar.new_meter and previous is not None and bar.meter != previous.meter:
            line += f"[M:{bar.meter[0]}/{bar.meter[1]}]"
        line += " " + _bar_text(bar, notes, key) + " "
        whole_bars += bar.number > 0
    line += _bar_line(bars[-1], None)
    body.append(line.strip())
    return "\n".join(lines + body) + "\n"


def write_abc(piece: Piece, path, info: ScoreInfo, genre: str = "") -> Path:
    """Write the piece as an ABC file atomically."""
    from ..files.writing import atomic_write_text

    return atomic_write_text(path, piece_to_abc(piece, info, genre))
