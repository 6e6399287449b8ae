"""Key signatures and note spelling: which letter and accidental a MIDI pitch is written with.

A key is ``fifths`` (sharps > 0, flats < 0, as in MusicXML) plus its mode. Notes of the key's
scale take the key's letters; the raised 6th and 7th of a minor key are written on their own
letters (G# in A minor, C# in D minor); other chromatic notes are sharps in sharp keys and C
major, flats in flat keys.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..music.keys import MINOR, estimate_key, key_name
from ..music.piece import Piece

LETTERS = "CDEFGAB"
NATURAL_PC = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}
LETTER_FIFTHS = {"F": -1, "C": 0, "G": 1, "D": 2, "A": 3, "E": 4, "B": 5}  # major keys on naturals
SHARP_ORDER, FLAT_ORDER = "FCGDAEB", "BEADGCF"
RELATIVE_MAJOR_FIFTHS = 3  # a minor key has three fifths fewer than the major key on its tonic


@dataclass(frozen=True)
class Key:
    """A key as a score writes it: ``tonic`` ("F#", "Bb"), ``mode`` ("major"/"minor"), ``fifths``."""

    tonic: str
    mode: str
    fifths: int

    @property
    def signature(self) -> dict[str, int]:
        """Letter -> alteration in semitones the key signature gives it (``{"F": 1}`` for G major)."""
        if self.fifths >= 0:
            return {letter: (1 if letter in SHARP_ORDER[: self.fifths] else 0) for letter in LETTERS}
        return {letter: (-1 if letter in FLAT_ORDER[: -self.fifths] else 0) for letter in LETTERS}


def key_of_piece(piece: Piece) -> Key:
    """The piece's key (Krumhansl-Schmuckler, ``musicgen.music.keys``) spelled as musicians name it."""
    tonic_pc, mode = estimate_key(piece)
    tonic = key_name(tonic_pc, mode).split()[0]  # "Bb major" -> "Bb"
    alter = {"#": 1, "b": -1}.get(tonic[1:], 0)
    fifths = LETTER_FIFTHS[tonic[0]] + 7 * alter - (RELATIVE_MAJOR_FIFTHS if mode == MINOR else 0)
    return Key(tonic, mode, fifths)


def spell(pitch: int, key: Key) -> tuple[str, int, int]:
    """``(letter, alteration, octave)`` of a MIDI pitch in ``key``: 61 in D major -> ("C", 1, 4)."""
    pc = pitch % 12
    signature = key.signature
    choice = next(
        ((letter, signature[letter]) for letter in LETTERS if (NATURAL_PC[letter] + signature[letter]) % 12 == pc), None
    )
    if choice is None and key.mode == MINOR:  # raised 6th and 7th on the key's own letters
        tonic_index = LETTERS.index(key.tonic[0])
        for degree in (6, 5):
            letter = LETTERS[(tonic_index + degree) % 7]
            if (NATURAL_PC[letter] + signature[letter] + 1) % 12 == pc:
                choice = (letter, signature[letter] + 1)
    if choice is None:
        natural = next((letter for letter in LETTERS if NATURAL_PC[letter] == pc), None)
        if natural is not None:
            choice = (natural, 0)
        elif key.fifths >= 0:
            choice = (next(letter for letter in LETTERS if NATURAL_PC[letter] == pc - 1), 1)
        else:
            choice = (next(letter for letter in LETTERS if NATURAL_PC[letter] == (pc + 1) % 12), -1)
    letter, alter = choice
    octave = (pitch - alter - NATURAL_PC[letter]) // 12 - 1
    return letter, alter, octave
