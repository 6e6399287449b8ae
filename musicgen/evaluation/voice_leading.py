"""Voice-leading figures of four-voice pieces, as a teacher marks a chorale exercise.

Pure Python on ``Piece`` notes, no torch. A four-voice piece (codec 4) carries its voices
(0 soprano .. 3 bass); a piece without them is split by ``music.voices.separate_voices``.
The same rules are counted on real and generated pieces, so the report can set them side by side:

* parallel fifths and octaves (unisons included) per 100 voice-pair moves: two voices that both
  move, in the same direction, from a perfect fifth (or octave) to a perfect fifth (or octave),
  compound intervals counted as simple; a *move* is a pair of voices both sounding at two
  successive onsets of the piece with at least one of them changing pitch;
* crossings and spacing per 100 beats: a lower voice above the one over it; soprano-alto or
  alto-tenor more than an octave apart;
* notes outside each voice's textbook range (``TEXTBOOK_RANGES``), in percent of the voice's notes;
* beats (quarter notes) at which all four voices sound;
* the final chord: the bass on the tonic of the piece's key, the soprano on its 1st, 3rd or 5th;
* the bass's leaps larger than a fifth per 100 bass notes.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from ..music.keys import estimate_key
from ..music.piece import MAX_VOICES, STEPS_PER_BEAT, Note, Piece
from ..music.voices import separate_voices

# The ranges harmony textbooks give a chorale's voices (MIDI): soprano C4-A5, alto G3-D5,
# tenor C3-A4, bass E2-D4; the codec's grammar ranges (``codec.VOICE_RANGES``) are the corpus's.
TEXTBOOK_RANGES = ((60, 81), (55, 74), (48, 69), (40, 62))
PERFECT = (0, 7)  # interval classes of octaves (and unisons) and fifths, in semitones mod 12
OCTAVE = 12
FIFTH = 7


@dataclass
class VoiceLeading:
    """Counts of one or more pieces; ``figures`` turns them into rates."""

    moves: int = 0
    parallel_fifths: int = 0
    parallel_octaves: int = 0
    beats: int = 0
    full_beats: int = 0  # beats where all four voices sound
    crossings: int = 0
    wide_spacings: int = 0
    notes: tuple = (0, 0, 0, 0)  # per voice
    out_of_range: tuple = (0, 0, 0, 0)  # per voice
    bass_leaps: int = 0
    pieces: int = 0
    final_bass_tonic: int = 0
    final_soprano_chord_tone: int = 0

    def __add__(self, other: "VoiceLeading") -> "VoiceLeading":
        fields = {}
        for name, value in asdict(self).items():
            theirs = getattr(other, name)
            fields[name] = tuple(a + b for a, b in zip(value, theirs)) if isinstance(value, tuple) else value + theirs
        return VoiceLeading(**fields)

    def figures(self) -> dict:
        """Rates a musician reads: per 100 moves, per 100 beats, percents, shares of pieces."""

        def rate(count: int, per: int, scale: float = 100.0):
            return round(scale * count / per, 3) if per else None

        return {
            "pieces": self.pieces,
            "parallel_fifths_per_100_moves": rate(self.parallel_fifths, self.moves),
            "parallel_octaves_per_100_moves": rate(self.parallel_octaves, self.moves),
            "parallels_per_100_moves": rate(self.parallel_fifths + self.parallel_octaves, self.moves),
            "crossings_per_100_beats": rate(self.crossings, self.beats),
            "wide_spacing_per_100_beats": rate(self.wide_spacings, self.beats),
            "out_of_range_percent": [rate(o, n) for o, n in zip(self.out_of_range, self.notes)],
            "all_voices_sounding": rate(self.full_beats, self.beats, 1.0),
            "final_bass_on_tonic": rate(self.final_bass_tonic, self.pieces, 1.0),
            "final_soprano_on_1_3_5": rate(self.final_soprano_chord_tone, self.pieces, 1.0),
            "bass_leaps_over_fifth_per_100_notes": rate(self.bass_leaps, self.notes[3]),
        }


def piece_voices(piece: Piece) -> list[list[Note]]:
    """The piece's four voices (soprano first), each in time order."""
    return separate_voices(piece, MAX_VOICES)


def _sounding(voice: list[Note], step: int) -> int | None:
    """Pitch the voice sounds at ``step`` (the latest note started at or before it), or None."""
    pitch = None
    for note in voice:
        if note.start > step:
            break
        if note.end > step:
            pitch = note.pitch
    return pitch


def _parallels(voices: list[list[Note]], onsets: list[int]) -> tuple[int, int, int]:
    """(moves, parallel fifths, parallel octaves) over successive onsets."""
    moves = fifths = octaves = 0
    chords = [[_sounding(voice, step) for voice in voices] for step in onsets]
    for before, after in zip(chords, chords[1:]):
        for upper in range(MAX_VOICES):
            for lower in range(upper + 1, MAX_VOICES):
                a0, b0, a1, b1 = before[upper], before[lower], after[upper], after[lower]
                if None in (a0, b0, a1, b1) or (a0 == a1 and b0 == b1):
                    continue
                moves += 1
                first, second = abs(a0 - b0) % OCTAVE, abs(a1 - b1) % OCTAVE
                same_way = (a1 - a0) * (b1 - b0) > 0
                if same_way and first == second and first in PERFECT:
                    if first == 0:
                        octaves += 1
                    else:
                        fifths += 1
    return moves, fifths, octaves


def measure(piece: Piece) -> VoiceLeading:
    """The voice-leading counts of one four-voice piece."""
    voices = piece_voices(piece)
    onsets = sorted({note.start for note in piece.notes})
    if not onsets:
        return VoiceLeading()
    moves, fifths, octaves = _parallels(voices, onsets)
    beats = full = crossings = wide = 0
    for step in range(0, piece.length, STEPS_PER_BEAT):
        chord = [_sounding(voice, step) for voice in voices]
        if all(pitch is None for pitch in chord):
            continue
        beats += 1
        full += all(pitch is not None for pitch in chord)
        for upper in range(MAX_VOICES - 1):
            a, b = chord[upper], chord[upper + 1]
            if a is not None and b is not None:
                crossings += b > a
                wide += upper < 2 and a - b > OCTAVE
    notes = tuple(len(voice) for voice in voices)
    out = tuple(sum(not low <= n.pitch <= high for n in voice) for voice, (low, high) in zip(voices, TEXTBOOK_RANGES))
    bass = voices[3]
    leaps = sum(abs(b.pitch - a.pitch) > FIFTH for a, b in zip(bass, bass[1:]))
    tonic, mode = estimate_key(piece)
    last = onsets[-1]
    final = [_sounding(voice, last) for voice in voices]
    third = 3 if mode == "minor" else 4
    return VoiceLeading(
        moves=moves,
        parallel_fifths=fifths,
        parallel_octaves=octaves,
        beats=beats,
        full_beats=full,
        crossings=crossings,
        wide_spacings=wide,
        notes=notes,
        out_of_range=out,
        bass_leaps=leaps,
        pieces=1,
        final_bass_tonic=int(final[3] is not None and final[3] % 12 == tonic),
        final_soprano_chord_tone=int(final[0] is not None and (final[0] - tonic) % 12 in (0, third, FIFTH)),
    )


def measure_all(pieces) -> VoiceLeading:
    """The summed counts of several pieces."""
    total = VoiceLeading()
    for piece in pieces:
        total = total + measure(piece)
    return total
