"""The room a four-voice piece's voices have left in their sung ranges, as a grammar rule.

The network writes a chorale in whatever key it wanders into; ``Generator`` then moves the piece
to a key drawn from the style's real keys. A voice's range is therefore a rule about the piece
*after* that move: every voice must fit its style's sung range (``dataset.sung_ranges``: Bach's
soprano 60-78, bass 40-61) under one and the same transposition. ``RangeRoom`` keeps the
transpositions (semitones) that still fit every note written so far, and gives each voice the
pitches it may sing without closing them off (``bounds``). It keeps ``slack`` + 1 transpositions
open, so the key can still be drawn among the style's real keys (no two tonics in a row are missing
from Bach's keys in either mode: one spare semitone always reaches one of them).

Like the bar lines, it masks only what no piece of the style does; where a voice moves, its
parallels, spacing and crossings are left to the network.
"""

from __future__ import annotations

from dataclasses import dataclass

RANGE_SLACK = 1  # semitones of transposition kept open beyond one (the key is drawn among them)
UNBOUNDED = 128  # semitones: no note written yet limits the transposition


@dataclass(frozen=True)
class RangeRoom:
    """Sung ranges (per voice (low, high) MIDI, in the key the piece will be moved to) and the
    transpositions ``shifts`` = (lowest, highest) semitones that keep every note so far in them."""

    ranges: tuple[tuple[int, int], ...]
    slack: int = RANGE_SLACK
    shifts: tuple[int, int] = (-UNBOUNDED, UNBOUNDED)

    @classmethod
    def of(cls, ranges, slack: int = RANGE_SLACK) -> RangeRoom:
        """A room for a piece not begun, from ``ranges`` (a [low, high] pair per voice)."""
        return cls(tuple((int(low), int(high)) for low, high in ranges), slack)

    def bounds(self, voice: int) -> tuple[int, int]:
        """(lowest, highest) MIDI pitch ``voice`` may sing now: a note outside would leave fewer than
        ``slack`` + 1 transpositions that fit every voice."""
        low, high = self.ranges[voice]
        least, most = self.shifts
        return low - most + self.slack, high - least - self.slack

    def sing(self, voice: int, pitch: int) -> RangeRoom:
        """The room after ``voice`` sings ``pitch`` (MIDI)."""
        low, high = self.ranges[voice]
        least, most = self.shifts
        return RangeRoom(self.ranges, self.slack, (max(least, low - pitch), min(most, high - pitch)))


__all__ = ["RANGE_SLACK", "RangeRoom"]
